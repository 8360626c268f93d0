/**
 * Many small files through the real service: `cas-bdt watch` runs as a child process,
 * takes a first file and then the rest of `--warmup` W files at once (as many as the
 * backlog by default: a service that has run a while has compiled its hot code, and one
 * that has taken a single file has not: on a 300-file backlog after one file, three drains
 * in a row took 7.2, 5.9 and 5.2 ms of the service's CPU per file), then a backlog of N
 * one-record files is dropped into one inbox at once and drained (files per second), then
 * files are dropped one at a time to measure the latency from the drop to the result,
 * beyond the settle time. Then S sponsors (20) each get F one-record files
 * (30) at once, in their own inboxes, drained by one service. The peer (peer.ts) takes
 * the same backlog, and the same S x F files, in one process on a fresh database each
 * time, and the ratio of the two is printed for each.
 *
 * Each side takes the backlog and the S x F case `--repeat` R times (3), the service in one
 * run of `watch`, the peer on a fresh database each time: the ratios are of the medians.
 *
 *   npm run bench -- [--files N] [--trickle M] [--stores postgres,pglite] [--settle-ms MS] [--sponsors S] [--per-sponsor F] [--warmup W] [--repeat R]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, renameSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { casBdt } from './command.ts';
import { casXml, uploadText } from '../test/helpers/bdt.ts';
import { createPgDatabase } from '../test/helpers/stores.ts';
import { cpuPerFile, cpuSince, cpuSnapshot } from './cpu.ts';
import { findPeer, speedRatio } from './peer.ts';

const { values } = parseArgs({
  strict: false,
  options: {
    files: { type: 'string', default: '300' },
    trickle: { type: 'string', default: '20' },
    stores: { type: 'string', default: 'postgres' },
    'settle-ms': { type: 'string', default: '500' },
    sponsors: { type: 'string', default: '20' },
    'per-sponsor': { type: 'string', default: '30' },
    /** Files put through the service before each measure: a first one, then the rest at once. */
    warmup: { type: 'string' },
    /** Each side's runs of the backlog and of the S x F case: the ratios are of their medians (short runs vary). */
    repeat: { type: 'string', default: '3' },
  },
});
const files = Number(values.files);
const trickle = Number(values.trickle);
const settleMs = Number(values['settle-ms']);
const warmup = Math.max(1, Number(values.warmup ?? files));
const repeat = Math.max(1, Number(values.repeat));
const LICENCE = 'BENCH0001';
/** Node options for the service alone, e.g. BENCH_SERVICE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile it. */
const serviceNodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);

let seq = 0;
/**
 * The files are written here before the clock starts, then renamed into an inbox: creating a
 * file costs this machine's file system about 0.6 ms (300 files: 170 to 190 ms), which is the
 * sponsor's work, not the service's, and the peer's time leaves it out as well. It is beside
 * the services' folders, on the same file system, so a rename is one moment.
 */
const STAGING = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-small-staging-'));
process.on('exit', () => rmSync(STAGING, { recursive: true, force: true }));

/** A one-record file written, not yet in the inbox: `drop` renames it in; `result` is its result's name. */
function stage(inbox: string, licence = LICENCE): { result: string; drop: () => void } {
  const n = seq++;
  const name = `small-${String(n).padStart(6, '0')}.xml`;
  const text = uploadText({
    licence,
    fileId: `SMALL-${n}`,
    records: [casXml({ applicantId: `S-${n}`, passport: `P${String(n).padStart(9, '0')}` })],
  });
  const staged = path.join(STAGING, name);
  writeFileSync(staged, Buffer.from(text, 'latin1'));
  return { result: name.replace(/\.xml$/, '.result.xml'), drop: () => renameSync(staged, path.join(inbox, name)) };
}

/** A one-record file into the inbox at once; returns its result's name. */
function drop(inbox: string, licence = LICENCE): string {
  const file = stage(inbox, licence);
  file.drop();
  return file.result;
}

