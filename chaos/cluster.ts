/**
 * A throwaway PostgreSQL cluster for the chaos suite: `initdb` and `pg_ctl` of the
 * installed PostgreSQL (the newest under /usr/lib/postgresql/<version>/bin, or
 * CAS_BDT_CHAOS_PG_BIN), in a temporary folder, on a free loopback port, so that
 * restarting or stopping it disturbs no other database. initdb refuses to run as root:
 * as root the cluster belongs to the `postgres` user and its tools run through runuser.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Cluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** Stops at once (fast shutdown: open transactions are rolled back, clients cut off) and starts again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** The server's log so far (for a failure's explanation). */
  log(): string;
  /** Stops the server and removes every file of the cluster. */
  destroy(): Promise<void>;
}

/** The newest installed PostgreSQL's bin folder. */
export function postgresBin(): string {
  const override = process.env.CAS_BDT_CHAOS_PG_BIN;
  if (override) return override;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error(`no PostgreSQL found under ${base} (set CAS_BDT_CHAOS_PG_BIN to a folder holding initdb and pg_ctl)`);
  return path.join(base, versions[0], 'bin');
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The uid and gid the cluster runs as: ours, or the postgres user's when we are root. */
function clusterUser(): { uid: number; gid: number; wrap: string[] } {
  if (process.getuid?.() !== 0) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, wrap: [] };
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  if (!Number.isInteger(uid) || uid <= 0) throw new Error('running as root, and there is no postgres user to run the throwaway cluster as');
  return { uid, gid: id('-g'), wrap: ['runuser', '-u', 'postgres', '--'] };
}

export async function startCluster(opts: { maxConnections?: number } = {}): Promise<Cluster> {
  const bin = postgresBin();
  const user = clusterUser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-chaos-pg-'));
  chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  chownSync(data, user.uid, user.gid);
  const logFile = path.join(data, 'server.log');
  const tool = async (name: string, args: string[]) => {
    const [cmd, ...rest] = [...user.wrap, path.join(bin, name), ...args];
    try {
      await run(cmd!, rest, { timeout: 120_000 });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string };
      throw new Error(
        `${name} ${args.join(' ')} failed: ${e.stderr ?? ''}${e.stdout ?? ''}\n${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-3000) : ''}`,
        { cause: err },
      );
    }
  };
  // A throwaway cluster: initdb need not flush what it writes.
  await tool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const port = await freePort();
  const conf = path.join(data, 'postgresql.conf');
  writeFileSync(
    conf,
    readFileSync(conf, 'utf8') +
      [
        '',
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${data}'`,
        `max_connections = ${opts.maxConnections ?? 200}`,
        'logging_collector = off',
        '',
      ].join('\n'),
  );
  const ctl = (action: string, extra: string[] = []) => tool('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '120', ...extra, action]);
  await ctl('start');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    restart: () => ctl('restart', ['-m', 'fast']),
    stop: () => ctl('stop', ['-m', 'fast']),
    start: () => ctl('start'),
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    destroy: async () => {
      await ctl('stop', ['-m', 'immediate']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
