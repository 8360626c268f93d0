/**
 * Scenario 4: a backlog of many small files present at start-up, one instance. Measured:
 * the time from the start to the first result (work must begin before the whole inbox is
 * listed, sorted or held), peak resident memory, and the rate the backlog drains at.
 */
import { watch } from 'node:fs';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { sponsorDir } from '../../src/inbox/layout.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { checkRun } from '../checks.ts';
import { openClaims, scenarioDatabase, seconds, waitFinished, type ScenarioResult } from '../common.ts';
import { startWatch } from '../instances.ts';
import { addSponsors, inputPlan, licences } from '../tree.ts';
import { watchArgs } from './kills.ts';

export interface BacklogOptions {
  adminUrl: string;
  work: string;
  files: number;
  /** Files processed at once (`--concurrency`). */
  concurrency: number;
  seed: number;
  timeoutMs: number;
}

export async function backlogScenario(o: BacklogOptions): Promise<ScenarioResult> {
  const title = `backlog of ${o.files} one-record files at start-up, one instance, concurrency ${o.concurrency}`;
  const { url, store } = await scenarioDatabase(o.adminUrl, 'chaos_backlog');
  const root = path.join(o.work, 'backlog');
  mkdirSync(root, { recursive: true });
  const [licence] = licences('BIG', 1) as [string];
  let inst: ReturnType<typeof startWatch> | undefined;
  const failures: string[] = [];
  try {
    await addSponsors(store.db, root, [licence], 10_000_000);
    const plan = inputPlan(root, { prefix: 'b', sponsors: [licence], files: o.files, maxRecords: 1, hostileEvery: 0, seed: o.seed });
    while (plan.next());
    // The first result is seen by a watch on the outbox, not by listing it.
    let firstResult = 0;
    const outboxWatch = watch(sponsorDir(root, licence, 'outbox'), (_event, name) => {
      if (!firstResult && name && String(name).endsWith('.result.xml')) firstResult = performance.now();
    });
    const t0 = performance.now();
    const w = (inst = startWatch(watchArgs(url, root, ['--concurrency', String(o.concurrency)])));
    let peakKb = 0;
    const sampler = setInterval(() => (peakKb = Math.max(peakKb, w.peakRssKb())), 200);
    try {
      const ready = await waitFor(() => w.saw(/INFO\s+ready/) && seconds(t0), { timeoutMs: 300_000, what: 'ready' });
      await waitFor(() => firstResult > 0, { timeoutMs: 300_000, what: 'the first result' });
      const firstS = (firstResult - t0) / 1000;
      await waitFinished(root, plan.inputs, o.timeoutMs, { logTail: () => w.log() });
      const drainS = seconds(t0);
      await waitFor(async () => (await openClaims(url)) === 0, { timeoutMs: 60_000, what: 'every claim finished' });
      peakKb = Math.max(peakKb, w.peakRssKb());
      w.proc.kill('SIGTERM');
      const code = await w.exited;
      if (code !== 0) failures.push(`stopped with exit code ${code}:\n${w.log().slice(-3000)}`);
      const figures = await checkRun(store.db, root, plan.inputs);
      return {
        title,
        figures,
        wallS: drainS,
        extra: {
          'ready after': `${ready.toFixed(1)} s`,
          'first result after': `${firstS.toFixed(1)} s`,
          'peak RSS': `${Math.round(peakKb / 1024)} MiB`,
          'files/s': (o.files / drainS).toFixed(1),
        },
        failures,
      };
    } finally {
      clearInterval(sampler);
      outboxWatch.close();
    }
  } finally {
    if (inst) {
      inst.proc.kill('SIGKILL');
      await inst.exited;
    }
    await store.close();
  }
}