/** The staged files renamed into their inboxes, one after the other; returns their results' names. */
function dropAll(files: { result: string; drop: () => void }[]): string[] {
  for (const f of files) f.drop();
  return files.map((f) => f.result);
}

/**
 * The result files of the outboxes watched, as their events tell them (inotify), with a
 * listing when a watch starts: waiting for results costs the machine next to nothing, so
 * that the bench takes no CPU from the service it measures (a 2-core machine has little to
 * spare). `until` looks again at each event, and every 50 ms in case one was missed.
 */
class Results {
  private readonly seen = new Map<string, Set<string>>();
  private readonly watchers: FSWatcher[] = [];
  private wake: (() => void) | undefined;

  /** Does `outbox` hold the result `name`? Starts watching `outbox` at its first question. */
  has(outbox: string, name: string): boolean {
    let names = this.seen.get(outbox);
    if (!names) {
      const set = (names = new Set<string>());
      this.seen.set(outbox, set);
      const w = watch(outbox, (_event, file) => {
        if (typeof file === 'string' && file.endsWith('.result.xml')) set.add(file);
        this.wake?.();
      });
      this.watchers.push(w);
      for (const n of readdirSync(outbox)) if (n.endsWith('.result.xml')) set.add(n);
    }
    return names.has(name);
  }

  async until(check: () => boolean, what: string, timeoutMs = 600_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    for (const w of this.watchers.splice(0)) w.close();
    this.seen.clear();
  }
}

/** A first file through the service, then the rest of the warm-up files dropped at once. */
async function warmUp(results: Results, inbox: string, outbox: string, licence: string): Promise<void> {
  const first = drop(inbox, licence);
  await results.until(() => results.has(outbox, first), 'the first result');
  const rest = Array.from({ length: warmup - 1 }, () => drop(inbox, licence));
  await results.until(() => rest.every((n) => results.has(outbox, n)), 'the warm-up results');
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const median = (xs: number[]) =>
  pct(
    [...xs].sort((a, b) => a - b),
    50,
  );
const seconds = (ms: number[]) => ms.map((m) => (m / 1000).toFixed(2)).join(', ');

/**
 * A fresh store with these sponsors and `cas-bdt watch` on it, for the time of `run`
 * (given the folder tree's root); the service's last log lines are printed if it fails.
 */
async function withService(
  store: string,
  sponsorsAllocations: [string, number][],
  run: (root: string, results: Results, pid: number) => Promise<void>,
): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), `cas-bdt-small-${store}-`));
  const pg = store === 'postgres' ? await createPgDatabase() : undefined;
  const where = pg ? ['--db', pg.url] : ['--data', path.join(work, 'data')];
  const root = path.join(work, 'bdt');
  for (const [licence, allocation] of sponsorsAllocations) {
    const c = casBdt([...where, '--root', root, 'sponsor', 'add', licence, '--name', 'Bench', '--allocation', String(allocation)]);
    const added = spawnSync(c.command, c.args, { encoding: 'utf8', env: c.env });
    if (added.status !== 0) throw new Error(`sponsor add failed: ${added.stderr}`);
  }
  const c = casBdt([...where, '--root', root, '--settle-ms', String(settleMs), 'watch', '--log-format', 'json'], serviceNodeArgs);
  const service = spawn(c.command, c.args, { stdio: ['ignore', 'ignore', 'pipe'], env: c.env });
  let log = '';
  service.stderr!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-20_000)));
  const results = new Results();
  try {
    await run(root, results, service.pid!);
  } catch (err) {
    console.error(log);
    throw err;
  } finally {
    results.close();
    service.kill('SIGTERM');
    await new Promise((r) => service.once('exit', r));
    await pg?.drop();
    rmSync(work, { recursive: true, force: true });
  }
}

const peer = findPeer();
if ('missing' in peer) console.log(`no peer column: ${peer.missing}`);

