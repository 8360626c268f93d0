/**
 * Scenario 3: a real full disk. The sponsor's outbox is a tmpfs of a few hundred KiB,
 * first filled to the last byte by a filler file (every result meets ENOSPC: files must
 * wait in the inbox), then freed; from then on the results themselves fill it, and each
 * time the service reports ENOSPC the operator collects the results to another disk.
 * Nothing half-written may be left as a result, and everything completes.
 * Mounting needs privileges: without them the scenario says so and fails.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sponsorDir } from '../../src/inbox/layout.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { checkRun, completeResult, unfinished } from '../checks.ts';
import { openClaims, scenarioDatabase, seconds, waitFinished, type ScenarioResult } from '../common.ts';
import { startWatch } from '../instances.ts';
import { addSponsors, inputPlan, licences } from '../tree.ts';
import { watchArgs } from './kills.ts';

export interface DiskFullOptions {
  adminUrl: string;
  work: string;
  files: number;
  maxRecords: number;
  outboxKb: number;
  seed: number;
  timeoutMs: number;
}

const freeBytes = (dir: string) => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

/** Fills the file system of `dir` to the last byte with one file. */
function fill(file: string): void {
  const chunk = Buffer.alloc(4096, 0x20);
  try {
    for (;;) writeFileSync(file, chunk, { flag: 'a' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
}

export async function diskFullScenario(o: DiskFullOptions): Promise<ScenarioResult> {
  const title = `outbox on a full ${o.outboxKb} KiB tmpfs, ${o.files} files`;
  const { url, store } = await scenarioDatabase(o.adminUrl, 'chaos_full');
  const root = path.join(o.work, 'full');
  const collected = path.join(o.work, 'full-collected');
  const [licence] = licences('FUL', 1) as [string];
  mkdirSync(path.join(collected, licence), { recursive: true });
  let outbox: string | undefined;
  let inst: ReturnType<typeof startWatch> | undefined;
  const failures: string[] = [];
  try {
    await addSponsors(store.db, root, [licence], 10_000_000);
    outbox = sponsorDir(root, licence, 'outbox');
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${o.outboxKb}k,mode=0750`, 'tmpfs', outbox], { encoding: 'utf8' });
    if (mount.status !== 0)
      throw new Error(
        `cannot mount a tmpfs here (${mount.stderr.trim() || `exit ${mount.status}`}): run as root, or in a container allowed to mount`,
      );
    const box = outbox;
    const filler = path.join(box, 'filler');
    fill(filler);
    const plan = inputPlan(root, {
      prefix: 'd',
      sponsors: [licence],
      files: o.files,
      maxRecords: o.maxRecords,
      hostileEvery: 0,
      seed: o.seed,
    });
    while (plan.next());
    const t0 = performance.now();
    const w = (inst = startWatch(watchArgs(url, root)));
    const enospc = () => (w.log().match(/ENOSPC/g) ?? []).length;
    // Full from the start: files are retried and wait in the inbox, no result appears.
    await waitFor(() => enospc() > 0, { timeoutMs: 120_000, what: 'the service meeting ENOSPC' });
    const waiting = readdirSync(sponsorDir(root, licence, 'inbox')).length;
    const resultsWhileFull = readdirSync(box).filter((n) => n.endsWith('.result.xml')).length;
    if (resultsWhileFull) failures.push(`${resultsWhileFull} results appeared on a disk with no space`);
    unlinkSync(filler);
    // From now on the results fill it: collect them each time the service hits ENOSPC again.
    let cycles = 0;
    let halfSeen = 0;
    let seenFaults = enospc();
    await waitFor(
      () => {
        if (unfinished(root, plan.inputs, [collected]).length === 0) return true;
        if (enospc() > seenFaults && freeBytes(box) < 64 * 1024) {
          seenFaults = enospc();
          cycles++;
          for (const n of readdirSync(box).filter((x) => x.endsWith('.result.xml'))) {
            const from = path.join(box, n);
            if (!completeResult(readFileSync(from, 'utf8'))) halfSeen++;
            copyFileSync(from, path.join(collected, licence, n));
            unlinkSync(from);
          }
        }
        return false;
      },
      { timeoutMs: o.timeoutMs, intervalMs: 200, what: 'all files through a filling outbox' },
    );
    await waitFinished(root, plan.inputs, 60_000, { collected: [collected], logTail: () => w.log() });
    await waitFor(async () => (await openClaims(url)) === 0, { timeoutMs: 60_000, what: 'every claim finished' });
    const wallS = seconds(t0);
    w.proc.kill('SIGTERM');
    const code = await w.exited;
    if (code !== 0) failures.push(`stopped with exit code ${code}:\n${w.log().slice(-3000)}`);
    const figures = await checkRun(store.db, root, plan.inputs, [collected]);
    figures.halfWritten += halfSeen;
    if (cycles === 0) failures.push('the results never filled the outbox: make it smaller or the files larger');
    return {
      title,
      figures,
      wallS,
      extra: { 'waiting while full': waiting, 'ENOSPC faults logged': enospc(), 'times collected': cycles },
      failures,
    };
  } finally {
    if (inst) {
      inst.proc.kill('SIGKILL');
      await inst.exited;
    }
    if (outbox && existsSync(outbox)) spawnSync('umount', [outbox]);
    rmSync(collected, { recursive: true, force: true });
    await store.close();
  }
}
