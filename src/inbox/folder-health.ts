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
import { SharedRuns } from '../shared-runs.ts';

/**
 * `unsafe`: a folder is a link or resolves outside the sponsor's folder, and the sponsor
 * is not used at all. Otherwise (a folder missing, or not a directory) the sponsor is
 * unhealthy but used: what cannot be written is an infrastructure fault, retried.
 */
type FolderHealth = { ok: true } | { ok: false; unsafe: boolean; reasons: string[] };

interface Problem {
  reason: string;
  unsafe: boolean;
}

class UnusableFoldersError extends Error {
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
async function checkFolder(dir: string, expectedReal: string, shown: string): Promise<Problem | undefined> {
  let st;
  try {
    st = await lstat(dir);
  } catch (err) {
    return { reason: errCode(err) === 'ENOENT' ? `${shown} is missing` : `${shown}: ${errCode(err)}`, unsafe: false };
  }
  if (st.isSymbolicLink()) return { reason: `${shown} is a symbolic link`, unsafe: true };
  if (!st.isDirectory()) return { reason: `${shown} is not a directory`, unsafe: false };
  const real = await realpath(dir).catch((err: unknown) => `(${errCode(err)})`);
  if (real !== expectedReal)
    return { reason: `${shown} resolves outside ${path.dirname(shown) === '.' ? 'the root' : path.dirname(shown)}`, unsafe: true };
  return undefined;
}

/** `{ ok: true }`, or why the sponsor's folders are not (all) usable. Never throws. */
export async function checkSponsorFolders(root: string, licence: string): Promise<FolderHealth> {
  return (await checkWithRoot(root, licence)).health;
}

/** The check, and the real root it resolved (from which the real folder paths follow). */
async function checkWithRoot(root: string, licence: string): Promise<{ health: FolderHealth; realRoot?: string }> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch (err) {
    return { health: { ok: false, unsafe: false, reasons: [`the root folder: ${errCode(err)}`] } };
  }
  // The common case first, in one call per subfolder: `<sub>/.` resolves only through
  // directories, and to exactly `<real root>/<LICENCE>/<sub>` only if neither the sponsor
  // folder nor the subfolder is a link (a link resolving to its own path is a loop).
  const expected = (f: string) => path.join(realRoot, licence, f);
  const resolved = await Promise.all(SPONSOR_FOLDERS.map((f) => realpath(path.join(root, licence, f, '.')).catch(() => undefined)));
  if (resolved.every((real, k) => real === expected(SPONSOR_FOLDERS[k]!))) return { health: { ok: true }, realRoot };
  // Something is wrong: each folder is looked at on its own, for the reasons.
  const [top, ...subs] = await Promise.all([
    checkFolder(path.join(root, licence), path.join(realRoot, licence), licence),
    ...SPONSOR_FOLDERS.map((f) => checkFolder(path.join(root, licence, f), path.join(realRoot, licence, f), `${licence}/${f}`)),
  ]);
  // Below a linked or missing sponsor folder every subfolder would fail for the same reason.
  if (top) return { health: { ok: false, unsafe: top.unsafe, reasons: [top.reason] } };
  const problems = subs.filter((p): p is Problem => p !== undefined);
  if (problems.length === 0) return { health: { ok: true }, realRoot };
  return { health: { ok: false, unsafe: problems.some((p) => p.unsafe), reasons: problems.map((p) => p.reason) }, realRoot };
}

/** The two log levels the tracker uses, of a logger bound to the sponsor (pino's child logger fits). */
interface HealthLog {
  warn(fields: object, msg: string): void;
  info(msg: string): void;
}

type Resolved = { usable: boolean; realRoot?: string | undefined };

/**
 * Remembers which sponsors are unhealthy and logs one line when a sponsor becomes
 * unhealthy and one when it is healthy again, however often it is checked.
 */
export class SponsorFolderHealth {
  private readonly bad = new Map<string, { unsafe: boolean; reasons: string[] }>();
  /** Per sponsor, the check running now and the one that follows it, shared by whoever asks meanwhile. */
  private readonly checks = new SharedRuns((licence) => this.checkNow(licence));

  constructor(
    private readonly root: string,
    /** The sponsor's own logger: its lines say which sponsor. */
    private readonly logOf: (licence: string) => HealthLog,
    /** The check itself (a test counts and paces it). */
    private readonly checkFolders: typeof checkWithRoot = checkWithRoot,
  ) {}

  /** Checks now; false when the sponsor's folders must not be used at all (links). */
  async check(licence: string): Promise<boolean> {
    return (await this.checkResolved(licence)).usable;
  }

  /**
   * Throws `UnusableFoldersError` when the sponsor's folders must not be used now;
   * otherwise returns the real root as this check resolved it (where the sponsor's
   * folders really are, for the checks after a write or move), when it could.
   */
  async require(licence: string): Promise<string | undefined> {
    const { usable, realRoot } = await this.checkResolved(licence);
    if (!usable) throw new UnusableFoldersError(licence, this.bad.get(licence)?.reasons ?? []);
    return realRoot;
  }

  /**
   * `check`, and the real root as this check resolved it, when it could. Every answer comes
   * from a check that began after the call: a caller that finds one running waits for the
   * check that follows it, which serves everyone who asked meanwhile (a group's files
   * finishing side by side share a few checks instead of making two each).
   */
  checkResolved(licence: string): Promise<Resolved> {
    return this.checks.get(licence);
  }

  private async checkNow(licence: string): Promise<Resolved> {
    const { health: h, realRoot } = await this.checkFolders(this.root, licence);
    if (h.ok) {
      if (this.bad.delete(licence)) this.logOf(licence).info("the sponsor's folders are usable again");
      return { usable: true, realRoot };
    }
    const before = this.bad.get(licence);
    if (!before || before.unsafe !== h.unsafe) {
      const consequence = h.unsafe ? 'its files are left alone until this is fixed' : 'files that cannot be written are retried';
      this.logOf(licence).warn(
        { reasons: h.reasons.join('; ') },
        `the sponsor's folders are not usable: sponsor unhealthy, ${consequence}`,
      );
    }
    this.bad.set(licence, { unsafe: h.unsafe, reasons: h.reasons });
    return { usable: !h.unsafe, realRoot };
  }

  /** Unhealthy sponsors as last checked, with their reasons (for `/healthz`). */
  unhealthy(): { licence: string; reasons: string[] }[] {
    return [...this.bad].map(([licence, b]) => ({ licence, reasons: b.reasons })).sort((x, y) => x.licence.localeCompare(y.licence));
  }
}
