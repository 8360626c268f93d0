/** The sponsor folder tree: <root>/<LICENCE>/{inbox,outbox,archive,rejected}. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

export const SPONSOR_FOLDERS = ['inbox', 'outbox', 'archive', 'rejected'] as const;
export type SponsorFolder = (typeof SPONSOR_FOLDERS)[number];

export function sponsorDir(root: string, licence: string, folder: SponsorFolder): string {
  return path.join(root, licence, folder);
}

export async function ensureSponsorFolders(root: string, licence: string): Promise<void> {
  for (const f of SPONSOR_FOLDERS) await mkdir(sponsorDir(root, licence, f), { recursive: true });
}

/** NAME for result files: the input's name with any final `.xml` removed (case-insensitive). */
function baseName(fileName: string): string {
  const name = path.basename(fileName).replace(/\.xml$/i, '');
  return name === '' ? 'file' : name;
}

/** Candidate result names: NAME.result.xml, then NAME.<submission-id>.result.xml. */
export function resultNames(fileName: string, submissionId: number): string[] {
  const name = baseName(fileName);
  const extra = Array.from({ length: 50 }, (_, k) => `${name}.${submissionId}-${k + 2}.result.xml`);
  return [`${name}.result.xml`, `${name}.${submissionId}.result.xml`, ...extra];
}

/** `<UTC yyyymmddThhmmssZ>` */
export function utcStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}
