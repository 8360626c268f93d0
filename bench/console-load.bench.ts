/**
 * Does serving the console slow file processing? One real `watch` (compiled CLI) per
 * store takes a series of N-record uploads (each with its own file id and applicants,
 * so each is new work of the same size), alternately with nobody looking ("quiet") and
 * while a client loads `/` and `/submissions` back to back, one request at a time
 * ("loaded"). Runs go in pairs ordered quiet-loaded, loaded-quiet, ... so that a drift
 * (a table that grows, a neighbour's load) weighs on both sides alike. Each file is timed
 * by the service's own `processed` log line (`ms`).
 *
 * Printed per store: the median and spread of each side, the median of the paired
 * differences (loaded minus quiet, in % of quiet) and its spread, pages served per
 * loaded run, and the load average before and after.
 *
 *   npm run bench -- [--records N] [--pairs P] [--stores pglite,postgres] [--console off]
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { casXml, uploadText } from '../test/helpers/bdt.ts';

import { createPgDatabase } from '../test/helpers/stores.ts';

/** The console's token for this run: the pages need it (/healthz does not). */
const CONSOLE_TOKEN = randomBytes(32).toString('base64url');

const { values } = parseArgs({
  strict: false,
  options: {
    records: { type: 'string', default: '10000' },
    pairs: { type: 'string', default: '4' },
    stores: { type: 'string', default: 'pglite,postgres' },
    console: { type: 'string', default: 'on' },
  },
});
if (values.console === 'off') {
  console.log('console load: skipped (--console off)');
  process.exit(0);
}
// The first size when several are given for the process bench (`--records 10000,50000`).
const n = Number(String(values.records).split(',')[0]);
const pairs = Number(values.pairs);
const LICENCE = 'BENCH0001';
const BIN = path.resolve(import.meta.dirname, '../bin/cas-bdt.js');
/** What an operator keeps open: the overview and the submissions list. */
const PAGES = ['/', '/submissions'];

const work = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-console-bench-'));

/** Upload `k` of the series: its own file id and applicants, the same size as the others. */
function upload(k: number): string {
  const records = Array.from({ length: n }, (_, i) =>
    casXml({ applicantId: `R${k}-${String(i).padStart(7, '0')}`, passport: `P${k}${String(i).padStart(8, '0')}` }),
  );
  const file = path.join(work, `upload-${k}.xml`);
  writeFileSync(file, Buffer.from(uploadText({ licence: LICENCE, fileId: `BENCH-${n}-${k}`, records }), 'latin1'));
  return file;
}

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cas-bdt ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const spread = (xs: number[]) => `${Math.round(sorted(xs)[0]!)}-${Math.round(sorted(xs).at(-1)!)}`;

