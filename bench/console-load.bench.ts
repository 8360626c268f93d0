/**
 * Does serving the console slow file processing? The real `watch` (compiled CLI) takes
 * one N-record upload, once with nobody looking and once while a client loads the
 * console's pages, /metrics and /healthz back to back; each is timed by the service's own
 * `processed ... ms=` line. Runs alternate (quiet, loaded, quiet, loaded, ...).
 *
 *   npm run bench -- [--records N] [--rounds R] [--stores pglite,postgres]
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { casXml, uploadText } from '../test/helpers/bdt.ts';
import { createPgDatabase } from '../test/helpers/stores.ts';

const { values } = parseArgs({
  strict: false,
  options: {
    records: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    stores: { type: 'string', default: 'pglite,postgres' },
  },
});
const n = Number(values.records);
const rounds = Number(values.rounds);
const LICENCE = 'BENCH0001';
const BIN = path.resolve(import.meta.dirname, '../bin/cas-bdt.js');
const PAGES = ['/', '/submissions', '/metrics', '/healthz', '/cas?q=BENCH-0000001'];

const work = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-console-bench-'));
const source = path.join(work, 'upload.xml');
{
  const records = Array.from({ length: n }, (_, i) => casXml({ applicantId: `BENCH-${String(i).padStart(7, '0')}`, passport: `P${String(i).padStart(9, '0')}` }));
  writeFileSync(source, Buffer.from(uploadText({ licence: LICENCE, fileId: `BENCH-${n}`, records }), 'latin1'));
}

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cas-bdt ${args[0]} exited ${code}: ${err}`))));
  });
}

/** One file through `watch`; returns the service's own milliseconds and how many pages were served meanwhile. */
async function once(storeArgs: string[], loaded: boolean, port: number): Promise<{ ms: number; pages: number }> {
  const root = mkdtempSync(path.join(work, 'root-'));
  await run(['sponsor', 'add', LICENCE, '--name', 'Bench University', '--allocation', String(n * 2), '--root', root, ...storeArgs]);
  const watch = spawn(process.execPath, [BIN, 'watch', '--root', root, '--settle-ms', '100', '--http', `127.0.0.1:${port}`, ...storeArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const processed = new Promise<number>((resolve, reject) => {
    watch.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /processed .*ms=(\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    watch.on('exit', (code) => reject(new Error(`watch exited ${code} before the file was processed: ${log}`)));
  });
  // Ready when HTTP answers.
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  let pages = 0;
  let done = false;
  const client = loaded
    ? (async () => {
        while (!done) {
          for (const p of PAGES) {
            if (done) break;
            await fetch(`http://127.0.0.1:${port}${p}`).then((r) => r.arrayBuffer());
            pages++;
          }
        }
      })()
    : Promise.resolve();
  copyFileSync(source, path.join(root, LICENCE, 'inbox', '.upload.part'));
  const { renameSync } = await import('node:fs');
  renameSync(path.join(root, LICENCE, 'inbox', '.upload.part'), path.join(root, LICENCE, 'inbox', 'upload.xml'));
  const ms = await processed;
  done = true;
  await client;
  watch.removeAllListeners('exit');
  const exited = new Promise((r) => watch.on('exit', r));
  watch.kill('SIGTERM');
  await exited;
  return { ms, pages };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
let port = 18_470;
for (const store of String(values.stores).split(',')) {
  const quiet: number[] = [];
  const loaded: number[] = [];
  let served = 0;
  for (let r = 0; r < rounds; r++) {
    for (const withPages of [false, true]) {
      let storeArgs: string[];
      let drop = async () => {};
      if (store === 'postgres') {
        const pg = await createPgDatabase();
        storeArgs = ['--db', pg.url];
        drop = pg.drop;
      } else storeArgs = ['--data', mkdtempSync(path.join(work, 'data-'))];
      const res = await once(storeArgs, withPages, port++);
      await drop();
      (withPages ? loaded : quiet).push(res.ms);
      if (withPages) served += res.pages;
    }
  }
  const q = median(quiet);
  const l = median(loaded);
  console.log(
    `${store}: ${n} records, median of ${rounds}: ${q} ms alone, ${l} ms while ${Math.round(served / rounds)} pages were loaded (${(((l - q) / q) * 100).toFixed(1)}%); runs alone ${quiet.join(', ')}, loaded ${loaded.join(', ')}`,
  );
}
rmSync(work, { recursive: true, force: true });
