/** The command line: global options, one module per command group, exit codes of cli.md. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, resolveConfig, SETTINGS, type ConfigFlags } from '../config.ts';
import { StoreBusyError } from '../db/lock.ts';
import { DataDirError } from '../db/data-dir.ts';
import { escapeControls } from '../escape.ts';
import { describeError } from '../errors.ts';
import { registerCasCommands } from './commands/cas.ts';
import { registerDbCommands } from './commands/db.ts';
import { registerLifecycleCommands } from './commands/lifecycle.ts';
import { registerProcessCommands } from './commands/process.ts';
import { registerSponsorCommands } from './commands/sponsor.ts';
import { registerWatchCommand } from './commands/watch.ts';
import { CliError, Context, processIo, type Io } from './context.ts';
import { checkedBy } from './parse.ts';
import { storeHelp } from './store-info.ts';

/** Runs one command's action with a Context, closing the store afterwards. */
export type Runner = (action: (ctx: Context, opts: Record<string, unknown>, ...args: string[]) => Promise<number | void>) => (...args: unknown[]) => Promise<void>;

const GLOBAL_FLAGS: (keyof ConfigFlags)[] = ['db', 'data', 'root', 'config', 'fee', 'validityMonths', 'settleMs', 'scanIntervalMs', 'maxFileMb', 'concurrency', 'poll', 'validateTimeoutS'];

function globalFlags(all: Record<string, unknown>): ConfigFlags {
  const flags: ConfigFlags = {};
  for (const k of GLOBAL_FLAGS) if (all[k] !== undefined) (flags as Record<string, unknown>)[k] = all[k];
  return flags;
}

/** A setting's flag, checked by the same rule as its environment variable and config file key. */
const setting = (flags: string, description: string, parse: (value: unknown) => unknown) => new Option(flags, description).argParser(checkedBy(parse));

/** The package's version (package.json is two levels up from src/cli and from dist/cli alike). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Exit codes and signals (cli.md), at the end of every `--help`. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failure that is not the input's fault (database down, disk full, bug)
  2  usage error (unknown command or option, bad argument)
  3  refused: a file REJECTED, a CAS operation not allowed in its status, allocation too small
  4  not found: unknown sponsor, CAS number, batch or submission
With --json, an error also prints {"error":{"code","message"}} on stdout.`;

export const SIGNALS_HELP = `
Signals (watch):
  SIGTERM, SIGINT  stop taking files, finish the ones in progress, exit 0 (a second one: exit 130 at once)
  SIGHUP           list every inbox now; never stops the service`;

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('cas-bdt')
    .description('Bulk Data Transfer of CAS: validate BDT files, create and assign CAS, write result XML.')
    .version(version(), '-V, --version', 'print the version and exit')
    .addOption(new Option('--db <url>', 'PostgreSQL server URL (env DATABASE_URL); without it the embedded store is used').argParser(checkedBy(SETTINGS.db)))
    .option('--data <dir>', 'embedded store location (env CAS_BDT_DATA)', undefined)
    .option('--root <dir>', 'the sponsor folder tree (env CAS_BDT_ROOT)')
    .option('--config <file>', 'settings as JSON (env CAS_BDT_CONFIG; default ./cas-bdt.config.json if present)')
    .addOption(setting('--fee <gbp>', 'fee per assigned CAS in GBP, 0.00 to 10000.00 (default 25.00)', SETTINGS.fee))
    .addOption(setting('--validity-months <n>', 'months an assigned CAS stays valid, 1 to 60 (default 6)', SETTINGS.validityMonths))
    .addOption(setting('--settle-ms <ms>', 'how long an inbox file must be unchanged before it is taken, 0 to 3600000 (default 2000)', SETTINGS.settleMs))
    .addOption(setting('--scan-interval-ms <ms>', 'period of the full inbox listing, 500 to 86400000 (default 30000)', SETTINGS.scanIntervalMs))
    .addOption(setting('--max-file-mb <mb>', 'largest accepted file, above 0 and at most 2048 (default 200)', SETTINGS.maxFileMb))
    .addOption(setting('--concurrency <n>', 'files processed at once by watch, 1 to 64 (default 2)', SETTINGS.concurrency))
    .addOption(new Option('--poll', 'make the watcher poll the inboxes'))
    .addOption(setting('--validate-timeout-s <s>', 'longest XSD validation of one file before it is refused with E_LIMIT, 1 to 3600 (default 60)', SETTINGS.validateTimeoutS))
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
    });

  const run: Runner = (action) =>
    async function (this: Command, ...args: unknown[]) {
      const cmd = this;
      const ctx = new Context(io, globalFlags(cmd.optsWithGlobals()));
      // As text, whatever an argument's parser returned (it has checked the value already).
      const positional = args
        .slice(0, cmd.registeredArguments.length)
        .map((a) => (Array.isArray(a) ? a.join('\u0000') : a === undefined ? undefined : String(a))) as string[];
      try {
        const code = await action(ctx, cmd.opts() as Record<string, unknown>, ...positional);
        setExit(code ?? 0);
      } finally {
        await ctx.close();
      }
    };

  registerSponsorCommands(program, run);
  registerProcessCommands(program, run);
  registerCasCommands(program, run);
  registerLifecycleCommands(program, run);
  registerWatchCommand(program, run);
  registerDbCommands(program, run);
  for (const cmd of program.commands) applyOutput(cmd, io);
  program.addHelpText('after', `${EXIT_CODES_HELP}\n${SIGNALS_HELP}`);
  // Defaults are relative to the current directory: `watch --help` says which store and tree it would use.
  program.commands
    .find((c) => c.name() === 'watch')
    ?.addHelpText('after', () => {
      try {
        return storeHelp(resolveConfig(globalFlags(program.opts()), io.env, io.cwd), io.cwd);
      } catch (err) {
        return `\nIn use here: the settings do not resolve: ${escapeControls((err as Error).message)}`;
      }
    });
  return program;
}

function applyOutput(cmd: Command, io: Io): void {
  cmd.exitOverride().showHelpAfterError().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  for (const sub of cmd.commands) applyOutput(sub, io);
}

/**
 * Results, exports and sponsor folders hold personal data: what cas-bdt creates is never
 * readable by other local users (files 0640, folders 0750 at most; sponsor folders may be
 * given to a sponsor's group for SFTP). A stricter umask of the caller is kept.
 */
