/**
 * Whether a sponsor's folders may be used (spec section 7): `<root>/<LICENCE>` and its
 * four subfolders must be real directories, not symbolic links, each resolving to
 * exactly `<real root>/<LICENCE>[/<folder>]`. A sponsor that fails is not used at all:
 * with `A/inbox` pointing at `B/archive`, B's archived inputs would be taken as A's; with
 * `A/rejected` pointing at `B/inbox`, A's rejects would be accepted as B's.
 */
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { SPONSOR_FOLDERS } from './layout.ts';

export type FolderHealth = { ok: true } | { ok: false; reasons: string[] };

export class UnusableFoldersError extends Error {
  readonly code = 'E_SPONSOR_FOLDERS';
  constructor(
    readonly licence: string,
    readonly reasons: string[],
  ) {
    super(`the folders of ${licence} are not usable: ${reasons.join('; ')}`);
  }
}

const errCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);

/** Checks one folder; `shown` names it in reasons (relative to the root, never personal data). */
async function checkFolder(dir: string, expectedReal: string, shown: string): Promise<string | undefined> {
  let st;
  try {
    st = await lstat(dir);
  } catch (err) {
    return errCode(err) === 'ENOENT' ? `${shown} is missing` : `${shown}: ${errCode(err)}`;
  }
  if (st.isSymbolicLink()) return `${shown} is a symbolic link`;
  if (!st.isDirectory()) return `${shown} is not a directory`;
  const real = await realpath(dir).catch((err: unknown) => `(${errCode(err)})`);
  if (real !== expectedReal) return `${shown} resolves outside ${path.dirname(shown) === '.' ? 'the root' : path.dirname(shown)}`;
  return undefined;
}

/** `{ ok: true }`, or the reasons the sponsor's folders must not be used. Never throws. */
export async function checkSponsorFolders(root: string, licence: string): Promise<FolderHealth> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch (err) {
    return { ok: false, reasons: [`the root folder: ${errCode(err)}`] };
  }
  const top = await checkFolder(path.join(root, licence), path.join(realRoot, licence), licence);
  // Below a linked or missing sponsor folder every subfolder would fail for the same reason.
  if (top) return { ok: false, reasons: [top] };
  const reasons: string[] = [];
  for (const f of SPONSOR_FOLDERS) {
    const r = await checkFolder(path.join(root, licence, f), path.join(realRoot, licence, f), `${licence}/${f}`);
    if (r) reasons.push(r);
  }
  return reasons.length ? { ok: false, reasons } : { ok: true };
}

/** The two log levels the tracker uses (pino's Logger fits). */
export interface HealthLog {
  warn(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
}

/**
 * Remembers which sponsors are unhealthy and logs one line when a sponsor becomes
 * unhealthy and one when it is usable again, however often it is checked.
 */
export class SponsorFolderHealth {
  private readonly bad = new Map<string, string[]>();

  constructor(
    private readonly root: string,
    private readonly log: HealthLog,
  ) {}

  /** Checks now; true when the sponsor's folders may be used. */
  async check(licence: string): Promise<boolean> {
    const h = await checkSponsorFolders(this.root, licence);
    if (h.ok) {
      if (this.bad.delete(licence)) this.log.info({ sponsor: licence }, "the sponsor's folders are usable again");
      return true;
    }
    if (!this.bad.has(licence)) this.log.warn({ sponsor: licence, reasons: h.reasons.join('; ') }, "the sponsor's folders are not usable: sponsor unhealthy, its files are left alone");
    this.bad.set(licence, h.reasons);
    return false;
  }

  /** Throws `UnusableFoldersError` unless the sponsor's folders may be used now. */
  async require(licence: string): Promise<void> {
    if (!(await this.check(licence))) throw new UnusableFoldersError(licence, this.bad.get(licence) ?? []);
  }

  /** Unhealthy sponsors as last checked, with their reasons (for `/healthz`). */
  unhealthy(): { licence: string; reasons: string[] }[] {
    return [...this.bad].map(([licence, reasons]) => ({ licence, reasons })).sort((x, y) => x.licence.localeCompare(y.licence));
  }

  /** A sponsor no longer watched is no longer reported. */
  forget(licence: string): void {
    this.bad.delete(licence);
  }
}
