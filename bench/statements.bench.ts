/**
 * CAS statements in bulk: a sponsor's N CAS (one file of N records, processed and assigned
 * first) written as PDFs by `cas-bdt cas statements --sponsor L --out DIR`, the whole
 * command timed as an operator runs it (start, store, queries, rendering, atomic writes).
 * The target is 1,000 statements in under 30 s.
 *
 *   npm run bench -- [--statements N] [--stores pglite,postgres]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { casXml, uploadText } from '../test/helpers/bdt.ts';
import { createPgDatabase } from '../test/helpers/stores.ts';

const { values } = parseArgs({
  strict: false,
  options: {
    statements: { type: 'string', default: '1000' },
    stores: { type: 'string', default: 'pglite,postgres' },
  },
});
const n = Number(values.statements);
const LICENCE = 'BENCH0002';
const BIN = path.resolve(import.meta.dirname, '../bin/cas-bdt.js');

function cli(args: string[]): void {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`cas-bdt ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

for (const store of String(values.stores).split(',')) {
  const work = mkdtempSync(path.join(os.tmpdir(), `cas-bdt-stmt-${store}-`));
  const pg = store === 'postgres' ? await createPgDatabase() : undefined;
  try {
    const base = [...(pg ? ['--db', pg.url] : ['--data', path.join(work, 'data')]), '--root', path.join(work, 'bdt')];
    cli([...base, 'sponsor', 'add', LICENCE, '--name', 'Bench University', '--allocation', String(n)]);
    const file = path.join(work, 'intake.xml');
    const records = Array.from({ length: n }, (_, i) =>
      casXml({ applicantId: `B-${i}`, passport: `P${String(i).padStart(9, '0')}`, familyName: `Ñúñez-${i}`, givenName: 'Zoë' }),
    );
    writeFileSync(file, Buffer.from(uploadText({ licence: LICENCE, fileId: 'BENCH-STATEMENTS', records }), 'latin1'));
    cli([...base, 'process', file, '--sponsor', LICENCE, '--out', path.join(work, 'results')]);

    const out = path.join(work, 'statements');
    const started = performance.now();
    cli([...base, 'cas', 'statements', '--sponsor', LICENCE, '--out', out]);
    const seconds = (performance.now() - started) / 1000;
    const written = readdirSync(out).filter((f) => f.endsWith('.statement.pdf'));
    if (written.length !== n) throw new Error(`${written.length} statements written, ${n} expected`);
    const bytes = written.reduce((sum, f) => sum + statSync(path.join(out, f)).size, 0);
    console.log(
      `${store}: ${n} statements in ${seconds.toFixed(1)} s (${(n / seconds).toFixed(0)} per second, ` +
        `${(bytes / n / 1024).toFixed(1)} KiB each), target under 30 s: ${seconds < 30 ? 'met' : 'MISSED'}; ` +
        `load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
    );
  } finally {
    await pg?.drop();
    rmSync(work, { recursive: true, force: true });
  }
}
