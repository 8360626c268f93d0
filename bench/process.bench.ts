/**
 * Throughput and memory of `cas-bdt process` on both stores: generates uploads of N
 * records in the real format (10,000 and 50,000 by default), runs the real CLI in a child
 * process, and prints records per second, the child's peak RSS (GNU time's maximum
 * resident set size), where the time went stage by stage (`process --timings`), and the
 * ratio to `xmllint --noout --schema` on the same file when xmllint is installed. The
 * peer (peer.ts) runs first on the same file, on a fresh database of its own, and each
 * side's speed is given as a ratio: PostgreSQL to the peer, PGlite to PostgreSQL.
 *
 *   npm run bench -- [--records N[,N...]] [--stores pglite,postgres] [--peer FILE]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { casXml, uploadText } from '../test/helpers/bdt.ts';
import { createPgDatabase } from '../test/helpers/stores.ts';
import { casBdt } from './command.ts';
import { cpuSince, cpuSnapshot } from './cpu.ts';
import { findPeer, speedRatio } from './peer.ts';

const { values } = parseArgs({
  strict: false,
  options: {
    records: { type: 'string', default: '10000,50000' },
    stores: { type: 'string', default: 'pglite,postgres' },
  },
});
const sizes = String(values.records).split(',').map(Number);
const stores = String(values.stores).split(',');
const LICENCE = 'BENCH0001';

function generate(file: string, n: number): number {
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

function cli(args: string[], cwd: string): { ms: number; maxRssKb: number; cpuS: number; stdout: string; stderr: string } {
  const started = process.hrtime.bigint();
  const c = casBdt(args);
  const res = spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M CPU %U %S', c.command, ...c.args], {
    cwd,
    env: c.env,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 0 && res.status !== 3) throw new Error(`cas-bdt ${args.join(' ')} failed (${res.status}): ${res.stderr}`);
  const maxRssKb = Number(/MAXRSS (\d+)/.exec(res.stderr)?.[1] ?? NaN);
  const cpu = /CPU ([\d.]+) ([\d.]+)/.exec(res.stderr);
  return { ms, maxRssKb, cpuS: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN, stdout: res.stdout, stderr: res.stderr };
}

/** Wall time of `xmllint --noout --schema` on the file (the floor), or undefined without xmllint. */
function xmllint(file: string): number | undefined {
  const schema = path.resolve(import.meta.dirname, '../schemas/upload-general.xsd');
  const started = process.hrtime.bigint();
  const res = spawnSync('xmllint', ['--noout', '--schema', schema, file], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (res.error) return undefined;
  if (res.status !== 0) throw new Error(`xmllint refused the bench file: ${res.stderr.slice(0, 2000)}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

interface Timings {
  timings: Record<string, number>;
  memoryPeaksMb: Record<string, number>;
  stagesAtPeakRss?: string[];
  memoryAtPeakRssMb?: Record<string, number>;
}

function stagesOf(stderr: string): Timings {
  const line = stderr.split('\n').find((l) => l.startsWith('{"timings":'));
  return line ? (JSON.parse(line) as Timings) : { timings: {}, memoryPeaksMb: {} };
}

const peer = findPeer();
if ('missing' in peer) console.log(`no peer columns: ${peer.missing}`);
/** Every ratio of the run, printed together at the end. */
const ratios: string[] = [];

const dir = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-bench-'));
try {
  for (const n of sizes) {
    const file = path.join(dir, `bench-${n}.xml`);
    const size = generate(file, n);
    const lintMs = xmllint(file);
    console.log(
      `\n${n} records, ${(size / 1024 / 1024).toFixed(1)} MB` +
        (lintMs === undefined
          ? ' (xmllint not installed: no ratio)'
          : `; xmllint --noout --schema: ${(lintMs / 1000).toFixed(2)} s, ${Math.round((n * 1000) / lintMs)} records/s`),
    );
    const wallMs: Record<string, number> = {};
    if (!('missing' in peer)) {
      const p = await peer.one(file, path.join(dir, `peer-${n}.result.xml`));
      wallMs.peer = p.ms;
      console.log(
        `peer     ${(p.ms / 1000).toFixed(2)} s wall, ${Math.round((n * 1000) / p.ms)} records/s, peak RSS ${(p.maxRssKb / 1024).toFixed(0)} MB (lxml + psycopg2, start-up included); ` +
          `CPU ${(p.cpu.serviceMs / 1000).toFixed(2)} s, PostgreSQL's ${(p.cpu.postgresMs / 1000).toFixed(2)} s`,
      );
    }
    for (const store of stores) {
      const work = mkdtempSync(path.join(dir, `${store}-`));
      const pg = store === 'postgres' ? await createPgDatabase() : undefined;
      const where = pg ? ['--db', pg.url] : ['--data', path.join(work, 'data')];
      try {
        cli([...where, '--root', path.join(work, 'bdt'), 'sponsor', 'add', LICENCE, '--name', 'Bench', '--allocation', String(n)], work);
        // A generous validation limit: a busy machine must not turn a slow run into E_LIMIT.
        const cpuBefore = cpuSnapshot(undefined);
        const run = cli(
          [
            ...where,
            '--root',
            path.join(work, 'bdt'),
            '--validate-timeout-s',
            '600',
            'process',
            file,
            '--sponsor',
            LICENCE,
            '--json',
            '--timings',
          ],
          work,
        );
        const postgresMs = cpuSince(cpuBefore, undefined).postgresMs;
        const [summary] = JSON.parse(run.stdout) as { outcome: string; counts: Record<string, number> }[];
        wallMs[store] = run.ms;
        const rss = `${(run.maxRssKb / 1024).toFixed(0)} MB`;
        if (store === 'postgres' && wallMs.peer !== undefined)
          ratios.push(`${n} records, PostgreSQL / peer: ${speedRatio(wallMs.peer, run.ms)} (peak RSS ${rss})`);
        if (store === 'pglite') ratios.push(`${n} records, PGlite peak RSS ${rss}`);
        const ratio = lintMs === undefined ? '' : `, ${(run.ms / lintMs).toFixed(1)}x xmllint`;
        console.log(
          `${store.padEnd(8)} ${summary!.outcome} ${JSON.stringify(summary!.counts)}\n` +
            `${store.padEnd(8)} ${(run.ms / 1000).toFixed(2)} s wall, ${Math.round((n * 1000) / run.ms)} records/s, ` +
            `${Math.round((summary!.counts.assigned! * 1000) / run.ms)} CAS/s, peak RSS ${(run.maxRssKb / 1024).toFixed(0)} MB (node, with the validation threads), ` +
            `CPU ${run.cpuS.toFixed(2)} s (all threads of the process)` +
            (pg ? `, PostgreSQL's ${(postgresMs / 1000).toFixed(2)} s` : '') +
            ratio,
        );
        const { timings, memoryPeaksMb, stagesAtPeakRss, memoryAtPeakRssMb } = stagesOf(run.stderr);
        const stages = Object.entries(timings);
        if (stages.length)
          console.log(
            `${store.padEnd(8)} stages (ms, overlapping ones each timed on their own): ${stages.map(([k, v]) => `${k} ${Math.round(v)}`).join(' | ')}`,
          );
        const peaks = Object.entries(memoryPeaksMb);
        if (peaks.length) {
          const during = stagesAtPeakRss?.length ? `; RSS peaked during: ${stagesAtPeakRss.join(' > ')}` : '; RSS peaked at the end';
          console.log(
            `${store.padEnd(8)} main thread memory peaks (MB, sampled): ${peaks.map(([k, v]) => `${k} ${v}`).join(' | ')}${during}`,
          );
          const atPeak = Object.entries(memoryAtPeakRssMb ?? {});
          if (atPeak.length) console.log(`${store.padEnd(8)} at the peak of RSS (MB): ${atPeak.map(([k, v]) => `${k} ${v}`).join(' | ')}`);
        }
      } finally {
        await pg?.drop();
        rmSync(work, { recursive: true, force: true });
      }
    }
    if (wallMs.pglite !== undefined && wallMs.postgres !== undefined)
      ratios.push(`${n} records, PGlite / PostgreSQL: ${speedRatio(wallMs.postgres, wallMs.pglite)}`);
    rmSync(file, { force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\nratios (speed, higher is faster; wall times of this run): \n  ${ratios.join('\n  ')}`);
console.log(
  `load average: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
