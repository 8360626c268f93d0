/**
 * The README's "Running it in production", run as written: every shell block marked
 * `<!-- production-step -->` is taken from README.md in order and run by bash as root,
 * against a temporary root that stands for `/` (`/etc`, `/srv`, `/usr/local`,
 * `/var/lib/cas-bdt` are moved into it), with this run's names for the service user, the
 * sponsors' group and the PostgreSQL role and database, and the test server for
 * `db.example.ac.uk` (which speaks no TLS: `sslmode=disable`). Everything else is real: the
 * packed tarball unpacked and installed by `npm ci`, `useradd`, `psql` and `createdb` as
 * `postgres`, the unit checked by `systemd-analyze verify` and started as systemd would (its
 * user, groups, umask, working folder and command line), OpenSSH's sshd with a copy of
 * this machine's sshd_config and the fragment the README installs, a sponsor uploading with
 * `sftp`, and (set-up B) the tree mounted with sshfs from the README's fstab line. Stood
 * in for: `systemctl` and `mount` (the test does what they would), `sshd -t` (given the
 * temporary root's sshd_config), and the default config file /etc/cas-bdt/config.json,
 * which the commands are pointed at in the temporary root by CAS_BDT_CONFIG (the default
 * itself is proven in test/cli/config.unit.test.ts). One machine plays both servers of set-up B.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, sftpUnavailable } from '../helpers/sshd.ts';
import { PG_ADMIN_URL } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { REPO } from '../helpers/watch.ts';

const README = readFileSync(path.join(REPO, 'README.md'), 'utf8');
const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function unavailable(): string | undefined {
  const sftp = sftpUnavailable({ sshfs: true });
  if (sftp) return sftp;
  if (!SYSTEMD_ANALYZE) return 'systemd-analyze is missing (apt-get install systemd)';
  for (const cmd of ['runuser', 'psql', 'createdb', 'npm', 'ssh-keyscan', 'fusermount3']) if (!onPath(cmd)) return `${cmd} is missing`;
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) return 'there is no postgres user';
  return undefined;
}
const skip = unavailable();
if (skip) console.warn(`README production steps test skipped: ${skip}`);

/** The shell blocks marked `<!-- production-step -->`, in order. */
function productionSteps(readme: string): string[] {
  const steps: string[] = [];
  const re = /<!-- production-step -->\n```sh\n([\s\S]*?)\n```/g;
  for (let m = re.exec(readme); m; m = re.exec(readme)) steps.push(m[1]!);
  return steps;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Takes every permission from group and others under `dir` (links are not followed). */
function restrictModes(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    chmodSync(p, st.mode & 0o750);
    if (st.isDirectory()) restrictModes(p);
  }
  chmodSync(dir, lstatSync(dir).mode & 0o750);
}

/** A root-owned 0755 folder outside /tmp: sshd chroots only below folders no one else can write. */
function chrootableBase(): string {
  const top = process.env.CAS_BDT_TEST_CHROOT_BASE ?? '/run/cas-bdt-test';
  mkdirSync(top, { recursive: true, mode: 0o755 });
  chmodSync(top, 0o755);
  const base = mkdtempSync(path.join(top, 'readme-'));
  chmodSync(base, 0o755);
  for (let dir = base; dir !== '/'; dir = path.dirname(dir)) {
    const st = lstatSync(dir);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) throw new Error(`${dir} must be root's and writable by no one else`);
  }
  return base;
}

