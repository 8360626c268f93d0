/**
 * Scenario 6: the embedded store survives a power cut. `cas-bdt process` runs on PGlite
 * under strace with files of mixed sizes; every result must be linked into the outbox
 * only after the WAL holding its submission's commit was flushed, and after its own
 * content was (flush-order.ts). The wall time per file includes those flushes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../../src/db/client.ts';
import { checkRun } from '../checks.ts';
import { seconds, type ScenarioResult } from '../common.ts';
import { hasStrace, tracedRun } from '../flush-order.ts';
import { addSponsors, licences, makeInput, recordCount, rng, type Input } from '../tree.ts';
import { createHash } from 'node:crypto';

export interface DurabilityOptions {
  work: string;
  files: number;
  maxRecords: number;
  seed: number;
}

export async function durabilityScenario(o: DurabilityOptions): Promise<ScenarioResult> {
  const title = `embedded store under strace, ${o.files} files through process`;
  if (!hasStrace()) throw new Error('strace is not installed (apt-get install strace)');
  const base = path.join(o.work, 'durable');
  const root = path.join(base, 'bdt');
  const data = path.join(base, 'data');
  const staged = path.join(base, 'in');
  mkdirSync(staged, { recursive: true });
  const [licence] = licences('DUR', 1) as [string];
  const setup = await openStore({ databaseUrl: undefined, dataDir: data });
  await addSponsors(setup.db, root, [licence], 10_000_000).finally(() => setup.close());
  const random = rng(o.seed);
  const inputs: Input[] = [];
  const files: string[] = [];
  for (let i = 0; i < o.files; i++) {
    const name = `p-${String(i).padStart(4, '0')}.xml`;
    const made = makeInput(licence, `DUR${i}`, recordCount(random, o.maxRecords));
    writeFileSync(path.join(staged, name), made.bytes);
    files.push(path.join(staged, name));
    inputs.push({ licence, name, sha256: createHash('sha256').update(made.bytes).digest('hex'), records: made.records, expect: 'archive' });
  }
  const trace = path.join(base, 'trace');
  const t0 = performance.now();
  const r = tracedRun(['process', ...files, '--sponsor', licence, '--data', data, '--root', root], trace);
  const wallS = seconds(t0);
  const failures: string[] = [];
  if (r.status !== 0) failures.push(`process exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const order = r.order;
  failures.push(...order.unflushed);
  if (order.results !== o.files) failures.push(`${order.results} results linked for ${o.files} files`);
  // `process` leaves its inputs where they are: "lost" and "moved" do not apply here.
  const store = await openStore({ databaseUrl: undefined, dataDir: data });
  const figures = await checkRun(store.db, root, inputs).finally(() => store.close());
  figures.inputsLost = 0;
  figures.problems = figures.problems.filter((p) => !p.includes('input lost'));
  figures.processed = figures.files - figures.notOneResult;
  return {
    title,
    figures,
    wallS,
    extra: {
      'results linked': order.results,
      'before their commit was flushed': order.unflushed.length,
      'WAL flushes': order.walFlushes,
      'per file (traced)': `${((wallS * 1000) / o.files).toFixed(0)} ms`,
    },
    failures,
  };
}
