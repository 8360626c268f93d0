/**
 * The peer: the yardstick for speed, a Python script (lxml validates, psycopg2 inserts in
 * pages of 1,000, one transaction per file, a small result XML) that is what a competent
 * engineer would write instead of cas-bdt, with no record rules, lifecycle or watcher.
 * It is not part of this repository: `--peer FILE` names it (default: lxml_peer.py in
 * the shared bench folder beside the clone), `--peer-xsd FILE` the Home Office schema it
 * validates with (default: the reference copy beside the clone, else schemas/). Without
 * it, or without Python's lxml and psycopg2, the benchmarks say so and skip its columns.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPgDatabase } from '../test/helpers/stores.ts';
import { cpuPerFile, cpuSince, cpuSnapshot, type CpuTimes } from './cpu.ts';

const REPO = path.resolve(import.meta.dirname, '..');

const { values } = parseArgs({
  strict: false,
  options: {
    peer: { type: 'string', default: path.resolve(REPO, '../shared/bench/lxml_peer.py') },
    'peer-xsd': {
      type: 'string',
      default: path.resolve(REPO, '../shared/reference/homeoffice-bdt-v2.1/BulkDataCASUpload-General-v2.1.xsd'),
    },
  },
});

export interface Peer {
  /** Wall time of the peer on one file, start-up (Python, schema) included, on a fresh database. */
  one(file: string, out: string): Promise<{ ms: number; maxRssKb: number; cpu: CpuTimes }>;
  /** The peer's own time for many files in one process (one transaction per file), start-up excluded, on a fresh database. */
  many(files: string[], outDir: string): Promise<{ ms: number; cpu: string }>;
}

/** The peer, or why it cannot run here (printed in place of its columns). */
export function findPeer(): Peer | { missing: string } {
  const script = String(values.peer);
  if (!existsSync(script)) return { missing: `the peer (lxml_peer.py) is not at ${script}; give its path with --peer FILE` };
  const referenceXsd = String(values['peer-xsd']);
  const xsd = existsSync(referenceXsd) ? referenceXsd : path.join(REPO, 'schemas/upload-general.xsd');
  // Debian's python3-lxml and python3-psycopg2 belong to the system's interpreter, which another python3 on PATH may hide.
  const python = ['/usr/bin/python3', 'python3'].find(
    (p) => spawnSync(p, ['-c', 'import lxml.etree, psycopg2'], { stdio: 'ignore' }).status === 0,
  );
  if (!python)
    return {
      missing:
        'the peer needs Python 3 with lxml and psycopg2 (Debian/Ubuntu: sudo apt-get install python3-lxml python3-psycopg2; elsewhere: pip install lxml psycopg2-binary)',
    };
  const run = async (args: (url: string) => string[]) => {
    const db = await createPgDatabase();
    try {
      const started = process.hrtime.bigint();
      const before = cpuSnapshot(undefined);
      const res = spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M CPU %U %S', python, script, ...args(db.url)], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (res.status !== 0) throw new Error(`the peer failed (${res.status}): ${res.stderr.slice(0, 2000)}`);
      const own = /CPU ([\d.]+) ([\d.]+)/.exec(res.stderr);
      // The peer's process (Python's start and the schema's load included) and PostgreSQL's processes.
      const cpu: CpuTimes = {
        serviceMs: own ? (Number(own[1]) + Number(own[2])) * 1000 : NaN,
        postgresMs: cpuSince(before, undefined).postgresMs,
      };
      return { ms, stdout: res.stdout, maxRssKb: Number(/MAXRSS (\d+)/.exec(res.stderr)?.[1] ?? NaN), cpu };
    } finally {
      await db.drop();
    }
  };
  return {
    one: async (file, out) => run((url) => [xsd, file, url, out]),
    many: async (files, outDir) => {
      const res = await run((url) => ['--many', xsd, url, outDir, ...files]);
      const own = /in ([\d.]+) s/.exec(res.stdout);
      return {
        ms: own ? Number(own[1]) * 1000 : res.ms,
        cpu: cpuPerFile(res.cpu, files.length, { service: 'the peer' }),
      };
    },
  };
}

/** "1.32x": how many times faster `ours` is than `theirs` (times in ms). */
export const speedRatio = (theirsMs: number, oursMs: number) => `${(theirsMs / oursMs).toFixed(2)}x`;
