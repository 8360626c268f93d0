/**
 * The watch service (spec section 3): every sponsor's inbox is watched and listed at
 * start-up and every `scanIntervalMs`; settled files are processed by the one pipeline,
 * sponsors in turn and oldest first within each, `concurrency` at a time; results are
 * written and inputs moved. Failures are classified (faults.ts) and back off per file.
 * New sponsors are picked up while it runs. Claims left by a stopped instance are
 * finished. The expiry sweep (and the compliance figures' update) runs at start, hourly and just after each midnight UTC. Nothing here dies of one error.
 */
import { mkdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import type { FileSettings } from '../pipeline/process-file.ts';
import type { Db, Store } from '../db/client.ts';
import { isConnectionError } from '../errors.ts';
import { currentCompliance } from '../ops/compliance.ts';
import { expireDue } from '../ops/expire.ts';
import { listSponsors } from '../db/sponsors.ts';
import { isoDateUtc } from '../domain/dates.ts';
import { SponsorFolderHealth } from '../inbox/folder-health.ts';
import { FOLDER_MODE } from '../inbox/layout.ts';
import { regularFileIdentity } from '../inbox/settle.ts';
import { watchTree } from '../inbox/watcher.ts';
import { describeError, perSponsor, type Logger } from '../log.ts';
import { startXsdEngine } from '../xml/xsd.ts';
import type { XsdValidator } from '../pipeline/inspect.ts';
import { fileLog, type ServiceContext } from './context.ts';
import { DiskGuard } from './disk.ts';
import { classifyFault } from './faults.ts';
import { afterEachMidnight, every } from './every.ts';
import { EXPORT_TICK_MS, exportRound, type DeliveryPause, type ExportRound } from './exports.ts';
import { logFault } from './fault-log.ts';
import { handleFile, READ_WITHOUT_ASKING_BYTES } from './handle-file.ts';
import { SponsorInboxes } from './inboxes.ts';
import { registerInstance, type Instance } from './instance.ts';
import { reconcileClaims } from './reconcile.ts';
import { reporter, type FileReport } from './report.ts';
import { handleGroup } from './handle-group.ts';
import { Scheduler, type RunResult } from './scheduler.ts';
import { statementWriter } from './statements.ts';

export type { FileReport } from './report.ts';

export interface ServiceOptions {
  db: Db;
  /** Opens the dedicated connection for this instance's liveness lock (`Store.session`). */
  openSession: Store['session'];
  /** Called when a database connection was lost (the watch command replaces its pool). */
  onConnectionLost?: (err: unknown) => void;
  rootDir: string;
  /** Size and mtime stable this long before a file is taken (ms). */
  settleMs: number;
  /** Period of the full inbox listing and claim reconciliation (ms). */
  scanIntervalMs: number;
  /** Files processed at once. */
  concurrency: number;
  /** Poll instead of file system events. */
  poll: boolean;
  maxFileBytes: number;
  settings: FileSettings;
  log: Logger;
  /** Claim lease (default 30000 ms); renewed every third of it. */
  leaseMs?: number;
  /** Deferral window for files that are not well-formed yet (default 60000 ms). */
  unfinishedGraceMs?: number;
  /** A file still being processed after this long gets a progress line, and again each time this passes (default 5000 ms). */
  progressLogMs?: number;
  /** Expiry sweep period (default 3600000 ms). */
  sweepIntervalMs?: number;
  /** How often the sponsor list is re-read (default min(scanIntervalMs, 5000) ms). */
  sponsorRefreshMs?: number;
  /** Back-off of one file after a fault (default 1000 ms doubling to 300000 ms). */
  backoffMs?: { initial: number; max: number };
  clock?: () => Date;
  validate?: XsdValidator;
  /** Below this much free space on any of `diskPaths` no new file is taken (default 0: never pauses). */
  minFreeBytes?: number;
  /** The folders whose file systems must keep `minFreeBytes` free (default the root). */
  diskPaths?: string[];
  /** How often the free space is looked at while nothing is taken (default 2000 ms). */
  diskCheckMs?: number;
  /** Files in archive/, rejected/ and outbox/ older than this many days are removed by the sweep (default 0: kept). */
  retainDays?: number;
  /** Most small files of one sponsor stored together in one transaction (default 64; 1: each alone). */
  groupFiles?: number;
  /** Told of every file this instance finished (for `/metrics`); never given personal data. */
  onFileProcessed?: ((report: FileReport) => void) | undefined;
  /** Period of the export deliveries (ms); undefined: none. */
  exportEveryMs?: number | undefined;
  /** Tests only: a delivery stops for good at this point (so that the process can be killed there). */
  deliveryPause?: DeliveryPause | undefined;
}

export interface WatchService {
  instanceKey: number;
  /** Licences being watched. */
  sponsors(): string[];
  /** What the scheduler holds (for tests and diagnostics). */
  stats(): ReturnType<Scheduler['stats']>;
  /** Re-reads the sponsors, lists every inbox and reconciles claims now. */
  scan(): Promise<void>;
  /** Sponsors whose folders are not usable, with the reasons (for `/healthz`). */
  unhealthySponsors(): { licence: string; reasons: string[] }[];
  /** Why no new file is taken (the disk is short of space), or undefined (for `/healthz`). */
  diskLow(): string | undefined;
  /** Age (ms) of the oldest inbox file waiting to be processed; 0 when none waits. */
  oldestWaitingMs(): number;
  /** The periodic scan, now (SIGHUP); joins one already running instead of overlapping it. */
  rescan(): Promise<void>;
  /** An export delivery round now, whatever the period (SIGUSR2); undefined when deliveries are off. */
  deliverExports(): Promise<ExportRound> | undefined;
  /** Stops taking files, finishes the ones in progress, closes watchers and timers. */
  stop(): Promise<void>;
}

/** A group of small files holds at most this much, and takes files up to the size read without asking (handle-file.ts). */
const GROUP_MAX_BYTES = 8 << 20;
const GROUP_MAX_FILE_BYTES = READ_WITHOUT_ASKING_BYTES;

export async function startService(opts: ServiceOptions): Promise<WatchService> {
  const log = opts.log;
  const rootDir = path.resolve(opts.rootDir);
  await mkdir(rootDir, { recursive: true, mode: FOLDER_MODE });
  // Compile the schemas before the first file arrives; if the engine cannot start, files are retried.
  await startXsdEngine().catch((err: unknown) =>
    log.error({ err: describeError(err) }, 'the XSD engine could not start; files will be retried'),
  );
  const leaseMs = opts.leaseMs ?? 30_000;
  const instance: Instance = await registerInstance(opts.openSession, opts.db, { leaseMs, log });
  const lost = (err: unknown) => {
    if (isConnectionError(err)) opts.onConnectionLost?.(err);
  };
  const sponsorLog = perSponsor(log);
  const ctx: ServiceContext = {
    db: opts.db,
    rootDir,
    me: instance.key,
    leaseMs,
    unfinishedGraceMs: opts.unfinishedGraceMs ?? 60_000,
    progressLogMs: opts.progressLogMs ?? 5000,
    maxFileBytes: opts.maxFileBytes,
    settings: opts.settings,
    log,
    sponsorLog,
    clock: opts.clock ?? (() => new Date()),
    monotonic: () => performance.now(),
    validate: opts.validate,
    busyKeys: new Set(),
    folders: new SponsorFolderHealth(rootDir, sponsorLog),
    deferrals: new Map(),
  };

  // CAS statements owed to outboxes (`sponsor set --statements`): after each file that owed any, each scan, and now.
  const statements = statementWriter(opts.db, rootDir, log, lost);
  // eslint-disable-next-line prefer-const -- the guard and the scheduler each call the other
  let scheduler: Scheduler;
  const disk = new DiskGuard({
    paths: opts.diskPaths ?? [rootDir],
    minFreeBytes: opts.minFreeBytes ?? 0,
    log,
    onChange: (paused) => (paused ? scheduler.pause() : scheduler.resume()),
  });
  const report = opts.onFileProcessed ? reporter(ctx, opts.onFileProcessed) : () => {};
  /** After each file: the CAS statements it owed are written, and /metrics is told. */
  const after = (r: RunResult, started: number) => {
    if (r.kind === 'finished' && r.statementsOwed !== false) statements.kick();
    report(r, started);
  };
  const maxFiles = opts.groupFiles ?? 64;
  scheduler = new Scheduler({
    settleMs: opts.settleMs,
    concurrency: opts.concurrency,
    busyRecheckMs: Math.max(opts.settleMs, 1000),
    backoffMs: opts.backoffMs ?? { initial: 1000, max: 300_000 },
    now: ctx.monotonic,
    identify: regularFileIdentity,
    classify: classifyFault,
    // Looked at before every file: below the floor it waits untouched, as if held elsewhere.
    run: async (c) => {
      if (await disk.check()) return { kind: 'busy' };
      const started = ctx.monotonic();
      const r = await handleFile(ctx, c);
      after(r, started);
      return r;
    },
    group:
      maxFiles > 1
        ? {
            maxFiles,
            maxBytes: GROUP_MAX_BYTES,
            maxFileBytes: GROUP_MAX_FILE_BYTES,
            run: async (cs) => {
              if (await disk.check()) return cs.map(() => ({ result: { kind: 'busy' } }));
              const started = ctx.monotonic();
              const outcomes = await handleGroup(ctx, cs);
              for (const o of outcomes) if ('result' in o) after(o.result, started);
              return outcomes;
            },
          }
        : undefined,
    onFault: (c, err, fault, counts) => {
      lost(err);
      logFault(fileLog(ctx, c.licence, c.file), err, fault, counts);
    },
  });

  const inboxes = new SponsorInboxes(ctx, (file, licence) => scheduler.offer(file, licence));
  // eslint-disable-next-line prefer-const -- assigned once the service has started; the watcher may ask for it before
  let sponsorLoop: ReturnType<typeof every> | undefined;

  inboxes.watcher = watchTree({
    root: rootDir,
    poll: opts.poll,
    pollIntervalMs: Math.max(100, Math.min(1000, Math.floor(opts.settleMs / 2))),
    onEntry: (inbox, name) => {
      const licence = path.basename(path.dirname(inbox));
      if (inboxes.watched.has(licence)) inboxes.offer(inbox, licence, name);
    },
    onInboxChanged: (inbox) => {
      const licence = path.basename(path.dirname(inbox));
      if (inboxes.watched.has(licence)) inboxes.relist(licence);
    },
    // `sponsor add` commits the sponsor, then creates its folders: look now, not at the next refresh.
    onSponsorDir: () => void sponsorLoop?.run(),
    onError: (err) => log.warn({ err: describeError(err) }, 'file watcher error; the periodic listing carries on'),
  });

  const scan = async () => {
    await inboxes.refresh(opts.db);
    await inboxes.relistAll();
    await reconcileClaims(ctx, { isStopping: () => inboxes.stopping });
    statements.kick();
  };

  const sweep = async () => {
    const now = ctx.clock();
    const expired = await expireDue(opts.db, isoDateUtc(now), now);
    if (expired.length) log.info({ expired: expired.length }, 'expiry sweep');
    for (const licence of inboxes.watched) await inboxes.sweepOutbox(licence);
    if (opts.retainDays) for (const licence of inboxes.watched) await inboxes.sweepRetained(licence, opts.retainDays);
    // The kept compliance figures brought up to date (the sponsors changed since, or all on a new day), so
    // that the notes of changes do not pile up while no one looks, and a day's first view finds them computed.
    await currentCompliance(opts.db, { asOf: isoDateUtc(now), nation: opts.settings.holidays ?? 'england-and-wales' });
  };

  const closeStarted = async () => {
    await scheduler.stop();
    await statements.idle();
    await inboxes.watcher?.close().catch(() => {});
    await instance.close();
  };

  try {
    // Start-up: what a stopped instance left, then every sponsor's folders and inbox.
    const licences = (await listSponsors(opts.db)).map((s) => s.licenceNumber);
    log.info(
      `watching ${licences.length} sponsor${licences.length === 1 ? '' : 's'}` +
        (licences.length
          ? `: ${licences.slice(0, 20).join(', ')}${licences.length > 20 ? `, +${licences.length - 20} more` : ''}`
          : ' (add one with `cas-bdt sponsor add`)'),
    );
    const recovered = await reconcileClaims(ctx);
    if (recovered) log.info({ claims: recovered }, 'settled files left by a stopped instance');
    statements.kick();
    scheduler.hold();
    for (const l of licences) await inboxes.watch(l);
    await inboxes.reportStrangers(new Set(licences));
    inboxes.started = true;
  } catch (err) {
    await closeStarted();
    throw err;
  }

  sponsorLoop = every(
    opts.sponsorRefreshMs ?? Math.min(opts.scanIntervalMs, 5000),
    () => inboxes.refresh(opts.db),
    (err, first) => {
      lost(err);
      if (first) log.warn({ err: describeError(err) }, 'could not read the sponsor list; retrying');
    },
  );
  const sponsorLoopStarted = sponsorLoop;
  const scanLoop = every(opts.scanIntervalMs, scan, (err, first) => {
    lost(err);
    if (first) log.warn({ err: describeError(err) }, 'inbox scan failed; retrying at the next one');
  });
  const sweepLoop = every(opts.sweepIntervalMs ?? 3_600_000, sweep, (err, first) => {
    lost(err);
    if (first) log.warn({ err: describeError(err) }, 'expiry sweep failed; retrying at the next one');
  });
  void sweepLoop.run();
  // A new day's expiries and compliance figures at its start, not up to an hour into it.
  const midnight = afterEachMidnight(() => void sweepLoop.run());
  const diskLoop = every(
    opts.diskCheckMs ?? 2000,
    async () => void (await disk.check()),
    () => {},
  );
  void diskLoop.run();
  const everyMs = opts.exportEveryMs;
  // Rounds of this instance run one after another (periodic and SIGUSR2 alike): never two at once.
  let exportChain: Promise<unknown> = Promise.resolve();
  const quiet = new Map<string, number>();
  const queueRound = (force: boolean): Promise<ExportRound> => {
    const next = exportChain.then(() =>
      exportRound(ctx, [...inboxes.watched].sort(), {
        everyMs: everyMs ?? 0,
        force,
        pause: opts.deliveryPause,
        isStopping: () => inboxes.stopping,
        quiet,
      }),
    );
    exportChain = next.catch(() => {});
    return next;
  };
  const exportLoop =
    everyMs === undefined
      ? undefined
      : every(
          Math.min(everyMs, EXPORT_TICK_MS),
          async () => void (await queueRound(false)),
          (err, first) => {
            lost(err);
            if (first) log.warn({ err: describeError(err) }, 'export deliveries failed; retrying at the next round');
          },
        );
  void exportLoop?.run();
  // The backlog found at start-up settles as a whole before the first file is taken, so
  // that it goes oldest first; files still being written do not hold it up for long.
  void (async () => {
    const deadline = Date.now() + 2 * opts.settleMs + 2000;
    while (!inboxes.stopping && scheduler.settling() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    scheduler.release();
  })();
  log.info(
    {
      settleMs: opts.settleMs,
      scanIntervalMs: opts.scanIntervalMs,
      concurrency: opts.concurrency,
      watcher: opts.poll ? 'polling' : 'events',
      ...(everyMs !== undefined ? { exportEveryMs: everyMs } : {}),
      instance: instance.key,
    },
    'ready',
  );

  return {
    instanceKey: instance.key,
    sponsors: () => [...inboxes.watched].sort(),
    stats: () => scheduler.stats(),
    unhealthySponsors: () => ctx.folders.unhealthy(),
    oldestWaitingMs: () => scheduler.oldestWaitingMs(),
    diskLow: () => disk.reason(),
    scan: () => scan(),
    rescan: () => scanLoop.run(),
    deliverExports: () => (everyMs === undefined ? undefined : queueRound(true)),
    stop: async () => {
      if (inboxes.stopping) return;
      inboxes.stopping = true;
      midnight.stop();
      await Promise.all([sponsorLoopStarted.stop(), scanLoop.stop(), sweepLoop.stop(), diskLoop.stop(), exportLoop?.stop(), exportChain]);
      await closeStarted();
    },
  };
}
