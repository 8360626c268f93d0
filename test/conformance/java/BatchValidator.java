import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import javax.xml.XMLConstants;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.Schema;
import javax.xml.validation.SchemaFactory;
import javax.xml.validation.Validator;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXParseException;

/**
 * Validates many documents in one JVM, the same way xsd-schema-validator's helper does
 * (SchemaFactory for W3C XML Schema, Validator over a StreamSource of the file), so the
 * conformance suite compares verdicts without paying a JVM start per document.
 * Input lines: "<xsd path>\t<xml path>". Output per document: "DOC <n>", then
 * "ERR <severity> <line> <column> <message>" lines, then "END".
 */
public class BatchValidator {
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    Map<String, Schema> schemas = new HashMap<>();
    String line;
    int n = 0;
    while ((line = in.readLine()) != null) {
      if (line.isEmpty()) continue;
      String[] parts = line.split("\t", 2);
      out.println("DOC " + n++);
      try {
        Schema schema = schemas.get(parts[0]);
        if (schema == null) {
          schema = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI).newSchema(new File(parts[0]));
          schemas.put(parts[0], schema);
        }
        Validator validator = schema.newValidator();
        validator.setErrorHandler(new ErrorHandler() {
          private void report(String severity, SAXParseException e) {
            out.println("ERR " + severity + " " + e.getLineNumber() + " " + e.getColumnNumber() + " " + String.valueOf(e.getMessage()).replace('\n', ' '));
          }
          public void warning(SAXParseException e) { report("warning", e); }
          public void error(SAXParseException e) { report("error", e); }
          public void fatalError(SAXParseException e) { report("fatal", e); }
        });
        validator.validate(new StreamSource(new File(parts[1])));
      } catch (SAXParseException e) {
        // Already reported through fatalError.
      } catch (Exception e) {
        out.println("ERR fatal -1 -1 " + String.valueOf(e.getMessage()).replace('\n', ' '));
      }
      out.println("END");
      out.flush();
    }
  }
}
