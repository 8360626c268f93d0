/**
 * deploy/sponsor-account.sh against a temporary root, as root, with throwaway users and
 * groups: the account, its groups, the service user's membership, the folders' owners
 * and modes (the chroot root's and no one else's; inbox and outbox writable by the
 * sponsor; set-group-id), the key; a second run puts back what was changed; a licence
 * that is not one, and a missing service user, are refused before anything is made.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_SCRIPT, run } from '../helpers/sshd.ts';
import { tempDir } from '../helpers/stores.ts';

const canRun = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v useradd']).status === 0;
if (!canRun) console.warn('sponsor-account.sh test skipped: it needs root and useradd');

describe.skipIf(!canRun)('deploy/sponsor-account.sh', () => {
  const tag = `ca${Math.random().toString(36).slice(2, 7)}`;
  const svc = `${tag}-svc`;
  const L = 'QHDGHB91X';
  const account = `${tag}-qhdghb91x`;
  let work: string;
  let root: string;
  let keys: string;
  let env: Record<string, string>;
  const script = (...args: string[]) => spawnSync('sh', [ACCOUNT_SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const owner = (p: string) => {
    const st = statSync(p);
    const name = (id: number, db: string) => run('getent', [db, String(id)]).split(':')[0];
    return `${name(st.uid, 'passwd')}:${name(st.gid, 'group')} ${(st.mode & 0o7777).toString(8).padStart(4, '0')}`;
  };

  beforeAll(() => {
    work = tempDir('cas-bdt-account-');
    root = path.join(work, 'srv', 'bdt');
    keys = path.join(work, 'keys');
    mkdirSync(path.join(work, 'srv'));
    writeFileSync(path.join(work, 'key.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBt3lRhYc6kTXY0zRgB3ib7F3mNBD0b5mRw+7bYoVQsM sponsor\n');
    env = {
      CAS_BDT_ROOT: root,
      CAS_BDT_USER: svc,
      CAS_BDT_SPONSORS_GROUP: `${tag}-sponsors`,
      CAS_BDT_ACCOUNT_PREFIX: `${tag}-`,
      CAS_BDT_KEYS_DIR: keys,
    };
  });
  afterAll(() => {
    for (const u of [account, svc]) spawnSync('userdel', ['--force', u]);
    for (const g of [account, svc, `${tag}-sponsors`]) spawnSync('groupdel', [g]);
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses a missing service user and anything but a licence, making nothing', () => {
    const noService = script(L);
    expect(noService.status).not.toBe(0);
    expect(noService.stderr).toMatch(/service user .* does not exist/);
    run('useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--user-group', svc]);
    for (const bad of ['../etc', 'qhdghb91x', 'QHDGHB91X/..', 'QHDGHB91X\nroot', '', 'QHDGHB91']) {
      const r = script(bad);
      expect(r.status, bad).not.toBe(0);
      expect(r.stderr).toMatch(/not a licence number/);
    }
    expect(existsSync(root)).toBe(false);
    expect(spawnSync('getent', ['group', `${tag}-sponsors`]).status).not.toBe(0);
  });

  it("creates the account, groups and folders with the owners and modes sshd's chroot and the service need", () => {
    const r = script(L, path.join(work, 'key.pub'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/restart cas-bdt/);

    const [, , , gid, , home, shell] = run('getent', ['passwd', account]).trim().split(':');
    expect(home).toBe(path.join(root, L));
    expect(shell).toBe('/usr/sbin/nologin');
    expect(run('getent', ['group', gid!]).split(':')[0]).toBe(account);
    expect(run('id', ['-nG', account]).trim().split(' ').sort()).toEqual([account, `${tag}-sponsors`].sort());
    expect(run('id', ['-nG', svc]).trim().split(' ')).toContain(account);
    // Not locked: a locked account may not log in with its key either.
    expect(run('getent', ['shadow', account]).split(':')[1]).toBe('*');

    expect(owner(root)).toBe(`root:${svc} 0750`);
    expect(owner(path.join(root, L))).toBe(`root:${account} 0750`);
    for (const f of ['inbox', 'outbox']) expect(owner(path.join(root, L, f))).toBe(`${svc}:${account} 2770`);
    for (const f of ['archive', 'rejected']) expect(owner(path.join(root, L, f))).toBe(`${svc}:${account} 2750`);
    expect(owner(path.join(keys, account))).toBe('root:root 0644');
    expect(readFileSync(path.join(keys, account), 'utf8')).toMatch(/^ssh-ed25519 /);
  });

  it('puts back what was changed when run again', () => {
    chmodSync(path.join(root, L, 'inbox'), 0o777);
    chmodSync(path.join(root, L), 0o775);
    run('gpasswd', ['--delete', svc, account]);
    const r = script(L);
    expect(r.status, r.stderr).toBe(0);
    expect(owner(path.join(root, L, 'inbox'))).toBe(`${svc}:${account} 2770`);
    expect(owner(path.join(root, L))).toBe(`root:${account} 0750`);
    expect(run('id', ['-nG', svc]).trim().split(' ')).toContain(account);
  });
});