/** One `watch` for the whole series; `drop` gives it a file and resolves with the service's own milliseconds. */
async function startWatch(storeArgs: string[], port: number) {
  const root = mkdtempSync(path.join(work, 'root-'));
  await run([
    'sponsor',
    'add',
    LICENCE,
    '--name',
    'Bench University',
    '--allocation',
    String(n * (2 * pairs + 2)),
    '--root',
    root,
    ...storeArgs,
  ]);
  const watch = spawn(
    process.execPath,
    [
      BIN,
      'watch',
      '--root',
      root,
      '--settle-ms',
      '100',
      '--log-format',
      'json',
      '--validate-timeout-s',
      '600',
      '--http',
      `127.0.0.1:${port}`,
      ...storeArgs,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      // The console's token for this run (the pages need it; /healthz does not).
      env: { ...process.env, CAS_BDT_HTTP_TOKEN: CONSOLE_TOKEN },
    },
  );
  let buffered = '';
  const waiting = new Map<string, (ms: number) => void>();
  let exited: Error | undefined;
  watch.stderr.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { msg?: string; result?: string; ms?: number; outcome?: string };
      if (entry.msg !== 'processed' || entry.result === undefined) continue;
      if (entry.outcome !== 'ACCEPTED') exited = new Error(`a bench file was ${entry.outcome}: ${line}`);
      waiting.get(entry.result)?.(entry.ms!);
    }
  });
  watch.on('exit', (code) => {
    exited = new Error(`watch exited ${code}`);
    for (const w of waiting.values()) w(NaN);
  });
  for (;;) {
    if (exited) throw exited;
    if (
      await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    async drop(file: string, name: string): Promise<number> {
      const inbox = path.join(root, LICENCE, 'inbox');
      const done = new Promise<number>((resolve) => waiting.set(`${name}.result.xml`, resolve));
      // Written aside and renamed in: the service sees the whole file at once.
      writeFileSync(path.join(inbox, `.${name}.part`), readFileSync(file));
      renameSync(path.join(inbox, `.${name}.part`), path.join(inbox, `${name}.xml`));
      const ms = await done;
      if (exited) throw exited;
      return ms;
    },
    async stop(): Promise<void> {
      watch.removeAllListeners('exit');
      const gone = new Promise((r) => watch.once('exit', r));
      watch.kill('SIGTERM');
      await gone;
    },
  };
}

/** Loads the pages back to back until `stop` is set; resolves with how many were served. */
async function hammer(port: number, stop: { done: boolean }): Promise<number> {
  let pages = 0;
  while (!stop.done) {
    for (const p of PAGES) {
      if (stop.done) break;
      const res = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { authorization: `Bearer ${CONSOLE_TOKEN}` } });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`${p} answered ${res.status}`);
      pages++;
    }
  }
  return pages;
}

const files = Array.from({ length: 2 * pairs + 1 }, (_, k) => upload(k));
let port = 18_470 + (process.pid % 1000);
try {
  for (const store of String(values.stores).split(',')) {
    const before = loadavg();
    const pg = store === 'postgres' ? await createPgDatabase() : undefined;
    const storeArgs = pg ? ['--db', pg.url] : ['--data', mkdtempSync(path.join(work, 'data-'))];
    const service = await startWatch(storeArgs, ++port);
    const quiet: number[] = [];
    const loaded: number[] = [];
    const diffs: number[] = [];
    const served: number[] = [];
    try {
      // A first file warms the service up (engine threads, caches); it is not counted.
      await service.drop(files[0]!, 'warm-up');
      for (let p = 0; p < pairs; p++) {
        const pair: Record<'quiet' | 'loaded', number> = { quiet: 0, loaded: 0 };
        for (const side of p % 2 === 0 ? (['quiet', 'loaded'] as const) : (['loaded', 'quiet'] as const)) {
          const k = 1 + 2 * p + (side === 'quiet' ? 0 : 1);
          const stop = { done: false };
          const client = side === 'loaded' ? hammer(port, stop) : Promise.resolve(0);
          const ms = await service.drop(files[k]!, `upload-${k}`);
          stop.done = true;
          const pages = await client;
          pair[side] = ms;
          if (side === 'loaded') served.push(pages);
        }
        quiet.push(pair.quiet);
        loaded.push(pair.loaded);
        diffs.push(((pair.loaded - pair.quiet) / pair.quiet) * 100);
      }
    } finally {
      await service.stop();
      await pg?.drop();
    }
    const q = median(quiet);
    const l = median(loaded);
    console.log(
      `${store.padEnd(8)} ${n} records, ${pairs} pairs: quiet median ${Math.round(q)} ms (${spread(quiet)}), loaded median ${Math.round(l)} ms (${spread(loaded)}), ` +
        `${(((l - q) / q) * 100).toFixed(1)}%; paired difference median ${median(diffs).toFixed(1)}% (${sorted(diffs)
          .map((d) => d.toFixed(1))
          .join(', ')}); ` +
        `${Math.round(median(served))} pages per loaded run; load average ${before} -> ${loadavg()}`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
