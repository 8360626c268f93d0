/** The command line: global options, one module per command group, exit codes of cli.md. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { resolveConfig, SETTINGS, type ConfigFlags } from '../config.ts';
import { escapeControls } from '../escape.ts';
import { CasBdtError, describeError, exitCodeOf } from '../errors.ts';
import { registerCasCommands } from './commands/cas.ts';
import { registerDbCommands } from './commands/db.ts';
import { registerLifecycleCommands } from './commands/lifecycle.ts';
import { registerProcessCommands } from './commands/process.ts';
import { registerSponsorCommands } from './commands/sponsor.ts';
import { registerWatchCommand } from './commands/watch.ts';
import { Context, processIo, type Io, type Runner } from './context.ts';
import { checkedBy } from './parse.ts';
import { EXIT_CODES_HELP, SIGNALS_HELP } from './help.ts';
import { storeHelp } from './store-info.ts';

const GLOBAL_FLAGS: (keyof ConfigFlags)[] = ['db', 'data', 'root', 'config', 'fee', 'validityMonths', 'settleMs', 'scanIntervalMs', 'maxFileMb', 'concurrency', 'poll', 'validateTimeoutS'];

function globalFlags(all: Record<string, unknown>): ConfigFlags {
  const flags: ConfigFlags = {};
  for (const k of GLOBAL_FLAGS) if (all[k] !== undefined) (flags as Record<string, unknown>)[k] = all[k];
  return flags;
}

/** The package's version (package.json is two levels up from src/cli and from dist/cli alike). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** A setting's flag, checked by the same rule as its environment variable and config file key. */
const setting = (flags: string, description: string, parse: (value: unknown) => unknown) => new Option(flags, description).argParser(checkedBy(parse));

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
      // commander calls an action with its command as `this`.
      const ctx = new Context(io, globalFlags(this.optsWithGlobals()));
      // As text, whatever an argument's parser returned (it has checked the value already).
      const positional = args
        .slice(0, this.registeredArguments.length)
        .map((a) => (Array.isArray(a) ? a.join('\u0000') : a === undefined ? undefined : String(a))) as string[];
      try {
        const code = await action(ctx, this.opts() as Record<string, unknown>, ...positional);
        setExit(code ?? 0);
      } finally {
        await ctx.close();
      }
    };

  registerSponsorCommands(program, run);
  registerProcessCommands(program, run);
  const casCmd = registerCasCommands(program, run);
  registerLifecycleCommands(program, casCmd, run);
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
  const fail = (exit: number, code: string, message: string, text = `cas-bdt: ${message}\n`): number => {
    if (text) io.stderr(text);
    if (json) io.stdout(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
    return exit;
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
      return err.exitCode === 0 ? 0 : fail(2, 'usage', err.message.replace(/^error: /, ''), '');
    }
    // Messages can quote file names: escaped like every line for people.
    if (err instanceof CasBdtError) return fail(exitCodeOf(err), err.code, escapeControls(err.message));
    // Database errors quote SQL parameters (names, passport numbers): say only what is safe.
    const safe = describeError(err);
    const code = fail(1, safe.code ?? 'failed', `${safe.code ? `${safe.code}: ` : ''}${escapeControls(safe.message)}`);
    const frames = (err as Error).stack?.split('\n').filter((l) => /^\s+at /.test(l));
    if (io.env.CAS_BDT_DEBUG && frames) io.stderr(`${frames.join('\n')}\n`);
    return code;
  }
}
