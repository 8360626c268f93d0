/**
 * What a newcomer sees first: `--version`, exit codes and signals in `--help`, errors as
 * JSON with `--json`, output piped into `head` ending quietly, and JSON log lines with
 * level names and ISO times.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { cliOnStore, runCli } from '../helpers/cli.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { BIN, REPO } from '../helpers/watch.ts';

describe('version and help', () => {
  it('prints the package version with --version and -V', async () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it('lists exit codes and signals in --help, signals in watch --help', async () => {
    const help = await runCli(['--help']);
    expect(help.stdout).toMatch(/Exit codes:[\s\S]*3\s+refused[\s\S]*4\s+not found/);
    expect(help.stdout).toMatch(/SIGTERM, SIGINT[\s\S]*SIGHUP/);
    const watch = await runCli(['watch', '--help']);
    expect(watch.stdout).toMatch(/SIGHUP\s+list every inbox/);
  });

  it('logs JSON lines with level names and ISO times', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => void lines.push(l), format: 'json' });
    log.warn({ file: 'a.xml' }, 'allocation exhausted');
    const line = JSON.parse(lines[0]!) as { level: unknown; time: unknown; msg: string };
    expect(line.level).toBe('warn');
    expect(typeof line.time).toBe('string');
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
    const text: string[] = [];
    createLogger({ write: (l) => void text.push(l) }).warn('allocation exhausted');
    expect(text[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN {2}allocation exhausted\n$/);
  });
});

/** Runs the real CLI with stdout piped to a reader that stops after the first chunk, as `| head -1` does. */
function runIntoHead(args: string[]): Promise<{ code: number | null; stderr: string; firstChunk: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let firstChunk = '';
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    proc.stdout.once('data', (chunk: Buffer) => {
      firstChunk = chunk.toString('utf8');
      proc.stdout.destroy();
    });
    proc.once('close', (code) => resolve({ code, stderr, firstChunk }));
  });
}

describe.each(STORE_KINDS)('errors and pipes on %s', (kind) => {
  const on = cliOnStore(kind, 'cas-bdt-output-');
  const { cli } = on;

  it('prints {"error":{"code","message"}} on stdout with --json, and nothing there without it', async () => {
    const missing = await cli('sponsor', 'show', 'NOSUCH001', '--json');
    expect(missing.code).toBe(4);
    expect(missing.json()).toEqual({ error: { code: 'not-found', message: 'sponsor NOSUCH001 not found' } });
    expect(missing.stderr).toContain('sponsor NOSUCH001 not found');
    const plain = await cli('sponsor', 'show', 'NOSUCH001');
    expect(plain.stdout).toBe('');
    const bad = await cli('sponsor', 'add', 'bad', '--name', 'X', '--json');
    expect(bad.code).toBe(2);
    expect(bad.json<{ error: { code: string; message: string } }>().error).toMatchObject({
      code: 'usage',
      message: expect.stringContaining('not a sponsor licence number'),
    });
    const unknown = await cli('sponsor', 'list', '--nope', '--json');
    expect(unknown.code).toBe(2);
    expect(unknown.json<{ error: { code: string; message: string } }>().error).toEqual({
      code: 'usage',
      message: "unknown option '--nope'",
    });
    expect((await cli('sponsor', 'add', 'JSONERR01', '--name', 'Json College')).code).toBe(0);
    const refused = await cli('sponsor', 'add', 'JSONERR01', '--name', 'Again', '--json');
    expect(refused.code).toBe(3);
    expect(refused.json<{ error: { code: string } }>().error.code).toBe('refused');
  });

  it('exits quietly when the reader of its output goes away (| head)', async () => {
    expect((await cli('sponsor', 'add', 'PIPEHEAD1', '--name', 'Pipe College', '--allocation', '1500')).code).toBe(0);
    const file = path.join(on.cwd, 'many.xml');
    writeFileSync(
      file,
      uploadBytes({
        licence: 'PIPEHEAD1',
        fileId: 'PIPE-1',
        records: Array.from({ length: 1500 }, (_, i) => casXml({ applicantId: `PIPE-${i}` })),
      }),
    );
    expect((await cli('process', file, '--sponsor', 'PIPEHEAD1')).code).toBe(0);
    // Far more than a pipe holds: the writes after the reader left fail with EPIPE.
    for (const args of [
      ['cas', 'list', '--sponsor', 'PIPEHEAD1'],
      ['cas', 'list', '--sponsor', 'PIPEHEAD1', '--json'],
    ]) {
      const r = await runIntoHead([...on.t.cliArgs, '--root', on.root, ...args]);
      expect(r.firstChunk.length).toBeGreaterThan(0);
      expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
      expect(r.code).toBe(0);
    }
  }, 120_000);
});
