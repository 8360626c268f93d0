/**
 * File modes (spec section 7), with the real CLI started under the most permissive umask
 * (000): what cas-bdt creates is at most 0640 (files) and 0750 (folders); the embedded
 * store's directory is 0700, its files 0600 and its socket 0600, also when the directory
 * existed before with a wider mode.
 */
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socketPath } from '../../src/db/store-paths.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';
import { BIN, drop, ls, upload, waitForLog, waitProcessed, type Child } from '../helpers/watch.ts';

const mode = (p: string) => lstatSync(p).mode & 0o777;
const octal = (m: number) => m.toString(8).padStart(4, '0');

/** Every path under `dir` with its mode, as `0640 f relative/path`. */
function modes(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const kind = e.isDirectory() ? 'd' : e.isSocket() ? 's' : e.isFile() ? 'f' : '?';
      out.push(`${octal(mode(p))} ${kind} ${path.relative(dir, p)}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** The CLI as a child process under umask 000. */
function cliUnderUmask0(args: string[]): Child {
  const proc = spawn('sh', ['-c', 'umask 000; exec "$@"', 'sh', process.execPath, BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number>((resolve) => proc.once('close', (code) => resolve(code ?? 128)));
  return { proc, stderr: () => err, exited, kill: (s) => void proc.kill(s) };
}

describe.skipIf(!STORE_KINDS.includes('pglite'))('modes of what cas-bdt creates', () => {
  let work: string;
  let root: string;
  let data: string;
  const L = 'PERMS0001';
  const global = () => ['--data', data, '--root', root];

  beforeAll(() => {
    work = tempDir('cas-bdt-perms-');
    root = path.join(work, 'bdt');
    data = path.join(work, 'data');
    // A data directory made beforehand by someone with a lax umask.
    mkdirSync(data, { mode: 0o755 });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('keeps the store 0700/0600 and everything else at most 0750/0640, under umask 000', async () => {
    const add = cliUnderUmask0(['sponsor', 'add', L, '--name', 'Modes College', '--allocation', '10', ...global()]);
    expect(await add.exited, add.stderr()).toBe(0);
    const service = cliUnderUmask0(['watch', ...global(), '--settle-ms', '200', '--scan-interval-ms', '1000']);
    try {
      await waitForLog(service, /INFO\s+ready/, 90_000);
      expect(octal(mode(socketPath(data)))).toBe('0600');
      drop(path.join(root, L, 'inbox'), 'modes.xml', upload(L, 'PM1', 1));
      await waitProcessed(root, L, ['modes.xml']);
      // Store files written while the service runs, the lock included.
      expect(modes(data).filter((m) => !/^0600 [fs] |^0700 d /.test(m))).toEqual([]);
      service.kill('SIGTERM');
      expect(await service.exited, service.stderr()).toBe(0);
    } finally {
      service.kill('SIGKILL');
    }
    const exported = cliUnderUmask0(['export', '--sponsor', L, ...global()]);
    expect(await exported.exited, exported.stderr()).toBe(0);

    expect(octal(mode(data))).toBe('0700');
    expect(modes(data).filter((m) => !/^0600 f |^0700 d /.test(m))).toEqual([]);
    expect(modes(data).length).toBeGreaterThan(100);

    // The tree: no access for others, no writing for the group.
    const tree = modes(root);
    expect(tree.filter((m) => /^0\d\d[1-7] |^0\d[2367]\d /.test(m))).toEqual([]);
    expect(ls(path.join(root, L, 'outbox')).some((f) => f.startsWith('CASEXPORT-'))).toBe(true);
    expect(tree).toContain(`0640 f ${path.join(L, 'outbox', 'modes.result.xml')}`);
    expect(tree).toContain(`0750 d ${path.join(L, 'archive')}`);
  }, 300_000);
});
