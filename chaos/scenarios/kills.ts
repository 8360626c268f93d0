/**
 * Scenario 1: several `watch` instances on one folder tree and one PostgreSQL database,
 * a backlog of mixed files (a few hostile), and SIGKILL to a random instance at random
 * moments, each replaced at once. Every file must end with exactly one result, every
 * record with one CAS and one number, the allocation counting exactly what was given.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { checkRun, unfinished } from '../checks.ts';
import {
  heldBy,
  midFile,
  openClaims,
  randomPause,
  scenarioDatabase,
  seconds,
  waitFinished,
  WATCH_FLAGS,
  type ScenarioResult,
} from '../common.ts';
import { Fleet } from '../instances.ts';
import { addSponsors, inputPlan, licences, rng, type Hostile } from '../tree.ts';
import { waitFor } from '../../test/helpers/wait.ts';

export interface KillsOptions {
  adminUrl: string;
  work: string;
  instances: number;
  sponsors: number;
  files: number;
  maxRecords: number;
  /** One file in this many is hostile (0: none). */
  hostileEvery: number;
  hostileKinds?: Hostile[];
  kills: number;
  /** Mean time between two kills (ms). */
  killEveryMs: number;
  /**
   * `random`: a random instance after a random pause; `mid-file`: the instance inside a
   * file's transaction, as soon as one is (every kill lands on work in flight).
   */
  aim?: 'random' | 'mid-file';
  seed: number;
  timeoutMs: number;
  /** Called after each kill (the short version restarts the database there). */
  midway?: (killsSoFar: number, fleet: Fleet, url: string) => Promise<void>;
  /** More `watch` arguments (the short version takes groups of a few files, so that work is left for every kill). */
  watchExtra?: string[];
  /** Database name inside the cluster. */
  database?: string;
}

/** `watch` arguments for the chaos runs: short settle and scans, a short lease. */
export const watchArgs = (url: string, root: string, extra: string[] = []) => ['--db', url, '--root', root, ...WATCH_FLAGS, ...extra];

export async function killsScenario(o: KillsOptions): Promise<ScenarioResult> {
  const title = `${o.instances} instances, ${o.files} files, ${o.kills} kill -9`;
  const { url, store } = await scenarioDatabase(o.adminUrl, o.database ?? 'chaos_kills');
  const root = path.join(o.work, 'kills');
  mkdirSync(root, { recursive: true });
  const sponsors = licences('KIL', o.sponsors);
  const random = rng(o.seed);
  let fleet: Fleet | undefined;
  try {
    await addSponsors(store.db, root, sponsors, 10_000_000);
    const plan = inputPlan(root, {
      prefix: 'k',
      sponsors,
      files: o.files,
      maxRecords: o.maxRecords,
      hostileEvery: o.hostileEvery,
      hostileKinds: o.hostileKinds,
      seed: o.seed,
    });
    while (plan.next());
    const t0 = performance.now();
    fleet = new Fleet(() => watchArgs(url, root, o.watchExtra), o.instances);
    const f = fleet;
    // Kills at random moments while work is left, each of a random instance.
    // A mid-file kill sent while its victim held several files in its transaction lands inside a group (group commit).
    let killsInGroup = 0;
    while (f.kills < o.kills && unfinished(root, plan.inputs).length > 0) {
      let slot: number | undefined;
      if (o.aim === 'mid-file') {
        const owner = await midFile(url, () => f.members.flatMap((m) => m.key() ?? []));
        slot = f.slotOf(owner);
        if (slot === undefined) continue;
      } else {
        await randomPause(random, o.killEveryMs);
        slot = Math.floor(random() * o.instances);
      }
      const victim = f.members[slot]?.key();
      if (victim !== undefined && (await heldBy(url, victim)) > 1) killsInGroup++;
      await f.killAndRestart(slot);
      await o.midway?.(f.kills, f, url);
    }
    const killedWhileBusy = f.kills;
    await waitFinished(root, plan.inputs, o.timeoutMs, { logTail: () => f.members.map((m) => m.log().slice(-1500)).join('\n--\n') });
    await waitFor(async () => (await openClaims(url)) === 0, { timeoutMs: 60_000, what: 'every claim finished' });
    const wallS = seconds(t0);
    const codes = await f.stop();
    const figures = await checkRun(store.db, root, plan.inputs);
    const failures = [...f.crashes];
    if (codes.some((c) => c !== 0)) failures.push(`stopped with exit codes ${codes.join(', ')}`);
    if (killedWhileBusy < o.kills) failures.push(`the backlog finished after ${killedWhileBusy} of ${o.kills} kills`);
    const records = plan.inputs.reduce((s, i) => s + i.records, 0);
    return {
      title,
      figures,
      wallS,
      extra: {
        kills: killedWhileBusy,
        'kills inside a group': killsInGroup,
        records,
        hostile: plan.inputs.filter((i) => i.hostile).length,
        crashes: f.crashes.length,
      },
      failures,
      run: { root, url, inputs: plan.inputs },
    };
  } finally {
    await fleet?.kill();
    await store.close();
  }
}