describe.skipIf(skip !== undefined)("the README's production steps, run as written", () => {
  const steps = productionSteps(README);
  const tag = `cb${Math.random().toString(36).slice(2, 7)}`;
  const user = `${tag}-svc`;
  const sponsorsGroup = `${tag}-sponsors`;
  const dbName = `${tag}_cas`;
  const pg = new URL(PG_ADMIN_URL);
  let base: string;
  /** The cas-bdt server's `/`. */
  let R: string;
  /** The sponsors' server's `/` in set-up B. */
  let S: string;
  let sshPort: number;
  let sshPortB: number;
  let service: ChildProcess | undefined;
  let serviceLog = '';
  const sshds = new Map<string, ChildProcess>();
  const sshdLogs = new Map<string, string>();
  const mounts: string[] = [];
  let next = 0;

  /** The README's names and paths, moved into the temporary root `root`. */
  function rewrite(text: string, root: string): string {
    return (
      text
        // The service user, wherever it names the account (not the command, package or paths).
        .replaceAll('cas-bdt:cas-bdt', `${user}:${user}`)
        .replace(
          /(-[ugo] |chgrp |chown |Match User |^User=|^Group=|--shell \/usr\/sbin\/nologin |--password '\*' )cas-bdt(?![\w./-])/gm,
          `$1${user}`,
        )
        .replaceAll('cas-bdt-keys/cas-bdt', `cas-bdt-keys/${user}`)
        .replaceAll('cas-bdt@sftp.example.ac.uk:/', `${user}@127.0.0.1:${S}/`)
        .replaceAll('ssh-keyscan -t ed25519 sftp.example.ac.uk', `ssh-keyscan -p ${sshPortB} -t ed25519 127.0.0.1`)
        .replaceAll('bdt-sponsors', sponsorsGroup)
        .replaceAll('cas_bdt', dbName)
        .replaceAll('db.example.ac.uk:5432', `${pg.hostname}:${pg.port || '5432'}`)
        .replaceAll('db.example.ac.uk', pg.hostname)
        .replaceAll('sslmode=verify-full', 'sslmode=disable')
        .replace(/(?<![\w.$-])\/(usr\/local|etc|srv|var\/lib\/cas-bdt)(?=[/\s'"]|$)/gm, `${root}/$1`)
    );
  }

  /** One step, as root in `cwd`; `systemctl`, `sshd` (its config) and `mount` stood in for. */
  function runStep(step: string, root: string, cwd: string) {
    const prelude = [
      'set -euo pipefail',
      `systemctl() { printf '%s\\n' "$*" >> '${root}/systemctl.log'; }`,
      `sshd() { /usr/sbin/sshd -f '${root}/etc/ssh/sshd_config' "$@"; }`,
      // mount MOUNTPOINT: the fstab line's sshfs mount (its `_` options are for mount(8) only).
      `mount() { local line; line=$(awk -v mp="$1" '$2 == mp' '${root}/etc/fstab'); set -- $line; sshfs -o "$(printf '%s' "$4" | tr , '\\n' | grep -v '^_' | paste -sd,),port=${sshPortB},BatchMode=yes" "$1" "$2"; echo "$2" >> '${root}/mounts'; }`,
    ].join('\n');
    const r = spawnSync('bash', ['-c', `${prelude}\n${rewrite(step, root)}`], {
      cwd,
      encoding: 'utf8',
      timeout: 300_000,
      env: {
        ...process.env,
        PATH: `${root}/usr/local/bin:${process.env.PATH}`,
        // What cas-bdt reads by default, /etc/cas-bdt/config.json, in the temporary root
        // (config.test.ts proves the default itself).
        CAS_BDT_CONFIG: `${root}/etc/cas-bdt/config.json`,
        PGHOST: pg.hostname,
        PGPORT: pg.port || '5432',
        CAS_BDT_ROOT: `${root}/srv/bdt`,
        CAS_BDT_USER: user,
        CAS_BDT_SPONSORS_GROUP: sponsorsGroup,
        CAS_BDT_ACCOUNT_PREFIX: `${tag}-`,
        CAS_BDT_KEYS_DIR: `${root}/etc/ssh/cas-bdt-keys`,
        npm_config_update_notifier: 'false',
        npm_config_prefer_offline: 'true',
      },
    });
    if (existsSync(`${root}/mounts`))
      for (const m of readFileSync(`${root}/mounts`, 'utf8').split('\n')) if (m && !mounts.includes(m)) mounts.push(m);
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** The next README step, which must succeed; then what its `systemctl` calls would have done. */
  async function step(expectStart: RegExp, root = R, cwd = path.join(R, 'root')) {
    const text = steps[next++];
    expect(text, 'a production step').toBeDefined();
    expect(text).toMatch(expectStart);
    const log = `${root}/systemctl.log`;
    const before = existsSync(log) ? readFileSync(log, 'utf8').length : 0;
    const r = runStep(text!, root, cwd);
    expect(r.code, `step failed:\n${text}\n${r.stderr}${r.stdout}\nsshd:\n${[...sshdLogs.values()].join('\n')}`).toBe(0);
    const calls = existsSync(log) ? readFileSync(log, 'utf8').slice(before).split('\n').filter(Boolean) : [];
    for (const call of calls) await systemctl(call, root);
    return r;
  }

  /** What systemd would do for `systemctl ARGS`. */
  async function systemctl(call: string, root: string) {
    const [verb, ...rest] = call.split(' ').filter((w) => w !== '--now');
    const unit = rest.at(-1);
    if (verb === 'daemon-reload') return;
    if (unit === 'ssh') return startSshd(root);
    if (unit !== 'cas-bdt') throw new Error(`unexpected systemctl ${call}`);
    if (verb === 'enable') {
      const file = `${root}/etc/systemd/system/cas-bdt.service`;
      const verified = spawnSync(SYSTEMD_ANALYZE!, ['verify', file], { encoding: 'utf8' });
      expect(verified.status, verified.stderr).toBe(0);
      expect(verified.stderr.trim()).toBe('');
      await startService(root);
    } else if (verb === 'restart') {
      await stopService();
      await startService(root);
    } else throw new Error(`unexpected systemctl ${call}`);
  }

  /** The unit's service, started as systemd would: its user and groups, umask, folder, environment file, command. */
  async function startService(root: string) {
    const unit = readFileSync(`${root}/etc/systemd/system/cas-bdt.service`, 'utf8');
    const key = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(unit)?.[1];
    expect(key('User')).toBe(user);
    const envFile = key('EnvironmentFile')!.replace(/^-/, '');
    const env: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: `${root}/var/lib/cas-bdt`, LANG: 'C.UTF-8' };
    if (existsSync(envFile))
      for (const line of readFileSync(envFile, 'utf8').split('\n')) {
        const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
        if (m) env[m[1]!] = m[2];
      }
    serviceLog = '';
    service = spawn(
      'setpriv',
      [
        `--reuid=${user}`,
        `--regid=${key('Group')}`,
        '--init-groups',
        '--',
        'sh',
        '-c',
        `umask ${key('UMask')} && exec ${key('ExecStart')}`,
      ],
      { cwd: key('WorkingDirectory'), env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    service.stderr!.setEncoding('utf8').on('data', (s: string) => (serviceLog += s));
    await waitFor(() => service!.exitCode !== null || /watching \d+ sponsor/.test(serviceLog), {
      timeoutMs: 60_000,
      what: 'the service started',
    });
    expect(service.exitCode, serviceLog).toBeNull();
  }

  async function stopService() {
    if (!service || service.exitCode !== null) return;
    service.kill('SIGTERM');
    await waitFor(() => service!.exitCode !== null, { timeoutMs: 60_000, what: 'the service stopped' });
    expect(service.exitCode, serviceLog).toBe(0);
  }

  async function startSshd(root: string) {
    const old = sshds.get(root);
    if (old && old.exitCode === null) {
      old.kill('SIGTERM');
      await waitFor(() => old.exitCode !== null || old.signalCode !== null, { what: 'sshd stopped' });
    }
    const p = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', `${root}/etc/ssh/sshd_config`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let out = '';
    p.stderr!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      sshdLogs.set(root, (sshdLogs.get(root) ?? '') + s);
    });
    await waitFor(() => p.exitCode !== null || /Server listening on/.test(out), { timeoutMs: 30_000, what: 'sshd listening' });
    expect(p.exitCode, out).toBeNull();
    sshds.set(root, p);
  }

  /** A fresh machine's sshd_config (this one's), listening on a loopback port with its own host key. */
  function freshSshd(root: string, port: number) {
    mkdirSync(`${root}/etc/ssh/sshd_config.d`, { recursive: true });
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${root}/etc/ssh/ssh_host_ed25519_key`]);
    const system = existsSync('/etc/ssh/sshd_config')
      ? readFileSync('/etc/ssh/sshd_config', 'utf8')
      : 'Include /etc/ssh/sshd_config.d/*.conf\nSubsystem sftp /usr/lib/openssh/sftp-server\n';
    writeFileSync(
      `${root}/etc/ssh/sshd_config`,
      [
        `ListenAddress 127.0.0.1`,
        `Port ${port}`,
        `HostKey ${root}/etc/ssh/ssh_host_ed25519_key`,
        'PidFile none',
        'UsePAM no',
        system.replaceAll('/etc/ssh/sshd_config.d', `${root}/etc/ssh/sshd_config.d`),
      ].join('\n'),
    );
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  }

  function sftp(root: string, port: number, account: string, keyFile: string, commands: string[]) {
    return spawnSync(
      'sftp',
      [
        '-b',
        '-',
        '-P',
        String(port),
        '-i',
        keyFile,
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=yes',
        `${account}@127.0.0.1`,
      ],
      { input: commands.join('\n') + '\n', encoding: 'utf8' },
    );
  }

  beforeAll(async () => {
    base = chrootableBase();
    R = path.join(base, 'a');
    S = path.join(base, 'b');
    sshPort = await freePort();
    sshPortB = await freePort();
    for (const root of [R, S]) {
      mkdirSync(root, { mode: 0o755 });
      for (const d of ['etc/systemd/system', 'usr/local', 'var/lib', 'srv', 'root'])
        mkdirSync(path.join(root, d), { recursive: true, mode: 0o755 });
      writeFileSync(`${root}/etc/fstab`, '');
    }
    freshSshd(R, sshPort);
    freshSshd(S, sshPortB);
    // The tarball, packed from a copy (a build never rewrites the dist/ other tests run).
    const copy = path.join(base, 'source');
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { files: string[] };
    for (const f of [...pkg.files, 'package.json', 'package-lock.json'])
      if (existsSync(path.join(REPO, f))) cpSync(path.join(REPO, f), path.join(copy, f), { recursive: true });
    // As a clone made under umask 027 has them (files 0640, folders and bin/cas-bdt.js 0750,
    // root's alone): the install step must still leave a program the service user can run.
    restrictModes(copy);
    symlinkSync(path.join(REPO, 'node_modules'), path.join(copy, 'node_modules'));
    const packed = spawnSync('npm', ['pack', '--pack-destination', path.join(R, 'root')], { cwd: copy, encoding: 'utf8' });
    expect(packed.status, packed.stderr).toBe(0);
    // The sponsor's key pair (its system logs in with it).
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(R, 'root/qhdghb91x')]);
  }, 600_000);

  afterAll(async () => {
    for (const m of mounts.reverse()) spawnSync('fusermount3', ['-u', '-z', m]);
    if (service && service.exitCode === null) service.kill('SIGKILL');
    for (const p of sshds.values()) if (p.exitCode === null) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    for (const account of [`${tag}-qhdghb91x`, user]) spawnSync('userdel', ['--force', account]);
    for (const group of [`${tag}-qhdghb91x`, sponsorsGroup, user]) spawnSync('groupdel', [group]);
    const env = { ...process.env, PGHOST: pg.hostname, PGPORT: pg.port || '5432' };
    spawnSync('runuser', ['-u', 'postgres', '--', 'dropdb', '--if-exists', dbName], { env });
    spawnSync('runuser', ['-u', 'postgres', '--', 'dropuser', '--if-exists', dbName], { env });
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it("installs the lock's dependency tree, starts the unit, and every command sees the service's store", async () => {
    await step(/^install -d/);
    // The tree npm ci installed is the lock's (npm install -g of the tarball is not).
    const lock = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; dev?: boolean }>;
    };
    const installed = `${R}/usr/local/lib/cas-bdt`;
    for (const [where, entry] of Object.entries(lock.packages)) {
      if (!where || entry.dev || !existsSync(path.join(installed, where, 'package.json'))) continue;
      const { version } = JSON.parse(readFileSync(path.join(installed, where, 'package.json'), 'utf8')) as { version: string };
      expect(version, where).toBe(entry.version);
    }
    expect(existsSync(path.join(installed, 'node_modules/fastify/node_modules/light-my-request'))).toBe(true);
    expect(existsSync(path.join(installed, 'node_modules/vitest'))).toBe(false);
    // The shipped unit and sshd fragment, with this run's root, names and group put in.
    for (const f of ['deploy/cas-bdt.service', 'deploy/sshd-sponsors.conf'])
      writeFileSync(path.join(installed, f), rewrite(readFileSync(path.join(installed, f), 'utf8'), R));

    await step(/^useradd/);
    expect(statSync(`${R}/srv/bdt`).mode & 0o777).toBe(0o750);
    await step(/^\(umask 077/);
    expect(statSync(`${R}/etc/cas-bdt/pgpass`).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${R}/etc/cas-bdt/pgpass`, 'utf8')).toMatch(
      new RegExp(`^${pg.hostname}:\\d+:${dbName}:${dbName}:[A-Za-z0-9]{20,}\\n$`),
    );
    await step(/^printf "CREATE ROLE/);
    await step(/^cat > \/etc\/cas-bdt\/config.json/);
    expect(statSync(`${R}/etc/cas-bdt/env`).mode & 0o777).toBe(0o600);
    expect(statSync(`${R}/etc/cas-bdt/config.json`).mode & 0o777).toBe(0o640);
    await step(/^cp .*cas-bdt.service/);
    expect(serviceLog).toMatch(new RegExp(`PostgreSQL postgres://${dbName}@`));

    // An operator command as the service user, from root's folder: the same store.
    const listed = await step(/^runuser -u cas-bdt -- cas-bdt sponsor list/);
    expect(listed.stdout + listed.stderr).toMatch(new RegExp(`PostgreSQL postgres://${dbName}@`));
    expect(listed.stderr).not.toMatch(/created a new/);
  }, 600_000);

  it('set-up A: a sponsor added as written uploads with sftp and gets its result from the running service', async () => {
    await step(/^cp .*sshd-sponsors.conf/);
    await step(/^sh .*sponsor-account.sh QHDGHB91X qhdghb91x.pub/);
    const account = `${tag}-qhdghb91x`;
    cpSync(path.join(REPO, 'fixtures/upload/general-basic.xml'), path.join(base, 'general-basic.xml'));
    const up = sftp(R, sshPort, account, path.join(R, 'root/qhdghb91x'), [`put ${path.join(base, 'general-basic.xml')} general-basic.xml`]);
    expect(up.status, up.stderr).toBe(0);
    const result = `${R}/srv/bdt/QHDGHB91X/outbox/general-basic.result.xml`;
    await waitFor(() => existsSync(result), { timeoutMs: 60_000, what: 'the result' });
    expect(readFileSync(result, 'utf8')).toMatch(/<Outcome>ACCEPTED<\/Outcome>/);
  }, 600_000);

  it("set-up B: the sponsors' tree mounted with sshfs as the README says, polled, processed", async () => {
    // The sponsors' server: its tree and the sponsor's account (set-up A's script), then the README's sshd settings.
    run('sh', [path.join(R, 'usr/local/lib/cas-bdt/deploy/sponsor-account.sh'), 'QHDGHB91X', path.join(R, 'root/qhdghb91x.pub')], {
      env: {
        CAS_BDT_ROOT: `${S}/srv/bdt`,
        CAS_BDT_USER: user,
        CAS_BDT_SPONSORS_GROUP: sponsorsGroup,
        CAS_BDT_ACCOUNT_PREFIX: `${tag}-`,
        CAS_BDT_KEYS_DIR: `${S}/etc/ssh/cas-bdt-keys`,
      },
    });
    writeFileSync(
      `${S}/etc/ssh/sshd_config.d/cas-bdt-sponsors.conf`,
      readFileSync(`${R}/usr/local/lib/cas-bdt/deploy/sshd-sponsors.conf`, 'utf8').replaceAll(R, S),
    );
    await startSshd(S);

    await step(/^ssh-keygen .*\/etc\/cas-bdt\/id_ed25519/);
    cpSync(`${R}/etc/cas-bdt/id_ed25519.pub`, `${S}/root/id_ed25519.pub`);
    await step(/^sed -i 's\/\^Subsystem/, S, `${S}/root`);
    expect(readFileSync(`${S}/etc/ssh/sshd_config`, 'utf8')).toMatch(/^Subsystem sftp internal-sftp$/m);
    await step(/^echo .* >> \/etc\/fstab/);
    expect(mounts).toContain(`${R}/srv/bdt`);
    expect(JSON.parse(readFileSync(`${R}/etc/cas-bdt/config.json`, 'utf8'))).toMatchObject({ poll: true });

    const up = sftp(S, sshPortB, `${tag}-qhdghb91x`, path.join(R, 'root/qhdghb91x'), [
      `put ${path.join(REPO, 'fixtures/upload/general-basic.xml')} general-basic.xml`,
    ]);
    expect(up.status, up.stderr).toBe(0);
    const result = `${S}/srv/bdt/QHDGHB91X/outbox/general-basic.result.xml`;
    await waitFor(() => existsSync(result), { timeoutMs: 90_000, what: "the result on the sponsors' server" });
    // The same file as in set-up A, by content: a replay of the accepted one, answered all the same.
    expect(readFileSync(result, 'utf8')).toMatch(/<Outcome>ACCEPTED<\/Outcome>/);
    expect(next, 'every production step of the README was run').toBe(steps.length);
    await stopService();
  }, 600_000);

  it('without "db", the service keeps the embedded store in /var/lib/cas-bdt and the service user\'s commands reach it', async () => {
    const file = `${R}/etc/cas-bdt/config.json`;
    const { db: _db, 'db-passfile': _passfile, ...rest } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify(rest));
    await startService(R);
    expect(serviceLog).toMatch(new RegExp(`store: embedded store at ${R}/var/lib/cas-bdt`));
    // The README's operator command again, as written.
    const listed = runStep(
      steps.find((s) => s.startsWith('runuser -u cas-bdt -- cas-bdt sponsor list'))!,
      R,
      path.join(R, 'root'),
    );
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`embedded store at ${R}/var/lib/cas-bdt (through the running service)`);
    expect(listed.stderr).not.toMatch(/created a new/);
    await stopService();
  }, 600_000);
});
