/**
 * Usage errors as a person reads them: the error, the command's one-line usage and where
 * to read more (not the whole help); a mistyped option is named as unknown, with
 * commander's suggestion, before a required option is said to be missing; and every
 * option or argument that takes one of a fixed set of values refuses any other (exit 2),
 * before a store is opened.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { buildProgram } from '../../src/cli/main.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/stores.ts';

describe('usage errors', () => {
  const cwd = tempDir('cas-bdt-usage-');
  const cli = (...args: string[]) => runCli(args, { cwd });

  it('names a mistyped option as unknown, with the suggestion and the usage line, in a few lines', async () => {
    const r = await cli('cas', 'list', '--sponser', 'QHDGHB91X');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "error: unknown option '--sponser'\n(Did you mean --sponsor?)\n" +
        "Usage: cas-bdt cas list [options]\nRun 'cas-bdt cas list --help' for every option.\n",
    );
    expect(r.stdout).toBe('');
  });

  it('still says a required option is missing when nothing is mistyped', async () => {
    const r = await cli('cas', 'list');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "error: required option '--sponsor <licence>' not specified\nUsage: cas-bdt cas list [options]\nRun 'cas-bdt cas list --help' for every option.\n",
    );
  });

  it('gives the usage line after an unknown command and after a bad argument found by the command', async () => {
    const unknown = await cli('sponsr', 'list');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'sponsr'");
    expect(unknown.stderr).toContain("Usage: cas-bdt [options] [command]\nRun 'cas-bdt --help' for every option.\n");
    expect(unknown.stderr.split('\n').length).toBeLessThan(6);
    const since = await cli('submissions', '--since', '2026-13-45');
    expect(since.code).toBe(2);
    expect(since.stderr).toBe(
      'cas-bdt: --since must be a date YYYY-MM-DD, got "2026-13-45"\n' +
        "Usage: cas-bdt submissions [options] [command]\nRun 'cas-bdt submissions --help' for every option.\n",
    );
    const json = await cli('submissions', '--since', '2026-13-45', '--json');
    expect(json.json()).toEqual({ error: { code: 'usage', message: '--since must be a date YYYY-MM-DD, got "2026-13-45"' } });
  });

  it('--help after a mistyped option is still the help', async () => {
    const r = await cli('cas', 'list', '--sponser', 'X', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--applicant <id>');
  });

  // Each option or argument with a fixed set of values, given one outside it.
  const BAD_ENUMS: [string, string[], string][] = [
    ['submissions --outcome', ['submissions', '--outcome', 'foo'], "option '--outcome <outcome>' argument 'foo' is invalid"],
    ['submissions --type', ['submissions', '--type', 'foo'], "option '--type <type>' argument 'foo' is invalid"],
    ['cas list --status', ['cas', 'list', '--sponsor', 'QHDGHB91X', '--status', 'foo'], "option '--status <status>' argument 'foo'"],
    ['cas list --route', ['cas', 'list', '--sponsor', 'QHDGHB91X', '--route', 'foo'], "option '--route <route>' argument 'foo'"],
    ['sponsor status <status>', ['sponsor', 'status', 'QHDGHB91X', 'foo'], "command-argument value 'foo' is invalid for argument 'status'"],
    [
      'sponsor status --route',
      ['sponsor', 'status', 'QHDGHB91X', 'surrendered', '--route', 'foo'],
      "option '--route <route>' argument 'foo'",
    ],
    [
      'sponsor add --routes',
      ['sponsor', 'add', 'QHDGHB91X', '--name', 'X', '--routes', 'foo'],
      '--routes takes student, child or student,child',
    ],
    ['sponsor set --routes', ['sponsor', 'set', 'QHDGHB91X', '--routes', 'foo'], '--routes takes student, child or student,child'],
    ['watch --log-format', ['watch', '--log-format', 'foo'], "option '--log-format <format>' argument 'foo' is invalid"],
  ];

  it.each(BAD_ENUMS)('refuses a value outside the set: %s', async (_name, args, message) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/Usage: cas-bdt .*\nRun 'cas-bdt .* --help' for every option\.\n$/);
    expect(r.stdout).toBe('');
    // Refused before any store was opened (or created).
    expect(existsSync(path.join(cwd, '.cas-bdt'))).toBe(false);
  });

  it('lists the allowed values and takes them in any case', async () => {
    const r = await cli('submissions', '--outcome', 'foo');
    expect(r.stderr).toContain('expected one of ACCEPTED, REJECTED');
    const s = await cli('cas', 'list', '--sponsor', 'QHDGHB91X', '--status', 'nope');
    expect(s.stderr).toContain('expected one of WORK_IN_PROGRESS');
  });
});

/** Good values of the arguments that come before one with choices. */
const SAMPLE_ARGUMENTS: Record<string, string> = { licence: 'QHDGHB91X', 'cas-number': 'E4G0AA0A00A0A1' };

/**
 * Every option and argument of the command tree that declares its values (`.choices()`),
 * found by walking the program, with a command line that gives it a value outside them: a
 * new one is covered without being listed here.
 */
function everyChoice(): [string, string[]][] {
  const program = buildProgram({ stdout: () => {}, stderr: () => {}, env: {}, cwd: '/', stderrIsTTY: false }, () => {});
  const found: [string, string[]][] = [];
  const walk = (cmd: CommandUnknownOpts, names: string[]) => {
    // Global options (the settings) go before a command that needs nothing else.
    const line = (args: string[]) => (names.length ? [...names, ...args] : [...args, 'sponsor', 'list']);
    for (const o of cmd.options) if (o.argChoices) found.push([`${names.join(' ') || 'cas-bdt'} ${o.long}`, line([o.long!, 'foo'])]);
    cmd.registeredArguments.forEach((a, i) => {
      if (!a.argChoices) return;
      const before = cmd.registeredArguments.slice(0, i).map((b) => SAMPLE_ARGUMENTS[b.name()] ?? `(no sample value for <${b.name()}>)`);
      found.push([`${names.join(' ')} <${a.name()}>`, line([...before, 'foo'])]);
    });
    for (const sub of cmd.commands) walk(sub, [...names, sub.name()]);
  };
  walk(program, []);
  return found;
}

describe('every option and argument with choices', () => {
  const cwd = tempDir('cas-bdt-choices-');
  const found = everyChoice();

  it('are found in the command tree (the walk itself works)', () => {
    const names = found.map(([name]) => name);
    for (const n of [
      'submissions --outcome',
      'cas list --status',
      'sponsor status <status>',
      'cas decide <decision>',
      'cas-bdt --holidays',
    ])
      expect(names).toContain(n);
    expect(names.length).toBeGreaterThanOrEqual(14);
  });

  it.each(found)('%s refuses a value outside them (exit 2, with the usage)', async (_name, args) => {
    const r = await runCli(args, { cwd });
    expect(r.code, r.stderr).toBe(2);
    // commander's own report of the value, naming the option or argument.
    expect(r.stderr).toMatch(/^error: (option '--[a-z-]+ <[a-z-]+>' argument 'foo'|command-argument value 'foo') is invalid/);
    expect(r.stderr).toMatch(/Usage: cas-bdt .*\nRun 'cas-bdt .*--help' for every option\.\n$/);
    expect(r.stdout).toBe('');
    expect(existsSync(path.join(cwd, '.cas-bdt'))).toBe(false);
  });
});
