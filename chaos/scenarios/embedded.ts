/**
 * Scenario 5: the embedded store. `watch` on PGlite is killed (SIGKILL) again and again
 * during a backlog; while it runs, `cas list` and `sponsor show` go through its socket,
 * and after each kill `sponsor show` opens the store itself: it must open cleanly every
 * time, and the backlog must end with the same figures as on PostgreSQL.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../../src/db/client.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { checkRun, unfinished } from '../checks.ts';
import { seconds, waitFinished, WATCH_FLAGS, type ScenarioResult } from '../common.ts';
import { BIN, startWatch, type Instance } from '../instances.ts';
import { addSponsors, inputPlan, licences, rng } from '../tree.ts';

export interface EmbeddedOptions {
  work: string;
  files: number;
  maxRecords: number;
  kills: number;
  seed: number;
  timeoutMs: number;
}

/** Runs one CLI command to its end: exit code, milliseconds, stderr. */
function cli(args: string[]): Promise<{ code: number; ms: number; stderr: string }> {
  const t = performance.now();
  const p = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  p.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve) => p.once('close', (code) => resolve({ code: code ?? 1, ms: performance.now() - t, stderr })));
}

export async function embeddedScenario(o: EmbeddedOptions): Promise<ScenarioResult> {
  const title = `embedded store, ${o.files} files, ${o.kills} kill -9 with commands between`;
  const base = path.join(o.work, 'embedded');
  const root = path.join(base, 'bdt');
  const data = path.join(base, 'data');
  mkdirSync(root, { recursive: true });
  const sponsors = licences('EMB', 2);
  const random = rng(o.seed);
  const failures: string[] = [];
  const where = ['--data', data, '--root', root];
  // Groups of four files, so that the kills land inside groups; and files settle for 6 s
  // on the service's clock, so that a restarted service takes none while the commands
  // between two kills run: the backlog then lasts for every kill, however fast groups
  // drain it.
  const watchArgs = [...where, ...WATCH_FLAGS, '--group-files', '4', '--settle-ms', '6000'];
  let inst: Instance | undefined;
  const stopHard = async () => {
    if (!inst) return;
    inst.proc.kill('SIGKILL');
    await inst.exited;
    inst = undefined;
  };
  try {
    const setup = await openStore({ databaseUrl: undefined, dataDir: data });
    await addSponsors(setup.db, root, sponsors, 10_000_000).finally(() => setup.close());
    const plan = inputPlan(root, {
      prefix: 'e',
      sponsors,
      files: o.files,
      maxRecords: o.maxRecords,
      hostileEvery: 25,
      hostileKinds: ['schema', 'entity-bomb', 'replay'],
      seed: o.seed,
    });
    while (plan.next());
    const t0 = performance.now();
    let kills = 0;
    let commands = 0;
    let slowestOpenMs = 0;
    const command = async (args: string[], what: string) => {
      const r = await cli([...args, ...where]);
      commands++;
      if (r.code !== 0) failures.push(`${what} exited ${r.code}: ${r.stderr.slice(-800)}`);
      return r;
    };
    while (kills < o.kills && unfinished(root, plan.inputs).length > 0) {
      const w = (inst = startWatch(watchArgs));
      await waitFor(() => w.saw(/INFO\s+ready/), { timeoutMs: 120_000, what: 'ready on the embedded store' });
      // Through the running service's socket.
      await command(['cas', 'list', '--sponsor', sponsors[kills % sponsors.length]!, '--json'], 'cas list (served)');
      await command(['sponsor', 'show', sponsors[0]!], 'sponsor show (served)');
      // Each kill lands at a random point of its share of the backlog, so that all of them
      // fall while files are being processed, however fast the machine drains it.
      const goal = Math.floor((o.files * (kills + random())) / (o.kills + 1));
      await waitFor(() => o.files - unfinished(root, plan.inputs).length >= goal, { timeoutMs: o.timeoutMs, what: `${goal} files done` });
      await stopHard();
      kills++;
      // The killed owner's store, opened directly.
      const opened = await command(['sponsor', 'show', sponsors[1]!], 'sponsor show after the kill');
      slowestOpenMs = Math.max(slowestOpenMs, opened.ms);
    }
    const w = (inst = startWatch(watchArgs));
    // Ready first: SIGTERM before its handlers are set would end it like a kill.
    await waitFor(() => w.saw(/INFO\s+ready/), { timeoutMs: 120_000, what: 'ready on the embedded store' });
    await waitFinished(root, plan.inputs, o.timeoutMs, { logTail: () => w.log() });
    const wallS = seconds(t0);
    w.proc.kill('SIGTERM');
    const code = await w.exited;
    inst = undefined;
    if (code !== 0) failures.push(`stopped with exit code ${code}:\n${w.log().slice(-3000)}`);
    if (kills < o.kills) failures.push(`the backlog finished after ${kills} of ${o.kills} kills`);
    const store = await openStore({ databaseUrl: undefined, dataDir: data });
    const figures = await checkRun(store.db, root, plan.inputs).finally(() => store.close());
    return {
      title,
      figures,
      wallS,
      extra: { kills, commands, 'slowest open after a kill': `${(slowestOpenMs / 1000).toFixed(1)} s` },
      failures,
    };
  } finally {
    await stopHard();
  }
}
