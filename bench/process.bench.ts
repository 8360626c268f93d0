/**
 * Throughput and memory of `cas-bdt process` on both stores: generates an N-record upload
 * in the real format, runs the real CLI in a child process, and prints records per second
 * and the child's peak RSS (GNU time's maximum resident set size).
 *
 *   npm run bench -- [--records N] [--stores pglite,postgres]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { casXml, uploadText } from '../test/helpers/bdt.ts';
import { createPgDatabase } from '../test/helpers/stores.ts';

const { values } = parseArgs({
  strict: false,
  options: {
    records: { type: 'string', default: '20000' },
    stores: { type: 'string', default: 'pglite,postgres' },
  },
});
const n = Number(values.records);
const stores = String(values.stores).split(',');
const LICENCE = 'BENCH0001';
const BIN = path.resolve(import.meta.dirname, '../bin/cas-bdt.js');

function generate(file: string): number {
  const records: string[] = [];
  for (let i = 0; i < n; i++) {
    records.push(
      casXml({
        applicantId: `BENCH-${String(i).padStart(7, '0')}`,
        familyName: i % 7 === 0 ? 'Müller-Ñúñez' : 'Okafor',
        passport: `P${String(i).padStart(9, '0')}`,
        // A share of records with a warning or an error, as in real files.
        ...(i % 10 === 3 ? { evidence: null } : {}),
        ...(i % 50 === 7 ? { courseEnd: '2020-01-01' } : {}),
      }),
    );
  }
  const bytes = Buffer.from(uploadText({ licence: LICENCE, fileId: `BENCH-${n}`, records }), 'latin1');
  writeFileSync(file, bytes);
  return bytes.length;
}

function cli(args: string[], cwd: string): { ms: number; maxRssKb: number; stdout: string } {
  const started = process.hrtime.bigint();
  const res = spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M', process.execPath, BIN, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 0 && res.status !== 3) throw new Error(`cas-bdt ${args.join(' ')} failed (${res.status}): ${res.stderr}`);
  const maxRssKb = Number(/MAXRSS (\d+)/.exec(res.stderr)?.[1] ?? NaN);
  return { ms, maxRssKb, stdout: res.stdout };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-bench-'));
const file = path.join(dir, 'bench.xml');
const size = generate(file);
console.log(`generated ${n} records, ${(size / 1024 / 1024).toFixed(1)} MB`);

for (const store of stores) {
  const work = mkdtempSync(path.join(dir, `${store}-`));
  const pg = store === 'postgres' ? await createPgDatabase() : undefined;
  const where = pg ? ['--db', pg.url] : ['--data', path.join(work, 'data')];
  try {
    cli([...where, '--root', path.join(work, 'bdt'), 'sponsor', 'add', LICENCE, '--name', 'Bench', '--allocation', String(n)], work);
    const run = cli([...where, '--root', path.join(work, 'bdt'), 'process', file, '--sponsor', LICENCE, '--json'], work);
    const [summary] = JSON.parse(run.stdout) as { outcome: string; counts: Record<string, number> }[];
    console.log(
      `${store.padEnd(8)} ${summary!.outcome} ${JSON.stringify(summary!.counts)}\n` +
        `${store.padEnd(8)} ${(run.ms / 1000).toFixed(1)} s wall, ${Math.round((n * 1000) / run.ms)} records/s, peak RSS ${(run.maxRssKb / 1024).toFixed(0)} MB (node, with the validation threads)`,
    );
  } finally {
    await pg?.drop();
  }
}
rmSync(dir, { recursive: true, force: true });
