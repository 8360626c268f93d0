/**
 * The data directory's lock across PID namespaces and hosts: an owner whose PID means
 * nothing here (another container on the shared volume, another machine) is judged by
 * its heartbeat, not by a PID that happens to be dead or alive here; a lock taken from
 * its owner is noticed by the owner.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/db/lock.ts';
import { tempDir } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const canUnshare = spawnSync('unshare', ['-Urpf', '--mount-proc', 'true']).status === 0;

/** A PID that is certainly not running here. */
function deadPid(): number {
  const p = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']);
  return Number(String(p.stdout).trim());
}

function writeForeignLock(lockFile: string, beatAgoMs: number): string {
  const dir = `${lockFile}.d`;
  mkdirSync(dir, { recursive: true });
  const owner = path.join(dir, 'owner.json');
  const text = JSON.stringify({ token: 'f0', pid: deadPid(), start: '1', host: 'other-host', boot: 'other-boot', pidns: 'pid:[1]' });
  writeFileSync(owner, text);
  const when = new Date(Date.now() - beatAgoMs);
  utimesSync(owner, when, when);
  return text;
}

describe('the embedded store lock across hosts and containers', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const dir = () => {
    const d = tempDir('cas-bdt-lock-');
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('respects a lock of another host with a fresh heartbeat, although its PID is dead here', async () => {
    const lockFile = path.join(dir(), 'cas-bdt.lock');
    writeForeignLock(lockFile, 0);
    expect(await acquireLock(lockFile, { waitMs: 500, staleMs: 20_000 })).toBeUndefined();
  });

  it('takes over a lock of another host whose heartbeat is stale', async () => {
    const lockFile = path.join(dir(), 'cas-bdt.lock');
    writeForeignLock(lockFile, 60_000);
    const lock = await acquireLock(lockFile, { waitMs: 500, staleMs: 20_000 });
    expect(lock).toBeDefined();
    await lock!.release();
  });

  it('tells the owner when another process took its lock', async () => {
    const lockFile = path.join(dir(), 'cas-bdt.lock');
    let lost = 0;
    const lock = await acquireLock(lockFile, { waitMs: 500, heartbeatMs: 50, onLost: () => lost++ });
    expect(lock).toBeDefined();
    // What a process elsewhere writes when it judged this owner stale.
    writeFileSync(
      path.join(`${lockFile}.d`, 'owner.json'),
      JSON.stringify({ token: 'other', pid: 1, start: '1', host: 'x', boot: 'y', pidns: 'z' }),
    );
    await waitFor(() => lost === 1, { what: 'the owner to notice' });
    await lock!.release();
  });

  it('keeps the lock through a heartbeat that cannot read it (a fault, as EMFILE would be), and says so once', async () => {
    const lockFile = path.join(dir(), 'cas-bdt.lock');
    let lost = 0;
    const faults: string[] = [];
    const lock = await acquireLock(lockFile, { waitMs: 500, heartbeatMs: 50, onLost: () => lost++, onFault: (m) => faults.push(m) });
    expect(lock).toBeDefined();
    const owner = path.join(`${lockFile}.d`, 'owner.json');
    const mine = readFileSync(owner, 'utf8');
    // A directory where the file was: reading it fails with EISDIR, not "gone", not "someone else's".
    renameSync(owner, `${owner}.aside`);
    mkdirSync(owner);
    await waitFor(() => faults.length >= 1, { what: 'the fault logged' });
    // Many beats later: still held, logged once.
    const beats = Date.now() + 600;
    await waitFor(() => Date.now() > beats, { what: 'several heartbeats' });
    expect(lost).toBe(0);
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatch(/EISDIR.*trying again/);
    rmSync(owner, { recursive: true });
    renameSync(`${owner}.aside`, owner);
    await waitFor(() => faults.length === 2, { what: 'the recovery logged' });
    expect(readFileSync(owner, 'utf8')).toBe(mine);
    expect(lost).toBe(0);
    // A second process is still refused.
    expect(await acquireLock(lockFile, { waitMs: 200 })).toBeUndefined();
    await lock!.release();
  });

  it('makes its lock again when it was removed and nobody took it', async () => {
    const lockFile = path.join(dir(), 'cas-bdt.lock');
    let lost = 0;
    const faults: string[] = [];
    const lock = await acquireLock(lockFile, { waitMs: 500, heartbeatMs: 50, onLost: () => lost++, onFault: (m) => faults.push(m) });
    const owner = path.join(`${lockFile}.d`, 'owner.json');
    const mine = readFileSync(owner, 'utf8');
    rmSync(`${lockFile}.d`, { recursive: true });
    await waitFor(() => existsSync(owner), { what: 'the lock made again' });
    expect(readFileSync(owner, 'utf8')).toBe(mine);
    expect(lost).toBe(0);
    expect(faults.join('\n')).toMatch(/removed; made again/);
    await lock!.release();
    expect(existsSync(`${lockFile}.d`)).toBe(false);
  });

  it.skipIf(!canUnshare)('respects an owner in another PID namespace while it beats, and takes over once it was killed', async () => {
    const work = dir();
    const lockFile = path.join(work, 'cas-bdt.lock');
    const script = path.join(work, 'hold.mts');
    const lockModule = path.join(REPO, 'src/db/lock.ts');
    writeFileSync(
      script,
      `import { acquireLock } from ${JSON.stringify(lockModule)};\n` +
        `const l = await acquireLock(${JSON.stringify(lockFile)}, { waitMs: 5000, heartbeatMs: 200, staleMs: 3000 });\n` +
        `console.log(l ? 'held by ' + process.pid : 'busy');\nsetInterval(() => {}, 1000);\n`,
    );
    // A container: its own PID namespace, where the holder's PID is 1 or close to it.
    const child = spawn('unshare', ['-Urpf', '--mount-proc', '--kill-child=SIGKILL', process.execPath, '--import', 'tsx', script], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += String(d)));
    await waitFor(() => out.includes('held'), { what: 'the contained process to hold the lock' });
    expect(Number(/held by (\d+)/.exec(out)![1])).toBeLessThan(10);

    // Longer than the stale limit: the owner's heartbeat keeps it, whatever its PID means here.
    expect(await acquireLock(lockFile, { waitMs: 4500, staleMs: 3000 })).toBeUndefined();

    // kill -9 of the container (unshare passes it on to the contained process).
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
    const started = Date.now();
    const lock = await acquireLock(lockFile, { waitMs: 30_000, staleMs: 3000 });
    expect(lock).toBeDefined();
    expect(Date.now() - started).toBeLessThan(30_000);
    await lock!.release();
  });
});