export function restrictUmask(): void {
  const previous = process.umask(0o027);
  if ((previous | 0o027) !== 0o027) process.umask(previous | 0o027);
}

/** Machine-readable error codes by exit code (cli.md), for `{"error":{"code","message"}}`. */
const ERROR_CODES: Record<number, string> = { 1: 'FAILED', 2: 'USAGE', 3: 'REFUSED', 4: 'NOT_FOUND' };

/** Whether the command line asks for JSON (before any `--`, which ends the options). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** Runs the CLI; returns the exit code instead of exiting, so tests need no subprocess. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  restrictUmask();
  let exitCode = 0;
  const program = buildProgram(io, (c) => (exitCode = c));
  const json = wantsJson(argv);
  // With --json an error is a JSON document on stdout too (people still read stderr).
  const fail = (code: number, message: string, text = `cas-bdt: ${message}\n`): number => {
    if (text) io.stderr(text);
    if (json) io.stdout(`${JSON.stringify({ error: { code: ERROR_CODES[code] ?? 'FAILED', message } }, null, 2)}\n`);
    return code;
  };
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return 2;
    }
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not errors; everything else commander raises is a usage error
      // (commander has printed it with the usage already).
      return err.exitCode === 0 ? 0 : fail(2, err.message.replace(/^error: /, ''), '');
    }
    // Messages can quote file names: escaped like every line for people.
    if (err instanceof CliError) return fail(err.exitCode, escapeControls(err.message));
    if (err instanceof ConfigError) return fail(2, escapeControls(err.message));
    if (err instanceof StoreBusyError || err instanceof DataDirError) return fail(1, escapeControls(err.message));
    // Database errors quote SQL parameters (names, passport numbers): say only what is safe.
    const safe = describeError(err);
    const code = fail(1, `${safe.code ? `${safe.code}: ` : ''}${escapeControls(safe.message)}`);
    const frames = (err as Error).stack?.split('\n').filter((l) => /^\s+at /.test(l));
    if (io.env.CAS_BDT_DEBUG && frames) io.stderr(`${frames.join('\n')}\n`);
    return code;
  }
}
