/**
 * How fast the CLI starts: `--help`, `sponsor --help` and `sponsor list` on PostgreSQL,
 * each run N times as a real process (median and worst, wall time).
 *
 *   npm run bench -- [--start-runs N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPgDatabase } from '../test/helpers/stores.ts';

const { values } = parseArgs({ strict: false, options: { 'start-runs': { type: 'string', default: '10' } } });
const runs = Number(values['start-runs']);
const BIN = path.resolve(import.meta.dirname, '../bin/cas-bdt.js');

function time(args: string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    out.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`cas-bdt ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return out.sort((a, b) => a - b);
}

const pg = await createPgDatabase();
const work = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-start-'));
try {
  const where = ['--db', pg.url, '--root', path.join(work, 'bdt')];
  spawnSync(process.execPath, [BIN, ...where, 'sponsor', 'add', 'BENCH0001', '--name', 'Bench'], { encoding: 'utf8' });
  const baseline = (() => {
    const out: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      spawnSync(process.execPath, ['-e', '0']);
      out.push(performance.now() - t);
    }
    return out.sort((a, b) => a - b);
  })();
  const line = (label: string, ms: number[]) =>
    console.log(`${label.padEnd(28)} median ${Math.round(ms[Math.floor(ms.length / 2)]!)} ms, worst ${Math.round(ms.at(-1)!)} ms`);
  line('node -e 0 (the floor)', baseline);
  line('cas-bdt --help', time(['--help']));
  line('cas-bdt sponsor --help', time(['sponsor', '--help']));
  line('cas-bdt sponsor list (PG)', time([...where, 'sponsor', 'list']));
} finally {
  await pg.drop();
  rmSync(work, { recursive: true, force: true });
}
