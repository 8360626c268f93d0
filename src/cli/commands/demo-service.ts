/**
 * What both demos share: a new temporary folder with an embedded store and a folder tree
 * (never the configured ones), the demo sponsor in it, the watch service started on them,
 * files dropped into the inbox as an upload client does, and the wait for their
 * submissions. The folder is removed at the end unless kept.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SubmissionRow } from '../../ops/queries.ts';
import type { Store } from '../../ops/store.ts';
import type { Route } from '../../domain/types.ts';
import type { Context } from '../context.ts';

interface DemoSponsor {
  licence: string;
  name: string;
  routes: Route[];
  allocation: number;
}

export interface Demo {
  /** The temporary folder, its store and its folder tree. */
  dir: string;
  dataDir: string;
  rootDir: string;
  store: Store;
  /** Drops files into the sponsor's inbox (a hidden name first, then the real one) and returns at once. */
  drop(files: { name: string; bytes: Buffer }[]): Promise<void>;
  /** The sponsor's submissions once `done` holds of them, or when `timeoutMs` has passed. */
  submissions(done: (subs: SubmissionRow[]) => boolean, timeoutMs: number): Promise<SubmissionRow[]>;
  /** Stops the service: the files in progress are finished first. */
  stopService(): Promise<void>;
  /** Stops the service and closes the store, so that commands can open it (the folder stays until the end). */
  closeStore(): Promise<void>;
}

/**
 * Runs `body` on a new demo: `intro` is told the folder before anything is made in it; the
 * store is closed and, unless `keep`, the folder removed whatever happens.
 */
export async function withDemo(
  ctx: Context,
  o: { sponsor: DemoSponsor; concurrency: number; maxFileBytes: number; keep: boolean; intro: (dir: string) => string },
  body: (demo: Demo) => Promise<number>,
): Promise<number> {
  const [{ openStore }, { addSponsor }, { listSubmissions }, { ensureSponsorFolders, sponsorDir }, { createLogger }, { startService }] =
    await Promise.all([
      import('../../ops/store.ts'),
      import('../../ops/sponsors.ts'),
      import('../../ops/queries.ts'),
      import('../../inbox/layout.ts'),
      import('../../log.ts'),
      import('../../service/service.ts'),
    ]);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cas-bdt-demo-'));
  const dataDir = path.join(dir, 'store');
  const rootDir = path.join(dir, 'bdt');
  ctx.out(o.intro(dir));
  const store = await openStore({ databaseUrl: undefined, dataDir });
  let closed = false;
  const closeStore = async () => {
    if (closed) return;
    closed = true;
    await store.close();
  };
  const { licence } = o.sponsor;
  try {
    await addSponsor(
      store.db,
      { licenceNumber: licence, name: o.sponsor.name, routes: o.sponsor.routes, autoAssign: true, allocation: o.sponsor.allocation },
      new Date(),
    );
    await ensureSponsorFolders(rootDir, licence);
    const inbox = sponsorDir(rootDir, licence, 'inbox');
    // The service's own log lines go to stderr, as under `watch`.
    const service = await startService({
      db: store.db,
      openSession: () => store.session(),
      rootDir,
      settleMs: 200,
      scanIntervalMs: 500,
      concurrency: o.concurrency,
      poll: false,
      maxFileBytes: o.maxFileBytes,
      settings: { feePence: 2500, validityMonths: 6 },
      log: createLogger({ write: ctx.io.stderr }),
    });
    let stopped = false;
    const stopService = async () => {
      if (stopped) return;
      stopped = true;
      await service.stop();
    };
    let dropped = 0;
    try {
      return await body({
        dir,
        dataDir,
        rootDir,
        store,
        async drop(files) {
          for (const f of files) {
            const hidden = path.join(inbox, `.${++dropped}.part`);
            await writeFile(hidden, f.bytes);
            await rename(hidden, path.join(inbox, f.name));
          }
        },
        async submissions(done, timeoutMs) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const subs = await listSubmissions(store.db, { licence });
            if (done(subs) || Date.now() > deadline) return subs;
            await new Promise((r) => setTimeout(r, 100));
          }
        },
        stopService,
        async closeStore() {
          await stopService();
          await closeStore();
        },
      });
    } finally {
      await stopService();
    }
  } finally {
    await closeStore();
    if (!o.keep) await rm(dir, { recursive: true, force: true });
  }
}
