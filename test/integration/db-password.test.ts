/**
 * The database password without it ever being on a command line: a throwaway PostgreSQL
 * cluster that asks a role for its password (scram-sha-256), and the CLI given only a URL
 * without one. The password comes from PGPASSWORD or from a 0600 password file in libpq's
 * format (PGPASSFILE, --db-passfile, or `db-passfile` in the config file); a file others
 * may read is refused with the fix; a password in a `--db` URL still works but is warned
 * about, once.
 */
import { chmodSync, writeFileSync } from 'node:fs';
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
});
