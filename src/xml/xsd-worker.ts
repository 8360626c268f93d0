/**
 * The XSD engine's thread: libxml2 (compiled to WebAssembly) validating one document at
 * a time against schemas compiled once, when the thread starts.
 *
 * Nothing here may reach outside: the schema files arrive as bytes from the parent, one
 * input provider claims every name libxml2 asks for and serves only those bytes, and the
 * parser is told to load no DTD, no external entity and nothing over a network. A
 * document that carries a DTD anyway is refused before it is validated.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  ParseOption,
  XmlBufferInputProvider,
  XmlDocument,
  XmlLibError,
  XsdValidator,
  xmlRegisterInputProvider,
  type ErrorDetail,
} from 'libxml2-wasm';
import type { EngineJob, EngineReply, EngineDetail, EngineInit } from './xsd-protocol.ts';
import { coerceError } from '../errors.ts';

const init = workerData as EngineInit;

const served = new XmlBufferInputProvider(init.files);
xmlRegisterInputProvider({
  // Claim every name, so that no other loader is ever asked; open only our schemas.
  match: () => true,
  open: (name) => (Object.hasOwn(init.files, name) ? served.open(name) : undefined),
  read: (fd, buf) => served.read(fd, buf),
  close: (fd) => served.close(fd),
});

/** No entity substitution, no DTD loading, no external entities, no network, no catalogs. */
const PARSE_OPTIONS =
  ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_NO_SYS_CATALOG | ParseOption.XML_PARSE_BIG_LINES;

const validators = new Map<string, XsdValidator>();
for (const [name, file] of Object.entries(init.entries)) {
  const doc = XmlDocument.fromBuffer(init.files[file]!, { url: file, option: PARSE_OPTIONS });
  try {
    validators.set(name, XsdValidator.fromDoc(doc));
  } finally {
    doc.dispose();
  }
}

const toDetail = (d: ErrorDetail): EngineDetail => ({ line: d.line, column: d.col, message: d.message.trim() });

function errorsOf(err: unknown): ErrorDetail[] | undefined {
  return err instanceof XmlLibError ? err.details.filter((d) => d.level >= 2) : undefined;
}

function run(job: EngineJob): EngineReply {
  let doc: XmlDocument;
  try {
    // The same parse as fromString, whose UTF-8 encoding in JavaScript costs as much as the parse itself.
    const bytes = typeof job.text === 'string' ? Buffer.from(job.text, 'utf8') : job.text;
    doc = XmlDocument.fromBuffer(bytes, { url: 'document.xml', option: PARSE_OPTIONS });
  } catch (err) {
    const details = errorsOf(err);
    if (!details) throw err;
    const first = details[0];
    return { id: job.id, kind: 'fatal', detail: first ? toDetail(first) : { line: 0, column: 0, message: coerceError(err).message } };
  }
  try {
    if (doc.dtd !== null) return { id: job.id, kind: 'forbidden' };
    const validator = job.schema === null ? undefined : validators.get(job.schema);
    if (job.schema !== null && !validator) throw new Error(`no compiled schema named ${job.schema}`);
    try {
      validator?.validate(doc);
    } catch (err) {
      const details = errorsOf(err)?.filter((d) => d.line >= job.fromLine || job.fromLine <= 1);
      if (!details) throw err;
      if (details.length === 0) return { id: job.id, kind: 'valid' };
      return { id: job.id, kind: 'invalid', details: details.slice(0, job.maxDetails).map(toDetail), total: details.length };
    }
    return { id: job.id, kind: 'valid' };
  } finally {
    doc.dispose();
  }
}

parentPort!.on('message', (job: EngineJob) => {
  let reply: EngineReply;
  try {
    reply = run(job);
  } catch (err) {
    reply = { id: job.id, kind: 'crashed', message: err instanceof Error ? err.message : String(err) };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage({ id: 0, kind: 'ready' } satisfies EngineReply);
