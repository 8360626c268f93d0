/**
 * The fatal line of `watch` (an error nothing caught: a bug) never carries the raw stack,
 * which repeats the error's message whole, nor what the message quotes: the compiled
 * `watch` is started in a process that throws such an error once the service is ready.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { suiteDir } from '../helpers/fixture.ts';
import { REPO } from '../helpers/watch.ts';

describe('the fatal log line', () => {
  const work = suiteDir('cas-bdt-fatal-');

  it('names the error class, code and where it was thrown, not the raw stack or quoted data', async () => {
    const script = path.join(work, 'throw-when-ready.mjs');
    writeFileSync(
      script,
      `const { main } = await import(${JSON.stringify(pathToFileURL(path.join(REPO, 'dist/cli/main.js')).href)});
const write = process.stderr.write.bind(process.stderr);
let thrown = false;
process.stderr.write = (chunk, ...rest) => {
  if (!thrown && /INFO\\s+ready/.test(String(chunk))) {
    thrown = true;
    setImmediate(function applicantLookup() {
      throw Object.assign(new TypeError('no CAS for "Smith, Jane" (passport P1234567) born 1999-02-03'), { code: 'E_BUG' });
    });
  }
  return write(chunk, ...rest);
};
process.exitCode = await main(process.argv.slice(2));
`,
    );
    const child = spawn(
      process.execPath,
      [script, 'watch', '--data', path.join(work, 'data'), '--root', path.join(work, 'bdt'), '--http', 'off'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH, HOME: process.env.HOME } },
    );
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    expect(code, err).toBe(1);
    const fatal = err.split('\n').find((l) => / FATAL /.test(l));
    expect(fatal, err).toBeDefined();
    expect(fatal).toMatch(/errorClass=TypeError/);
    expect(fatal).toMatch(/E_BUG/);
    expect(fatal).toMatch(/applicantLookup/);
    expect(err).not.toMatch(/Smith|P1234567|1999-02-03/);
    expect(err).not.toMatch(/stack=/);
  }, 120_000);
});
