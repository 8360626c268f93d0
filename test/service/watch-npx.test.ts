/**
 * `npx cas-bdt watch`, as the README starts it: npm runs a shell that runs node, and a
 * SIGTERM to the npx process reaches npm and the shell only. The service must stop with
 * them (its node process gone, the store released), and the next start must not be refused.
 * The first npx run of a checkout installs it into npm's cache (running its build).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliOnStore } from '../helpers/cli.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, REPO, spawnCli, upload, waitForLog, waitProcessed, type Child } from '../helpers/watch.ts';

/** Every process below `pid`, from /proc. */
function descendants(pid: number): { pid: number; cmdline: string }[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const out: { pid: number; cmdline: string }[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parents) {
      if (parent !== p) continue;
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        // Gone meanwhile.
      }
      out.push({ pid: child, cmdline });
      walk(child);
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * `npx cas-bdt ...` from the repository root, its stderr collected until every writer (node
 * included) has closed it. npm runs under a user's usual umask (022), not this test
 * process's: the CLI run in-process for the set-up tightened it to 027, and npm's first
 * run of the checkout sets the mode of its bin/cas-bdt.js from the umask (0750 under 027,
 * which a package packed from the clone would then carry, unusable by a service user).
 */
function spawnNpx(args: string[]): Child {
  const own = process.umask(0o022);
  let proc;
  try {
    proc = spawn('npx', ['--yes', 'cas-bdt', ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } finally {
    process.umask(own);
  }
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number>((resolve) => proc.once('close', (code) => resolve(code ?? 143)));
  return { proc, stderr: () => err, exited, kill: (s) => void proc.kill(s) };
}

const BIN_JS = path.join(REPO, 'bin/cas-bdt.js');
const binMode = statSync(BIN_JS).mode & 0o777;

describe.each(STORE_KINDS)('npx cas-bdt watch on %s', (kind) => {
  const { t, root, cli } = cliOnStore(kind, 'cas-bdt-npx-');
  const children: Child[] = [];
  const leftovers: number[] = [];
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await Promise.all(children.map((c) => c.exited));
  });

  it('stops the real node process when the npx process gets SIGTERM; the next start is not refused', async () => {
    const licence = kind === 'pglite' ? 'NPXSTOP01' : 'NPXSTOP02';
    expect((await cli('sponsor', 'add', licence, '--name', 'Npx College', '--allocation', '10')).code).toBe(0);
    const args = [...t.cliArgs, '--root', root, 'watch', '--http', 'off', '--settle-ms', '200'];

    const npx = spawnNpx(args);
    children.push(npx);
    await waitForLog(npx, /INFO\s+ready/, 180_000);
    const node = descendants(npx.proc.pid!).find((p) => /bin\/cas-bdt/.test(p.cmdline) && /^\S*node /.test(p.cmdline));
    expect(node, JSON.stringify(descendants(npx.proc.pid!))).toBeDefined();
    leftovers.push(node!.pid);

    process.kill(npx.proc.pid!, 'SIGTERM');
    await waitFor(() => !alive(node!.pid), { timeoutMs: 60_000, what: 'the node process started by npx to stop' });
    await npx.exited;
    expect(npx.stderr()).toMatch(/INFO\s+stopped/);
    expect(statSync(BIN_JS).mode & 0o777, "the mode of the checkout's bin/cas-bdt.js after npx").toBe(binMode);

    // The store is free: a new service starts and processes a file.
    const again = spawnCli(args);
    children.push(again);
    await waitForLog(again, /INFO\s+ready/, 90_000);
    drop(path.join(root, licence, 'inbox'), 'after-npx.xml', upload(licence, `NPX${kind.length}`, 1));
    await waitProcessed(root, licence, ['after-npx.xml']);
    again.kill('SIGTERM');
    expect(await again.exited, again.stderr()).toBe(0);
  }, 400_000);
});
