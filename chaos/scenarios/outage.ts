/**
 * Scenario 2: the database goes away under running `watch` instances while files keep
 * arriving. PostgreSQL is restarted (fast shutdown) while an instance is inside a file's
 * transaction, several times, then stopped for a minute: the instances keep running,
 * `/healthz` answers 503 while the database is gone and 200 once it is back, and every
 * file is processed once.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../../src/db/client.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { checkRun } from '../checks.ts';
import type { Cluster } from '../cluster.ts';
import { freePort } from '../cluster.ts';
import { midFile, openClaims, scenarioDatabase, seconds, waitFinished, type ScenarioResult } from '../common.ts';
import { Fleet } from '../instances.ts';
import { addSponsors, inputPlan, licences, type Input } from '../tree.ts';
import { watchArgs } from './kills.ts';

export interface OutageOptions {
  cluster: Cluster;
  work: string;
  instances: number;
  sponsors: number;
  files: number;
  maxRecords: number;
  /** A new file arrives this often (ms) until `files` have. */
  dropEveryMs: number;
  restarts: number;
  outageMs: number;
  seed: number;
  timeoutMs: number;
}

/** The status `/healthz` answers (0 when it does not answer at all). */
async function health(port: number): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

export async function outageScenario(o: OutageOptions): Promise<ScenarioResult> {
  const title = `database restarted ${o.restarts} times and stopped ${Math.round(o.outageMs / 1000)} s, ${o.instances} instances, ${o.files} files arriving`;
  const { url, store: setup } = await scenarioDatabase(o.cluster.url, 'chaos_outage');
  const root = path.join(o.work, 'outage');
  mkdirSync(root, { recursive: true });
  const sponsors = licences('OUT', o.sponsors);
  const port = await freePort();
  let fleet: Fleet | undefined;
  let dropping: NodeJS.Timeout | undefined;
  const failures: string[] = [];
  try {
    await addSponsors(setup.db, root, sponsors, 10_000_000);
    // The driver's own connections would be cut by the restarts: a fresh store checks at the end.
    await setup.close();
    const plan = inputPlan(root, { prefix: 'o', sponsors, files: o.files, maxRecords: o.maxRecords, hostileEvery: 0, seed: o.seed });
    const t0 = performance.now();
    // The first instance serves /healthz.
    fleet = new Fleet((slot) => watchArgs(url, root, slot === 0 ? ['--http', `127.0.0.1:${port}`] : []), o.instances);
    const f = fleet;
    const inputs: readonly Input[] = plan.inputs;
    const allDropped = new Promise<void>((resolve) => {
      dropping = setInterval(() => {
        if (!plan.next()) {
          clearInterval(dropping);
          resolve();
        }
      }, o.dropEveryMs);
    });
    await waitFor(async () => (await health(port)) === 200, { timeoutMs: 120_000, what: '/healthz 200 at start' });
    for (let k = 0; k < o.restarts; k++) {
      await midFile(url);
      await o.cluster.restart();
    }
    // The outage: stopped while a file is in its transaction, files still arriving.
    await midFile(url);
    const stopping = performance.now();
    await o.cluster.stop();
    const stopS = seconds(stopping);
    const down = performance.now();
    const unhealthyAfterS = await waitFor(async () => (await health(port)) === 503 && seconds(down), {
      timeoutMs: 30_000,
      what: '/healthz 503 with the database down',
    }).catch(() => -1);
    if (unhealthyAfterS < 0) failures.push('/healthz never answered 503 while the database was down');
    let okWhileDown = 0;
    let silentWhileDown = 0;
    while (performance.now() - down < o.outageMs) {
      const status = await health(port);
      if (status === 200) okWhileDown++;
      if (status === 0) silentWhileDown++;
      await new Promise((r) => setTimeout(r, 500));
    }
    if (okWhileDown) failures.push(`/healthz answered 200 ${okWhileDown} times with the database down`);
    if (silentWhileDown) failures.push(`/healthz did not answer ${silentWhileDown} times with the database down`);
    await o.cluster.start();
    const up = performance.now();
    const healthyAfterS = await waitFor(async () => (await health(port)) === 200 && seconds(up), {
      timeoutMs: 120_000,
      what: '/healthz 200 again',
    }).catch(() => -1);
    if (healthyAfterS < 0) failures.push('/healthz never answered 200 again');
    await allDropped;
    await waitFinished(root, inputs, o.timeoutMs, { logTail: () => f.members.map((m) => m.log().slice(-2000)).join('\n--\n') });
    const drainedAfterS = seconds(up);
    await waitFor(async () => (await openClaims(url)) === 0, { timeoutMs: 60_000, what: 'every claim finished' });
    const wallS = seconds(t0);
    const codes = await f.stop();
    failures.push(...f.crashes);
    if (codes.some((c) => c !== 0)) failures.push(`stopped with exit codes ${codes.join(', ')}`);
    const store = await openStore({ databaseUrl: url, dataDir: '/nonexistent' });
    const figures = await checkRun(store.db, root, inputs).finally(() => store.close());
    return {
      title,
      figures,
      wallS,
      extra: {
        'stop took': `${stopS.toFixed(1)} s`,
        'unhealthy after': `${unhealthyAfterS.toFixed(1)} s`,
        'healthy again after': `${healthyAfterS.toFixed(1)} s`,
        'all done after restart': `${drainedAfterS.toFixed(1)} s`,
        crashes: f.crashes.length,
      },
      failures,
    };
  } finally {
    clearInterval(dropping);
    await fleet?.kill();
    await setup.close();
  }
}
