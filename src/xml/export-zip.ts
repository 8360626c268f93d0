/**
 * The export as the SMS delivers it: the XML inside a zip archive of one entry,
 * deflated (yazl streams the archive; its chunks are gathered for the atomic write).
 */
import yazl from 'yazl';

/** A zip holding `text` as `entryName` (UTF-8), dated `mtime`. */
export function zipOne(entryName: string, text: string, mtime: Date): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(text, 'utf8'), entryName, { mtime, mode: 0o100640, compress: true });
  zip.end();
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    zip.outputStream.on('data', (b: Buffer) => parts.push(b));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(parts)));
  });
}
