/**
 * `npm run chaos`: sets up a throwaway PostgreSQL cluster and a folder tree, runs the
 * chaos scenarios and prints one line of figures per scenario (OK when every figure of
 * loss or duplication is 0). Exit 1 when any scenario fails.
 *
 *   npm run chaos -- [--only 1,2,...] [--scale F] [--backlog N] [--seed N]
 *
 * `--scale` multiplies every count (files, kills, outage length) for a quicker run;
 * `--backlog` sets the size of scenario 4's backlog alone (default 10,000 x scale).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster, type Cluster } from './cluster.ts';
import { formatLine, passed, type ScenarioResult } from './common.ts';
import { killsScenario } from './scenarios/kills.ts';
import { outageScenario } from './scenarios/outage.ts';
import { diskFullScenario } from './scenarios/disk-full.ts';
import { backlogScenario } from './scenarios/backlog.ts';
import { embeddedScenario } from './scenarios/embedded.ts';
import { durabilityScenario } from './scenarios/durability.ts';
import { exportsScenario } from './scenarios/exports.ts';

const { values } = parseArgs({
  strict: true,
  options: {
    only: { type: 'string', default: '1,2,3,4,5,6,7' },
    scale: { type: 'string', default: '1' },
    seed: { type: 'string', default: '14' },
    backlog: { type: 'string' },
  },
});
const only = new Set(String(values.only).split(',').map(Number));
const scale = Number(values.scale);
const seed = Number(values.seed);
if (!(scale > 0) || !Number.isInteger(seed)) throw new Error('--scale must be above 0 and --seed a whole number');
const n = (full: number, min = 1) => Math.max(min, Math.round(full * scale));
const MIN = 60_000;

const work = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-chaos-'));
const started = new Date();
console.log(
  `cas-bdt chaos, ${started.toISOString()}, ${os.hostname()}: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; scale ${scale}, seed ${seed}`,
);

let cluster: Cluster | undefined;
// Interrupted: the throwaway cluster and folders are removed (Ctrl-C reaches the instances
// too: they are in the terminal's process group).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void (cluster?.destroy() ?? Promise.resolve()).finally(() => {
      rmSync(work, { recursive: true, force: true });
      process.exit(130);
    });
  });
}
const results: ScenarioResult[] = [];
const report = (r: ScenarioResult) => {
  results.push(r);
  console.log(formatLine(r));
  for (const p of [...r.figures.problems.slice(0, 20), ...r.failures]) console.log(`     ${p.split('\n').join('\n     ')}`);
};
try {
  const needsCluster = [1, 2, 3, 4, 7].some((s) => only.has(s));
  if (needsCluster) cluster = await startCluster();
  const adminUrl = cluster?.url ?? '';
  const scenarios: [number, () => Promise<ScenarioResult>][] = [
    [
      1,
      () =>
        killsScenario({
          adminUrl,
          work,
          instances: 4,
          sponsors: 6,
          files: n(2000, 20),
          maxRecords: 500,
          hostileEvery: 50,
          kills: n(100, 3),
          killEveryMs: 2500,
          seed,
          timeoutMs: 30 * MIN,
        }),
    ],
    [
      2,
      () =>
        outageScenario({
          cluster: cluster!,
          work,
          instances: 2,
          sponsors: 3,
          files: n(400, 20),
          maxRecords: 100,
          dropEveryMs: 150,
          restarts: n(4, 1),
          outageMs: n(60_000, 5_000),
          seed,
          timeoutMs: 15 * MIN,
        }),
    ],
    [3, () => diskFullScenario({ adminUrl, work, files: n(300, 20), maxRecords: 20, outboxKb: 256, seed, timeoutMs: 15 * MIN })],
    [
      4,
      () =>
        backlogScenario({
          adminUrl,
          work,
          files: values.backlog ? Number(values.backlog) : n(10_000, 200),
          concurrency: 4,
          seed,
          timeoutMs: 30 * MIN,
        }),
    ],
    [5, () => embeddedScenario({ work, files: n(300, 10), maxRecords: 100, kills: n(20, 2), seed, timeoutMs: 15 * MIN })],
    [6, () => durabilityScenario({ work, files: n(20, 3), maxRecords: 500, seed })],
    [
      7,
      () =>
        exportsScenario({
          adminUrl,
          work,
          instances: 3,
          sponsors: 4,
          cas: n(2000, 50),
          rounds: n(40, 4),
          changesPerRound: n(50, 5),
          seed,
          timeoutMs: 10 * MIN,
        }),
    ],
  ];
  for (const [id, scenario] of scenarios) {
    if (!only.has(id)) continue;
    try {
      report(await scenario());
    } catch (err) {
      console.log(`FAIL scenario ${id}: ${(err as Error).stack ?? String(err)}`);
      results.push({ title: `scenario ${id}`, figures: { problems: [] } as never, wallS: 0, extra: {}, failures: [String(err)] });
    }
  }
} finally {
  await cluster?.destroy();
  rmSync(work, { recursive: true, force: true });
}
console.log(
  `${results.filter(passed).length} of ${results.length} scenarios passed in ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s; load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
process.exit(results.every(passed) ? 0 : 1);
