/** What the service's parts share: the store, this instance's key, settings and the logger. */
import type { Db } from '../db/client.ts';
import type { SponsorFolderHealth } from '../inbox/folder-health.ts';
import type { Logger } from '../log.ts';
import type { XsdValidator } from '../pipeline/inspect.ts';
import type { FileSettings } from '../pipeline/process-file.ts';
import { shownName, type InboxFile } from './inbox-file.ts';

export interface ServiceContext {
  db: Db;
  rootDir: string;
  /** This instance's key: the owner of its claims. */
  me: number;
  /** How long a claim stays ours without renewal (ms). */
  leaseMs: number;
  /** A file that is not well-formed and that the service saw change less than this ago is deferred (ms). */
  unfinishedGraceMs: number;
  /** Period of the progress line of a file being processed (ms). */
  progressLogMs: number;
  maxFileBytes: number;
  settings: FileSettings;
  log: Logger;
  /** The sponsor's own logger (`perSponsor`): its lines say `sponsor=<licence>`. */
  sponsorLog: (licence: string) => Logger;
  clock: () => Date;
  /** Monotonic milliseconds, the scheduler's clock: how long a file has been unchanged is measured on it. */
  monotonic: () => number;
  validate?: XsdValidator | undefined;
  /** `<licence>/<file name>` keys a worker or the recovery is busy with, in this process. */
  busyKeys: Set<string>;
  /** Which sponsors' folders may be used (checked before every read, write and move). */
  folders: SponsorFolderHealth;
  /** Deferred files (by scheduler key) and the change (scheduler clock) whose deferral was logged. */
  deferrals: Map<string, number>;
}

export const fileKey = (licence: string, fileName: string) => `${licence}/${fileName}`;

/** The logger of one inbox file: its lines say `sponsor=` and `file=` (the name as shown) first. */
export const fileLog = (ctx: Pick<ServiceContext, 'sponsorLog'>, licence: string, file: InboxFile): Logger =>
  ctx.sponsorLog(licence).child({ file: shownName(file) });
