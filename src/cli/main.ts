/** The command line: global options, one module per command group, exit codes of cli.md. */
import { Command, CommanderError, Option } from 'commander';
import { SETTINGS, type ConfigFlags } from '../config.ts';
import { escapeControls } from '../escape.ts';
import { CasBdtError, describeError, exitCodeOf } from '../errors.ts';
import { registerCasCommands } from './commands/cas.ts';
import { registerDbCommands } from './commands/db.ts';
import { registerLifecycleCommands } from './commands/lifecycle.ts';
import { registerProcessCommands } from './commands/process.ts';
import { registerSponsorCommands } from './commands/sponsor.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerValidateCommand } from './commands/validate.ts';
import { registerWatchCommand } from './commands/watch.ts';
import { Context, processIo, type Io, type Runner } from './context.ts';
import { checkedBy } from './parse.ts';

const GLOBAL_FLAGS: (keyof ConfigFlags)[] = ['db', 'data', 'root', 'config', 'fee', 'validityMonths', 'settleMs', 'scanIntervalMs', 'maxFileMb', 'concurrency', 'poll', 'validateTimeoutS'];

/** A setting's flag, checked by the same rule as its environment variable and config file key. */
const setting = (flags: string, description: string, parse: (value: unknown) => unknown) => new Option(flags, description).argParser(checkedBy(parse));

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('cas-bdt')
    .description('Bulk Data Transfer of CAS: validate BDT files, create and assign CAS, write result XML.')
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
      const all = this.optsWithGlobals() as Record<string, unknown>;
      const flags: ConfigFlags = {};
      for (const k of GLOBAL_FLAGS) if (all[k] !== undefined) (flags as Record<string, unknown>)[k] = all[k];
      const ctx = new Context(io, flags);
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
  registerValidateCommand(program, run);
  registerDemoCommand(program, run);
  const casCmd = registerCasCommands(program, run);
  registerLifecycleCommands(program, casCmd, run);
  registerWatchCommand(program, run);
  registerDbCommands(program, run);
  for (const cmd of program.commands) applyOutput(cmd, io);
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

/** Runs the CLI; returns the exit code instead of exiting, so tests need no subprocess. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  restrictUmask();
  let exitCode = 0;
  const program = buildProgram(io, (c) => (exitCode = c));
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return 2;
    }
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not errors; everything else commander raises is a usage error.
      return err.exitCode === 0 ? 0 : 2;
    }
    // Messages can quote file names: escaped like every line for people.
    if (err instanceof CasBdtError) {
      io.stderr(`cas-bdt: ${escapeControls(err.message)}\n`);
      return exitCodeOf(err);
    }
    // Database errors quote SQL parameters (names, passport numbers): say only what is safe.
    const safe = describeError(err);
    io.stderr(`cas-bdt: ${safe.code ? `${safe.code}: ` : ''}${escapeControls(safe.message)}\n`);
    const frames = (err as Error).stack?.split('\n').filter((l) => /^\s+at /.test(l));
    if (io.env.CAS_BDT_DEBUG && frames) io.stderr(`${frames.join('\n')}\n`);
    return 1;
  }
}
