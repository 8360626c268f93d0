/** Reads a received file: its bytes (unless over the size limit) and sha256. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256Of, type ReceivedFile } from './process-file.ts';

async function streamSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function readReceivedFile(file: string, sponsorLicenceNumber: string, maxFileBytes: number, receivedAt = new Date()): Promise<ReceivedFile> {
  const info = await stat(file);
  if (!info.isFile()) throw new Error(`${file} is not a regular file`);
  const fileName = path.basename(file);
  if (info.size > maxFileBytes) {
    return { sponsorLicenceNumber, fileName, bytes: undefined, size: info.size, sha256: await streamSha256(file), receivedAt };
  }
  const bytes = await readFile(file);
  return { sponsorLicenceNumber, fileName, bytes, size: bytes.length, sha256: sha256Of(bytes), receivedAt };
}
