/**
 * The sponsors the service watches and the listing of their inboxes: a sponsor is watched
 * once its folders are prepared and usable, a listing offers every regular file to the
 * scheduler, and one listing at a time runs per inbox (a change during one asks for one more).
 */
import { opendir, readdir } from 'node:fs/promises';
import type { Db } from '../db/client.ts';
import { listSponsors } from '../db/sponsors.ts';
import { realSponsorDir } from '../inbox/fd-path.ts';
import { ensureSponsorFolders, sponsorDir } from '../inbox/layout.ts';
import { isCandidateName } from '../inbox/settle.ts';
import { sweepRetained } from '../inbox/retention.ts';
import { sweepTemporaries } from '../inbox/temporaries.ts';
import type { TreeWatcher } from '../inbox/watcher.ts';
import { describeError } from '../log.ts';
import type { ServiceContext } from './context.ts';
import { inboxFile, type InboxFile } from './inbox-file.ts';

export class SponsorInboxes {
  /** Licences being watched. */
  readonly watched = new Set<string>();
  /** Set once start-up has watched the sponsors known then: later ones are logged as new. */
  started = false;
  stopping = false;
  watcher: TreeWatcher | undefined;
  private readonly listing = new Map<string, { again: boolean }>();
  /** Sponsors whose folders could not be prepared (logged once; retried at every refresh). */
  private readonly broken = new Set<string>();
  /** Folders under the root that are no registered sponsor's, logged once each. */
  private readonly strangers = new Set<string>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly take: (file: InboxFile, licence: string) => void,
  ) {}

  /** A name seen in an inbox: offered to the scheduler unless it is an upload in progress. */
  offer(inbox: string, licence: string, raw: Buffer): void {
    const file = inboxFile(inbox, raw);
    if (isCandidateName(file.name)) this.take(file, licence);
  }

  async list(licence: string): Promise<void> {
    // A sponsor whose folders are links is not listed (logged once by the check).
    if (!(await this.ctx.folders.check(licence))) return;
    const inbox = sponsorDir(this.ctx.rootDir, licence, 'inbox');
    // Names as bytes: a name that is not UTF-8 must still be found, refused and moved.
    // (Node accepts 'buffer' here; its type declarations do not say so.)
    const dir = await opendir(inbox, { encoding: 'buffer' as BufferEncoding, bufferSize: 256 });
    for await (const d of dir) {
      if (this.stopping) break;
      // Only regular files: directories and symbolic links are never candidates.
      if (d.isFile()) this.offer(inbox, licence, d.name as unknown as Buffer);
    }
  }

  /** Lists the inbox, logging a failure (a failed listing is repeated by every scan). */
  listLogged(licence: string): Promise<void> {
    return this.list(licence).catch((err: unknown) =>
      this.ctx.sponsorLog(licence).warn({ err: describeError(err) }, 'could not list the inbox'),
    );
  }

  relist(licence: string): void {
    const running = this.listing.get(licence);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false };
    this.listing.set(licence, state);
    void (async () => {
      do {
        state.again = false;
        await this.listLogged(licence);
      } while (state.again && !this.stopping);
      this.listing.delete(licence);
    })();
  }

  async watch(licence: string): Promise<void> {
    const { ctx } = this;
    const log = ctx.sponsorLog(licence);
    try {
      await ensureSponsorFolders(ctx.rootDir, licence);
    } catch (err) {
      // One sponsor's broken folder must not stop the others.
      if (!this.broken.has(licence)) log.warn({ err: describeError(err) }, "cannot prepare the sponsor's folders; retrying");
      this.broken.add(licence);
      return;
    }
    // Unusable folders (links): not watched yet; the next refresh looks again.
    if (!(await ctx.folders.check(licence))) return;
    this.watcher?.addInbox(sponsorDir(ctx.rootDir, licence, 'inbox'));
    this.watched.add(licence);
    if (this.broken.delete(licence) || this.started) log.info('watching a new sponsor');
    await this.listLogged(licence);
    // In the background: an outbox may hold many results, and the inbox comes first.
    void this.sweepOutbox(licence);
  }

  /** Removes the temporary files a killed writer left in the sponsor's outbox. */
  async sweepOutbox(licence: string): Promise<void> {
    const log = this.ctx.sponsorLog(licence);
    try {
      // As for every write: never through a linked sponsor folder, and each file checked where it really is.
      if (!(await this.ctx.folders.check(licence))) return;
      const realDir = await realSponsorDir(this.ctx.rootDir, licence, 'outbox');
      const removed = await sweepTemporaries(sponsorDir(this.ctx.rootDir, licence, 'outbox'), { realDir });
      if (removed)
        log.info({ removed }, `removed ${removed} temporary file${removed === 1 ? '' : 's'} left in the outbox by a stopped writer`);
    } catch (err) {
      log.warn({ err: describeError(err) }, 'could not sweep the outbox; retrying at the next sweep');
    }
  }

  /** `--retain-days`: removes the files kept in archive/, rejected/ and outbox/ longer than `days`. */
  async sweepRetained(licence: string, days: number): Promise<void> {
    const log = this.ctx.sponsorLog(licence);
    for (const folder of ['archive', 'rejected', 'outbox'] as const) {
      try {
        if (this.stopping || !(await this.ctx.folders.check(licence))) return;
        const realDir = await realSponsorDir(this.ctx.rootDir, licence, folder);
        const removed = await sweepRetained(sponsorDir(this.ctx.rootDir, licence, folder), {
          olderThanMs: days * 86_400_000,
          nowMs: this.ctx.clock().getTime(),
          realDir,
        });
        if (removed)
          log.info({ folder, removed, retainDays: days }, `removed ${removed} file${removed === 1 ? '' : 's'} past the retention`);
      } catch (err) {
        log.warn({ folder, err: describeError(err) }, 'could not remove old files; retrying at the next sweep');
      }
    }
  }

  /** Watches the sponsors added since the last refresh. */
  async refresh(db: Db): Promise<void> {
    const sponsors = await listSponsors(db);
    for (const s of sponsors) {
      if (this.stopping) return;
      if (!this.watched.has(s.licenceNumber)) await this.watch(s.licenceNumber);
    }
    await this.reportStrangers(new Set(sponsors.map((s) => s.licenceNumber)));
  }

  /**
   * A folder under the root that is not a registered sponsor's (a mistyped licence, a
   * sponsor not added yet) is never watched: files dropped there would wait for ever
   * unseen, so it is said once. The sponsor list is read before the root, so the folders
   * `sponsor add` creates after committing are never taken for strangers.
   */
  async reportStrangers(registered: Set<string>): Promise<void> {
    let entries;
    try {
      entries = await readdir(this.ctx.rootDir, { withFileTypes: true });
    } catch {
      return; // The root itself is checked and reported elsewhere.
    }
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.') || registered.has(e.name) || this.strangers.has(e.name)) continue;
      this.strangers.add(e.name);
      this.ctx.log.warn(
        { folder: e.name },
        'a folder under the root is not a registered sponsor: its files are not processed (register it with `cas-bdt sponsor add`)',
      );
    }
  }

  /** Every watched inbox listed again (and watched again, if it was replaced since). */
  async relistAll(): Promise<void> {
    for (const licence of this.watched) {
      if (this.stopping) return;
      this.watcher?.addInbox(sponsorDir(this.ctx.rootDir, licence, 'inbox'));
      await this.listLogged(licence);
    }
  }
}