/**
 * The peer's own time (ms) for `count` one-record files of each licence, written like the
 * service's, in one process on a fresh database: the median of `repeat` runs on the same
 * files; undefined without the peer.
 */
async function peerOn(counts: [string, number][], what: string): Promise<number | undefined> {
  if ('missing' in peer) return undefined;
  const work = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-small-peer-'));
  try {
    const files: string[] = [];
    for (const [licence, count] of counts)
      for (let i = 0; i < count; i++) {
        const file = path.join(work, `${licence}-${i}.xml`);
        const n = seq++;
        const text = uploadText({
          licence,
          fileId: `SMALL-${n}`,
          records: [casXml({ applicantId: `S-${n}`, passport: `P${String(n).padStart(9, '0')}` })],
        });
        writeFileSync(file, Buffer.from(text, 'latin1'));
        files.push(file);
      }
    const runs: number[] = [];
    let cpu = '';
    for (let r = 0; r < repeat; r++) {
      const run = await peer.many(files, work);
      runs.push(run.ms);
      cpu = run.cpu;
    }
    console.log(
      `peer     ${what}: median ${(median(runs) / 1000).toFixed(2)} s of ${seconds(runs)} (its own time, one process; ${cpu} in the last run, start included)`,
    );
    return median(runs);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const BACKLOG = `backlog of ${files} one-record files`;
const backlogPeerMs = await peerOn([[LICENCE, files]], BACKLOG);

/** Files per second of each store, by workload: the embedded store's ratio to PostgreSQL is printed at the end. */
const rates = new Map<string, Map<string, number>>();
function rated(workload: string, store: string, perSecond: number): void {
  if (!rates.has(workload)) rates.set(workload, new Map());
  rates.get(workload)!.set(store, perSecond);
}

for (const store of String(values.stores).split(',')) {
  await withService(store, [[LICENCE, files * repeat + trickle + warmup + 10]], async (root, results, pid) => {
    const inbox = path.join(root, LICENCE, 'inbox');
    const outbox = path.join(root, LICENCE, 'outbox');
    // Ready once a first file has gone through, then the rest of the warm-up, dropped at once.
    await warmUp(results, inbox, outbox, LICENCE);
    const drains: number[] = [];
    for (let r = 0; r < repeat; r++) {
      const staged = Array.from({ length: files }, () => stage(inbox));
      const cpuBefore = cpuSnapshot(pid);
      const dropped = performance.now();
      const names = dropAll(staged);
      let firstDone = 0;
      await results.until(() => {
        const done = names.filter((n) => results.has(outbox, n)).length;
        if (done > 0 && firstDone === 0) firstDone = performance.now();
        return done === names.length;
      }, `${files} results`);
      const drainedMs = performance.now() - dropped;
      const beyondMs = Math.max(1, drainedMs - settleMs);
      drains.push(beyondMs);
      const cpu = cpuPerFile(cpuSince(cpuBefore, pid), files, { embedded: store === 'pglite' });
      const vsPeer = backlogPeerMs === undefined ? '' : `; ${speedRatio(backlogPeerMs, beyondMs)} the peer's median`;
      console.log(
        `${store.padEnd(8)} ${BACKLOG}, run ${r + 1}: drained in ${(drainedMs / 1000).toFixed(1)} s ` +
          `(${((files * 1000) / beyondMs).toFixed(1)} files/s beyond the ${settleMs} ms settle; first result ${Math.round(firstDone - dropped)} ms after the drop${vsPeer}; ${cpu})`,
      );
    }
    const drainRate = (files * 1000) / median(drains);
    rated(BACKLOG, store, drainRate);
    console.log(
      `${store.padEnd(8)} ${BACKLOG}: median ${drainRate.toFixed(1)} files/s` +
        (backlogPeerMs === undefined ? '' : `, ${speedRatio(backlogPeerMs, median(drains))} the peer (medians)`),
    );

    const latencies: number[] = [];
    for (let i = 0; i < trickle; i++) {
      const file = stage(inbox);
      const t = performance.now();
      file.drop();
      const name = file.result;
      await results.until(() => results.has(outbox, name), 'a trickled result');
      latencies.push(performance.now() - t - settleMs);
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `${store.padEnd(8)} one file at a time (${trickle}): drop-to-result beyond settle p50 ${Math.round(pct(latencies, 50))} ms, ` +
        `p95 ${Math.round(pct(latencies, 95))} ms, max ${Math.round(latencies.at(-1)!)} ms`,
    );
  });
}

/** S sponsors x F one-record files, all dropped at once into their inboxes, beside the peer on the same files. */
const sponsors = Number(values.sponsors);
const perSponsor = Number(values['per-sponsor']);
const licences = Array.from({ length: sponsors }, (_, i) => `BENCHS${String(i).padStart(3, '0')}`);
const MANY = `${sponsors} sponsors x ${perSponsor} one-record files`;
const peerMs =
  sponsors > 0
    ? await peerOn(
        licences.map((l) => [l, perSponsor]),
        MANY,
      )
    : undefined;

for (const store of sponsors > 0 ? String(values.stores).split(',') : []) {
  await withService(
    store,
    licences.map((l) => [l, perSponsor * repeat + warmup + 10]),
    async (root, results, pid) => {
      const outbox = (licence: string) => path.join(root, licence, 'outbox');
      // Ready once the first sponsor has taken its warm-up and each inbox a first file.
      await warmUp(results, path.join(root, licences[0]!, 'inbox'), outbox(licences[0]!), licences[0]!);
      const firsts = licences.map((licence) => [licence, drop(path.join(root, licence, 'inbox'), licence)] as const);
      await results.until(() => firsts.every(([licence, name]) => results.has(outbox(licence), name)), 'the first results');
      const runs: number[] = [];
      for (let r = 0; r < repeat; r++) {
        const staged = licences.map((licence) =>
          Array.from({ length: perSponsor }, () => stage(path.join(root, licence, 'inbox'), licence)),
        );
        const cpuBefore = cpuSnapshot(pid);
        const dropped = performance.now();
        // Sponsor after sponsor in turn, as files would arrive from many systems at once.
        for (let i = 0; i < perSponsor; i++) for (const files of staged) files[i]!.drop();
        const expected = new Map(licences.map((l, k) => [l, staged[k]!.map((f) => f.result)]));
        await results.until(
          () => licences.every((l) => expected.get(l)!.every((n) => results.has(outbox(l), n))),
          `${sponsors * perSponsor} results`,
        );
        const ms = Math.max(1, performance.now() - dropped - settleMs);
        runs.push(ms);
        const cpu = cpuPerFile(cpuSince(cpuBefore, pid), sponsors * perSponsor, { embedded: store === 'pglite' });
        const vsPeer = peerMs === undefined ? '' : `; ${speedRatio(peerMs, ms)} the peer's median`;
        console.log(
          `${store.padEnd(8)} ${MANY} at once, run ${r + 1}: ${(ms / 1000).toFixed(2)} s beyond the ${settleMs} ms settle, ` +
            `${((sponsors * perSponsor * 1000) / ms).toFixed(1)} files/s${vsPeer}; ${cpu}`,
        );
      }
      const rate = (sponsors * perSponsor * 1000) / median(runs);
      rated(MANY, store, rate);
      console.log(
        `${store.padEnd(8)} ${MANY} at once: median ${rate.toFixed(1)} files/s` +
          (peerMs === undefined ? '' : `, ${speedRatio(peerMs, median(runs))} the peer (medians)`),
      );
    },
  );
}
for (const [workload, byStore] of rates) {
  const pg = byStore.get('postgres');
  const embedded = byStore.get('pglite');
  if (pg && embedded) console.log(`${workload}: PGlite / PostgreSQL ${(embedded / pg).toFixed(2)}x`);
}
console.log(
  `load average: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
