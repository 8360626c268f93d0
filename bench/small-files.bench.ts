/**
 * Many small files through the real service: `cas-bdt watch` runs as a child process,
 * a backlog of N one-record files is dropped into one inbox at once and drained (files
 * per second), then files are dropped one at a time to measure the latency from the drop
 * to the result, beyond the settle time.
 *
 *   npm run bench -- [--files N] [--trickle M] [--stores postgres,pglite] [--settle-ms MS]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { casXml, uploadText } from '../test/helpers/bdt.ts';
import { createPgDatabase } from '../test/helpers/stores.ts';

const { values } = parseArgs({
  strict: false,
  options: {
    files: { type: 'string', default: '300' },
    trickle: { type: 'string', default: '20' },
    stores: { type: 'string', default: 'postgres' },
    'settle-ms': { type: 'string', default: '500' },
  },
});
const files = Number(values.files);
const trickle = Number(values.trickle);
const settleMs = Number(values['settle-ms']);
const LICENCE = 'BENCH0001';
const BIN = path.resolve(import.meta.dirname, '../bin/cas-bdt.js');

let seq = 0;
/** Writes a one-record file under a temporary name and renames it into the inbox: the drop is one moment. */
function drop(inbox: string): string {
  const n = seq++;
  const name = `small-${String(n).padStart(6, '0')}.xml`;
  const text = uploadText({
    licence: LICENCE,
    fileId: `SMALL-${n}`,
    records: [casXml({ applicantId: `S-${n}`, passport: `P${String(n).padStart(9, '0')}` })],
  });
  writeFileSync(path.join(inbox, `.${name}`), Buffer.from(text, 'latin1'));
  renameSync(path.join(inbox, `.${name}`), path.join(inbox, name));
  return name.replace(/\.xml$/, '.result.xml');
}

const results = (outbox: string) => new Set(readdirSync(outbox).filter((n) => n.endsWith('.result.xml')));

async function until(check: () => boolean, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

for (const store of String(values.stores).split(',')) {
  const work = mkdtempSync(path.join(os.tmpdir(), `cas-bdt-small-${store}-`));
  const pg = store === 'postgres' ? await createPgDatabase() : undefined;
  const where = pg ? ['--db', pg.url] : ['--data', path.join(work, 'data')];
  const root = path.join(work, 'bdt');
  const inbox = path.join(root, LICENCE, 'inbox');
  const outbox = path.join(root, LICENCE, 'outbox');
  const added = spawnSync(
    process.execPath,
    [BIN, ...where, '--root', root, 'sponsor', 'add', LICENCE, '--name', 'Bench', '--allocation', String(files + trickle + 10)],
    {
      encoding: 'utf8',
    },
  );
  if (added.status !== 0) throw new Error(`sponsor add failed: ${added.stderr}`);
  const service = spawn(
    process.execPath,
    [BIN, ...where, '--root', root, '--settle-ms', String(settleMs), 'watch', '--log-format', 'json'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  service.stderr!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-20_000)));
  try {
    // Ready once a first file has gone through.
    const first = drop(inbox);
    await until(() => results(outbox).has(first), 'the first result');

    const names: string[] = [];
    const dropped = performance.now();
    for (let i = 0; i < files; i++) names.push(drop(inbox));
    let firstDone = 0;
    await until(() => {
      const have = results(outbox);
      const done = names.filter((n) => have.has(n)).length;
      if (done > 0 && firstDone === 0) firstDone = performance.now();
      return done === names.length;
    }, `${files} results`);
    const drainedMs = performance.now() - dropped;
    const drainRate = (files * 1000) / Math.max(1, drainedMs - settleMs);

    const latencies: number[] = [];
    for (let i = 0; i < trickle; i++) {
      const t = performance.now();
      const name = drop(inbox);
      await until(() => results(outbox).has(name), 'a trickled result');
      latencies.push(performance.now() - t - settleMs);
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `${store.padEnd(8)} backlog of ${files} one-record files: drained in ${(drainedMs / 1000).toFixed(1)} s ` +
        `(${drainRate.toFixed(1)} files/s beyond the ${settleMs} ms settle; first result ${Math.round(firstDone - dropped)} ms after the drop)`,
    );
    console.log(
      `${store.padEnd(8)} one file at a time (${trickle}): drop-to-result beyond settle p50 ${Math.round(pct(latencies, 50))} ms, ` +
        `p95 ${Math.round(pct(latencies, 95))} ms, max ${Math.round(latencies.at(-1)!)} ms`,
    );
  } catch (err) {
    console.error(log);
    throw err;
  } finally {
    service.kill('SIGTERM');
    await new Promise((r) => service.once('exit', r));
    await pg?.drop();
    rmSync(work, { recursive: true, force: true });
  }
}
