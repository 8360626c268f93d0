/**
 * A real SFTP server for tests: OpenSSH's sshd on a free loopback port, with its own host
 * key and client key in a temporary folder, sponsor accounts made by the project's own
 * deploy/sponsor-account.sh (throwaway local users and groups, removed afterwards), and
 * the project's sshd fragment (deploy/sshd-sponsors.conf) with the test's group and key
 * folder put in. The tree lives under a root-owned 0755 folder outside /tmp, because
 * sshd chroots only below folders that are root's and writable by no one else. Needs
 * root, sshd, sftp and (for mounts) sshfs with /dev/fuse; `sftpUnavailable` says what is
 * missing, for a skip message.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { REPO } from './watch.ts';
import { waitFor } from './wait.ts';

const SSHD = '/usr/sbin/sshd';
const BASE = process.env.CAS_BDT_TEST_CHROOT_BASE ?? '/run/cas-bdt-test';
export const ACCOUNT_SCRIPT = path.join(REPO, 'deploy/sponsor-account.sh');
const SSHD_FRAGMENT = path.join(REPO, 'deploy/sshd-sponsors.conf');

const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Why the SFTP tests cannot run here (undefined when they can). */
export function sftpUnavailable(opts: { sshfs?: boolean } = {}): string | undefined {
  if (process.getuid?.() !== 0) return 'they need root (local accounts, a chroot)';
  if (!existsSync(SSHD)) return `${SSHD} is missing (apt-get install openssh-server)`;
  for (const cmd of ['sftp', 'ssh-keygen', 'useradd', 'setpriv']) if (!onPath(cmd)) return `${cmd} is missing`;
  if (opts.sshfs) {
    if (!onPath('sshfs')) return 'sshfs is missing (apt-get install sshfs)';
    try {
      accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
    } catch {
      return '/dev/fuse is not usable';
    }
  }
  return undefined;
}

/** Runs a command, throwing with its output when it fails. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  return r.stdout;
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

interface SftpResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface SftpServer {
  /** The folder tree (`--root` of the service): `<base>/bdt`. */
  root: string;
  /** A root-owned 0755 scratch folder next to the tree. */
  base: string;
  port: number;
  /** The service user and its group (the sponsor groups hold it). */
  serviceUser: string;
  /** `bdt-<licence>` with this run's prefix. */
  account(licence: string): string;
  /** Creates a sponsor's account and folders with deploy/sponsor-account.sh. */
  addSponsor(licence: string): string;
  /** `sftp -b -` as `user` with `commands`; `limitKbit` throttles the link (`-l`). */
  sftp(user: string, commands: string[], opts?: { limitKbit?: number }): Promise<SftpResult>;
  /** Starts an `sftp` batch and returns the process, to be interrupted. */
  sftpProcess(user: string, commands: string[], opts?: { limitKbit?: number }): ReturnType<typeof spawn>;
  /** Mounts `remote` (a path on the server) at `mountpoint` with sshfs as `user`. */
  mount(user: string, remote: string, mountpoint: string, options?: string[]): void;
  /** sshd's log so far. */
  log(): string;
  close(): Promise<void>;
}

/**
 * Starts sshd with the project's fragment, a service user, and a temporary base. Users
 * and groups get a per-run prefix so that parallel runs never meet.
 */
