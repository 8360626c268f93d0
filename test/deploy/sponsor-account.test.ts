/**
 * deploy/sponsor-account.sh against a temporary root, as root, with throwaway users and
 * groups: the account, its groups, the service user's membership, the folders' owners
 * and modes (the chroot root's and no one else's; inbox and outbox writable by the
 * sponsor; set-group-id), the key; a second run puts back what was changed; a licence
 * that is not one, and a missing service user, are refused before anything is made.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_SCRIPT, run } from '../helpers/sshd.ts';
import { tempDir } from '../helpers/stores.ts';

const canRun = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v useradd']).status === 0;
const hasQuotaTools = spawnSync('sh', ['-c', 'command -v setquota && command -v mkfs.ext4']).status === 0;
if (canRun && !hasQuotaTools)
  console.warn('the quota part of the sponsor-account.sh test is skipped: it needs setquota (apt-get install quota) and mkfs.ext4');
if (!canRun) console.warn('sponsor-account.sh test skipped: it needs root and useradd');

describe.skipIf(!canRun)('deploy/sponsor-account.sh', () => {
  const tag = `ca${Math.random().toString(36).slice(2, 7)}`;
  const svc = `${tag}-svc`;
  const L = 'QHDGHB91X';
  const account = `${tag}-qhdghb91x`;
  const quotaAccount = `${tag}-quota0001`;
  let quotaMount: string | undefined;
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
    for (const u of [account, quotaAccount, svc]) spawnSync('userdel', ['--force', u]);
    for (const g of [account, quotaAccount, svc, `${tag}-sponsors`]) spawnSync('groupdel', [g]);
    if (quotaMount) spawnSync('umount', [quotaMount]);
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

  it('refuses a symbolic link planted where the licence folder, a sponsor folder or the key goes, changing nothing', () => {
    const elsewhere = path.join(work, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    const before = owner(elsewhere);
    // A planted inbox, in a licence folder made beforehand.
    const L2 = 'LINKIN001';
    mkdirSync(path.join(root, L2));
    symlinkSync(elsewhere, path.join(root, L2, 'inbox'));
    // A licence folder that is itself a link.
    const L3 = 'LINKLIC01';
    symlinkSync(elsewhere, path.join(root, L3));
    for (const [licence, link] of [
      [L2, path.join(root, L2, 'inbox')],
      [L3, path.join(root, L3)],
    ] as const) {
      const r = script(licence);
      expect(r.status, licence).not.toBe(0);
      expect(r.stderr).toContain(`${link} is a symbolic link`);
      expect(spawnSync('getent', ['passwd', `${tag}-${licence.toLowerCase()}`]).status).not.toBe(0);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
    }
    // The key's place, for an account that exists.
    rmSync(path.join(keys, account), { force: true });
    symlinkSync(path.join(elsewhere, 'authorized'), path.join(keys, account));
    const r = script(L, path.join(work, 'key.pub'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('is a symbolic link');
    expect(existsSync(path.join(elsewhere, 'authorized'))).toBe(false);
    expect(owner(elsewhere)).toBe(before);
    rmSync(path.join(keys, account));
  });

  it('says so when the file system keeps no group quotas, and goes on', () => {
    const r = script(L);
    expect(r.status, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/group quotas are not enabled|quota tools are not installed/);
  });

  it.skipIf(!hasQuotaTools)("sets the sponsor group's quota where group quotas are on, and the kernel holds the sponsor to it", () => {
    const image = path.join(work, 'quota.img');
    quotaMount = path.join(work, 'quota-fs');
    mkdirSync(quotaMount);
    run('truncate', ['-s', '64M', image]);
    run('mkfs.ext4', ['-q', '-F', '-O', 'quota', '-E', 'quotatype=grpquota', image]);
    const mounted = spawnSync('mount', ['-o', 'loop,grpquota', image, quotaMount], { encoding: 'utf8' });
    if (mounted.status !== 0) {
      console.warn(`quota test skipped: cannot mount a loop device (${mounted.stderr.trim()})`);
      quotaMount = undefined;
      return;
    }
    const qroot = path.join(quotaMount, 'bdt');
    const r = spawnSync('sh', [ACCOUNT_SCRIPT, 'QUOTA0001'], {
      encoding: 'utf8',
      env: { ...process.env, ...env, CAS_BDT_ROOT: qroot, CAS_BDT_QUOTA_MB: '4', CAS_BDT_QUOTA_FILES: '50' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`quota for group ${quotaAccount} on ${quotaMount}: 4 MB, 50 files`);
    // The sponsor uploads more than its quota: the kernel refuses it.
    const inbox = path.join(qroot, 'QUOTA0001', 'inbox');
    const dd = spawnSync(
      'setpriv',
      ['--reuid', quotaAccount, '--regid', quotaAccount, '--init-groups', 'dd', 'if=/dev/zero', `of=${inbox}/big.xml`, 'bs=1M', 'count=6'],
      { encoding: 'utf8' },
    );
    expect(dd.status).not.toBe(0);
    expect(dd.stderr).toMatch(/quota exceeded/i);
    expect(statSync(path.join(inbox, 'big.xml')).size).toBeLessThanOrEqual(4 * 1024 * 1024);
  });
});
