/**
 * `npm run bench`: every benchmark in turn, each in its own process, with the same
 * arguments (each takes the options it knows and ignores the rest).
 *
 *   npm run bench -- [--records N[,N...]] [--files N] [--trickle M] [--stores pglite,postgres] [--pairs P] [--console off]
 *
 * (`--records` also sizes the console-load runs when given one number; by default they use 10,000.)
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const BENCHES = [
  'start.bench.ts',
  'process.bench.ts',
  'small-files.bench.ts',
  'console-load.bench.ts',
  'statements.bench.ts',
  'export-delta.bench.ts',
];

for (const bench of BENCHES) {
  console.log(`\n== ${bench}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, bench), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