async function startSftpServer(): Promise<SftpServer> {
  mkdirSync(BASE, { recursive: true, mode: 0o755 });
  chmodSync(BASE, 0o755);
  const base = mkdtempSync(path.join(BASE, 'sftp-'));
  chmodSync(base, 0o755);
  for (let dir = base; dir !== '/'; dir = path.dirname(dir)) {
    const st = lstatSync(dir);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0)
      throw new Error(`${dir} must be root's and writable by no one else for sshd's chroot; set CAS_BDT_TEST_CHROOT_BASE`);
  }
  const tag = `cb${Math.random().toString(36).slice(2, 7)}`;
  const serviceUser = `${tag}-svc`;
  const sponsorsGroup = `${tag}-sponsors`;
  const keys = path.join(base, 'keys');
  const root = path.join(base, 'bdt');
  const etc = path.join(base, 'etc');
  mkdirSync(keys, { mode: 0o755 });
  mkdirSync(etc, { mode: 0o700 });
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(etc, 'host_key')]);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(etc, 'client_key')]);
  const clientKey = path.join(etc, 'client_key');
  const users: string[] = [];
  const groups: string[] = [sponsorsGroup];
  run('useradd', [
    '--no-create-home',
    '--home-dir',
    '/nonexistent',
    '--shell',
    '/usr/sbin/nologin',
    '--user-group',
    '--password',
    '*',
    serviceUser,
  ]);
  users.push(serviceUser);
  groups.push(serviceUser);
  // The service account also logs in (set-up B mounts the tree as that account).
  writeFileSync(path.join(keys, serviceUser), readFileSync(`${clientKey}.pub`), { mode: 0o644 });

  const fragment = readFileSync(SSHD_FRAGMENT, 'utf8').replaceAll('bdt-sponsors', sponsorsGroup).replaceAll('/etc/ssh/cas-bdt-keys', keys);
  writeFileSync(path.join(etc, 'sponsors.conf'), fragment);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const env = {
    CAS_BDT_ROOT: root,
    CAS_BDT_USER: serviceUser,
    CAS_BDT_SPONSORS_GROUP: sponsorsGroup,
    CAS_BDT_ACCOUNT_PREFIX: `${tag}-`,
    CAS_BDT_KEYS_DIR: keys,
  };
  const account = (licence: string) => `${tag}-${licence.toLowerCase()}`;

  let proc: ReturnType<typeof spawn> | undefined;
  let log = '';
  let port = 0;
  // A port found free may be taken before sshd binds it: try another.
  for (let attempt = 0; attempt < 5 && !proc; attempt++) {
    port = await freePort();
    const config = path.join(etc, 'sshd_config');
    writeFileSync(
      config,
      [
        'ListenAddress 127.0.0.1',
        `Port ${port}`,
        `HostKey ${path.join(etc, 'host_key')}`,
        'PidFile none',
        'UsePAM no',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        `AuthorizedKeysFile ${keys}/%u`,
        'Subsystem sftp internal-sftp',
        'LogLevel VERBOSE',
        `Include ${path.join(etc, 'sponsors.conf')}`,
        '',
      ].join('\n'),
    );
    const p = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let out = '';
    p.stderr!.setEncoding('utf8').on('data', (s: string) => ((out += s), (log += s)));
    let exited = false;
    p.once('exit', () => (exited = true));
    await waitFor(() => exited || /Server listening on/.test(out), { timeoutMs: 30_000, what: 'sshd listening' });
    if (!exited) proc = p;
    else if (!/Address already in use/.test(out)) throw new Error(`sshd did not start:\n${out}`);
  }
  if (!proc) throw new Error(`sshd found no free port:\n${log}`);
  const sshd = proc;

  const sshOptions = [
    '-i',
    clientKey,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'BatchMode=yes',
  ];
  const sftpArgs = (user: string, limitKbit?: number) => [
    '-b',
    '-',
    '-P',
    String(port),
    ...(limitKbit ? ['-l', String(limitKbit)] : []),
    ...sshOptions,
    `${user}@127.0.0.1`,
  ];
  const sftpProcess = (user: string, commands: string[], opts: { limitKbit?: number } = {}) => {
    const p = spawn('sftp', sftpArgs(user, opts.limitKbit), { stdio: ['pipe', 'pipe', 'pipe'] });
    p.stdin!.end(commands.join('\n') + '\n');
    return p;
  };
  const mounts: string[] = [];

  return {
    root,
    base,
    port,
    serviceUser,
    account,
    addSponsor(licence) {
      const key = path.join(etc, 'client_key.pub');
      run('sh', [ACCOUNT_SCRIPT, licence, key], { env });
      users.push(account(licence));
      groups.push(account(licence));
      return account(licence);
    },
    sftp: (user, commands, opts = {}) =>
      new Promise((resolve) => {
        const p = sftpProcess(user, commands, opts);
        let stdout = '';
        let stderr = '';
        p.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
        p.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
        p.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      }),
    sftpProcess,
    mount(user, remote, mountpoint, options = []) {
      const opts = [
        `port=${port}`,
        `IdentityFile=${clientKey}`,
        'StrictHostKeyChecking=no',
        'UserKnownHostsFile=/dev/null',
        'BatchMode=yes',
        ...options,
      ];
      run('sshfs', ['-o', opts.join(','), `${user}@127.0.0.1:${remote}`, mountpoint]);
      mounts.push(mountpoint);
    },
    log: () => log,
    async close() {
      for (const m of mounts.reverse()) spawnSync('fusermount3', ['-u', '-z', m]);
      sshd.kill('SIGTERM');
      // Sessions of sponsor accounts end with sshd; then the accounts can go.
      await waitFor(() => sshd.exitCode !== null || sshd.signalCode !== null, { timeoutMs: 30_000, what: 'sshd stopped' });
      for (const u of users) spawnSync('userdel', ['--force', u]);
      for (const g of groups) spawnSync('groupdel', [g]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** One server for the enclosing `describe`: started before its tests, closed after them. */
export function sftpServerForSuite(): () => SftpServer {
  let server: SftpServer | undefined;
  beforeAll(async () => {
    server = await startSftpServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => {
    if (!server) throw new Error('the SFTP server is not started');
    return server;
  };
}
