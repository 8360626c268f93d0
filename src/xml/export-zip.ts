/**
 * The export as the SMS delivers it: the XML inside a zip archive of one entry,
 * deflated; and a zipped file's results (spec section 4a), several entries (yazl streams the archive; its chunks are gathered for the atomic write).
 */
import yazl from 'yazl';

/** A zip holding `text` as `entryName` (UTF-8), dated `mtime`. */
export function zipOne(entryName: string, text: string, mtime: Date): Promise<Buffer> {
  return zipMany([{ name: entryName, text }], mtime);
}

/** A zip holding each text under its name (UTF-8), in order, dated `mtime`: the same input gives the same bytes. */
export function zipMany(files: { name: string; text: string }[], mtime: Date): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const f of files) zip.addBuffer(Buffer.from(f.text, 'utf8'), f.name, { mtime, mode: 0o100640, compress: true });
  zip.end();
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    zip.outputStream.on('data', (b: Buffer) => parts.push(b));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(parts)));
  });
}
