/**
 * The database password without it ever being on a command line: a throwaway PostgreSQL
 * cluster that asks a role for its password (scram-sha-256), and the CLI given only a URL
 * without one. The password comes from PGPASSWORD or from a 0600 password file in libpq's
 * format (PGPASSFILE, --db-passfile, or `db-passfile` in the config file); a file others
 * may read is refused with the fix; a password in a `--db` URL still works but is warned
 * about, once. Over TLS, libpq's `sslrootcert=FILE` names the CA the server's certificate
 * must come from (with the host name checked for verify-full, not for verify-ca).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../chaos/cluster.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/stores.ts';

describe('a PostgreSQL password from the environment or a password file', () => {
  let cluster: Cluster;
  let url: string;
  let dir: string;
  const password = 'S3cret-' + Math.random().toString(36).slice(2);

  beforeAll(async () => {
    cluster = await startCluster({ maxConnections: 30 });
    const admin = postgres(cluster.url, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create role app login password '${password}'`);
      await admin.unsafe('create database appdb owner app');
      const [{ hba_file: hba }] = (await admin`show hba_file`) as unknown as [{ hba_file: string }];
      // The administrator keeps trust; every other role must give its password.
      writeFileSync(
        hba,
        ['local all all trust', 'host all postgres 127.0.0.1/32 trust', 'host all all 127.0.0.1/32 scram-sha-256', ''].join('\n'),
      );
      await admin`select pg_reload_conf()`;
    } finally {
      await admin.end();
    }
    url = `postgres://app@127.0.0.1:${cluster.port}/appdb`;
    dir = tempDir('cas-bdt-pgpass-');
  }, 180_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  function passfile(name: string, body: string, mode = 0o600): string {
    const file = path.join(dir, name);
    writeFileSync(file, body, { mode });
    chmodSync(file, mode);
    return file;
  }

  it('is refused without a password (the server does ask for one)', async () => {
    const r = await runCli(['--db', url, 'sponsor', 'list'], { cwd: dir, env: { HOME: dir } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/password/i);
  });

  it('comes from PGPASSWORD', async () => {
    const r = await runCli(['--db', url, 'sponsor', 'list'], { cwd: dir, env: { HOME: dir, PGPASSWORD: password } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/No sponsors yet/);
  });

  it('comes from a 0600 password file named by PGPASSFILE, --db-passfile or the config file', async () => {
    const file = passfile('pgpass', `# cas-bdt\n127.0.0.1:${cluster.port}:appdb:app:${password}\n`);
    const byEnv = await runCli(['--db', url, 'sponsor', 'list'], { cwd: dir, env: { HOME: dir, PGPASSFILE: file } });
    expect(byEnv.code, byEnv.stderr).toBe(0);
    const byFlag = await runCli(['--db', url, '--db-passfile', file, 'sponsor', 'list'], { cwd: dir, env: { HOME: dir } });
    expect(byFlag.code, byFlag.stderr).toBe(0);
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ db: url, 'db-passfile': file }));
    const byConfig = await runCli(['--config', config, 'sponsor', 'list'], { cwd: dir, env: { HOME: dir } });
    expect(byConfig.code, byConfig.stderr).toBe(0);
    expect(byConfig.stdout + byConfig.stderr).not.toContain(password);
  });

  it('refuses a password file that group or others may read, before connecting', async () => {
    const file = passfile('pgpass-open', `*:*:*:*:${password}\n`, 0o644);
    const r = await runCli(['--db', url, 'sponsor', 'list'], { cwd: dir, env: { HOME: dir, PGPASSFILE: file } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/may be read or written by group or others \(mode 0644\): chmod 600/);
    expect(r.stderr).not.toContain(password);
  });

  it('works from a --db URL too, with one warning that it shows in the process list', async () => {
    const withPassword = `postgres://app:${encodeURIComponent(password)}@127.0.0.1:${cluster.port}/appdb`;
    const r = await runCli(['--db', withPassword, 'sponsor', 'list'], { cwd: dir, env: { HOME: dir } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/warning: the --db URL holds a password/g)).toHaveLength(1);
    expect(r.stderr).not.toContain(password);
    const fromEnv = await runCli(['sponsor', 'list'], { cwd: dir, env: { HOME: dir, DATABASE_URL: withPassword } });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(fromEnv.stderr).not.toMatch(/warning/);
  });

  describe('over TLS, checked against the CA file of sslrootcert', () => {
    let ca: string;
    let otherCa: string;

    /** Runs openssl in `dir`, failing with its output. */
    function openssl(args: string[]) {
      const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
    }

    beforeAll(async () => {
      const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
      openssl(['req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=cas-bdt test CA', '-days', '2']);
      openssl(['req', '-x509', ...key, '-keyout', 'other.key', '-out', 'other.crt', '-subj', '/CN=another CA', '-days', '2']);
      openssl(['req', ...key, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
      writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
      openssl([
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.crt',
        '-days',
        '2',
        '-extfile',
        'san.ext',
      ]);
      ca = path.join(dir, 'ca.crt');
      otherCa = path.join(dir, 'other.crt');
      const admin = postgres(cluster.url, { max: 1, onnotice: () => {} });
      try {
        const [{ data_directory: data }] = (await admin`show data_directory`) as unknown as [{ data_directory: string }];
        const owner = statSync(data);
        for (const f of ['server.crt', 'server.key']) {
          const to = path.join(data, f);
          writeFileSync(to, readFileSync(path.join(dir, f)), { mode: 0o600 });
          chownSync(to, owner.uid, owner.gid);
        }
        await admin.unsafe('alter system set ssl = on');
        await admin`select pg_reload_conf()`;
      } finally {
        await admin.end();
      }
    }, 120_000);

    const list = (dbUrl: string) => runCli(['--db', dbUrl, 'sponsor', 'list'], { cwd: dir, env: { HOME: dir, PGPASSWORD: password } });
    const at = (host: string, query: string) => `postgres://app@${host}:${cluster.port}/appdb?${query}`;

    it('connects when the certificate comes from that CA and names the host (verify-full)', async () => {
      const r = await list(at('localhost', `sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`));
      expect(r.code, r.stderr).toBe(0);
    });

    it('refuses a certificate for another host name with verify-full, takes it with verify-ca', async () => {
      const full = await list(at('127.0.0.1', `sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`));
      expect(full.code).toBe(1);
      expect(full.stderr).toMatch(/127\.0\.0\.1|altnames|host/i);
      const chainOnly = await list(at('127.0.0.1', `sslmode=verify-ca&sslrootcert=${encodeURIComponent(ca)}`));
      expect(chainOnly.code, chainOnly.stderr).toBe(0);
    });

    it("refuses a certificate from another CA, and one Node's own CAs do not know", async () => {
      const other = await list(at('localhost', `sslmode=verify-full&sslrootcert=${encodeURIComponent(otherCa)}`));
      expect(other.code).toBe(1);
      const bundled = await list(at('localhost', 'sslmode=verify-full'));
      expect(bundled.code).toBe(1);
    });

    it('refuses a CA file with an sslmode that would not use it, and an unknown sslmode, as usage errors', async () => {
      const prefer = await list(at('localhost', `sslmode=prefer&sslrootcert=${encodeURIComponent(ca)}`));
      expect(prefer.code).toBe(2);
      expect(prefer.stderr).toMatch(/sslrootcert .* needs sslmode=verify-full/);
      const typo = await list(at('localhost', 'sslmode=verify_full'));
      expect(typo.code).toBe(2);
    });
  });
});
