/** The sponsor folder tree: <root>/<LICENCE>/{inbox,outbox,archive,rejected}. */
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';

/** Folders cas-bdt creates: the owner and the sponsor's group only (spec section 7). */
export const FOLDER_MODE = 0o750;
/** Files cas-bdt creates (results, exports, archived copies). */
export const FILE_MODE = 0o640;

export const SPONSOR_FOLDERS = ['inbox', 'outbox', 'archive', 'rejected'] as const;
type SponsorFolder = (typeof SPONSOR_FOLDERS)[number];

export function sponsorDir(root: string, licence: string, folder: SponsorFolder): string {
  return path.join(root, licence, folder);
}

/** mkdir that leaves anything already there alone (a directory, a link, a file). */
async function mkdirOnce(dir: string): Promise<void> {
  try {
    await mkdir(dir, { mode: FOLDER_MODE });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * Creates whatever is missing of `<root>/<LICENCE>/{inbox,outbox,archive,rejected}`,
 * mode 0750. Nothing is created below a sponsor folder that is a symbolic link (it would
 * land in the link's target); whether the folders may be used is `checkSponsorFolders`'s call.
 */
export async function ensureSponsorFolders(root: string, licence: string): Promise<void> {
  await mkdir(root, { recursive: true, mode: FOLDER_MODE });
  const top = path.join(root, licence);
  await mkdirOnce(top);
  if (!(await lstat(top)).isDirectory()) return;
  for (const f of SPONSOR_FOLDERS) await mkdirOnce(sponsorDir(root, licence, f));
}

/** NAME for result files: the input's name with any final `.xml` removed (case-insensitive). */
export function baseName(fileName: string): string {
  const name = path.basename(fileName).replace(/\.xml$/i, '');
  return name === '' ? 'file' : name;
}

/** Candidate result names: NAME.result.xml, then NAME.<submission-id>.result.xml. */
export function resultNames(fileName: string, submissionId: number): string[] {
  const name = baseName(fileName);
  const extra = Array.from({ length: 50 }, (_, k) => `${name}.${submissionId}-${k + 2}.result.xml`);
  return [`${name}.result.xml`, `${name}.${submissionId}.result.xml`, ...extra];
}

/** Candidate result names of a zip: NAME.result.zip (NAME without a final `.zip`), then NAME.<submission-id>.result.zip. */
export function containerResultNames(fileName: string, submissionId: number): string[] {
  const base = path.basename(fileName).replace(/\.zip$/i, '');
  const name = base === '' ? 'file' : base;
  const extra = Array.from({ length: 50 }, (_, k) => `${name}.${submissionId}-${k + 2}.result.zip`);
  return [`${name}.result.zip`, `${name}.${submissionId}.result.zip`, ...extra];
}

/** `<UTC yyyymmddThhmmssZ>` */
export function utcStamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}
