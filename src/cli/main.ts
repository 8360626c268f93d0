/** The command line: global options, the commands (commands.ts, one module each), exit codes of cli.md. */
import { readFileSync } from 'node:fs';
import {
  Command,
  CommanderError,
  Help,
  type Argument,
  type CommandUnknownOpts,
  type Option,
  type OptionValues,
} from '@commander-js/extra-typings';
import { applyEnvironmentAndFile, commandLineSecretWarning, configFrom, settingOptions, type SettingValues } from './config.ts';
import { escapeControls } from '../escape.ts';
import { CasBdtError, coerceError, describeError, exitCodeOf } from '../errors.ts';
import { registerCommands } from './commands.ts';
import { Context, processIo, type Action, type Io, type Runner } from './context.ts';
import { EXIT_CODES_HELP, SIGNALS_HELP } from './help.ts';
import { storeHelp } from './store-info.ts';
import { usageHint } from './usage.ts';

/**
 * Commander checks required options before unknown ones, so `cas list --sponser X` was
 * told that `--sponsor` is missing. A command without subcommands here names the unknown
 * option first, with commander's suggestion (`--help` still wins, as in commander).
 */
class CasBdtCommand extends Command {
  override createCommand(name?: string): Command {
    return new CasBdtCommand(name);
  }

  override createHelp(): Help {
    return Object.assign(new CasBdtHelp(), this.configureHelp());
  }

  override parseOptions(argv: string[]): ReturnType<Command['parseOptions']> {
    const parsed = super.parseOptions(argv);
    const flag = parsed.unknown[0];
    const end = argv.indexOf('--');
    const asksHelp = (end === -1 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
    if (this.commands.length === 0 && flag?.startsWith('-') && !asksHelp) {
      // commander's own report of an unknown option, with its "Did you mean" suggestion.
      (this as unknown as { unknownOption(flag: string): never }).unknownOption(flag);
    }
    return parsed;
  }
}

/**
 * commander's help, but an option or argument whose description already names each of its
 * choices (`student|child`) is not followed by them again.
 */
class CasBdtHelp extends Help {
  override optionDescription(option: Option): string {
    return super.optionDescription(choicesUnsaid(option));
  }

  override argumentDescription(argument: Argument): string {
    return super.argumentDescription(choicesUnsaid(argument));
  }
}

function choicesUnsaid<T extends Option | Argument>(item: T): T {
  const said = item.argChoices?.every((c) => item.description.includes(c));
  return said ? Object.assign(Object.create(Object.getPrototypeOf(item) as object) as T, item, { argChoices: undefined }) : item;
}

/** The package's version (package.json is two levels up from src/cli and from dist/cli alike). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/**
 * The program; `onAction` hears which command is running, so that a usage error its action
 * raises is followed by that command's usage line.
 */
export function buildProgram(
  io: Io,
  setExit: (code: number) => void,
  onAction: (cmd: CommandUnknownOpts) => void = () => {},
): CommandUnknownOpts {
  const program = new CasBdtCommand('cas-bdt')
    .description('Bulk Data Transfer of CAS: validate BDT files, create and assign CAS, write result XML.')
    .version(version(), '-V, --version', 'print the version and exit')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
    });
  for (const option of settingOptions()) program.addOption(option);

  const run: Runner =
    <Args extends unknown[], Opts extends OptionValues>(action: Action<Args, Opts>) =>
    async (...args: [...Args, Opts, CommandUnknownOpts]) => {
      // commander calls an action with the arguments as their parsers returned them (a
      // variadic one as an array), then the options and the command.
      const cmd = args[args.length - 1] as CommandUnknownOpts;
      onAction(cmd);
      const ctx = new Context(io, () => resolved(program, io));
      try {
        const code = await action(ctx, args[args.length - 2] as Opts, ...(args.slice(0, -2) as Args));
        setExit(code ?? 0);
      } finally {
        await ctx.close();
      }
    };

  registerCommands(program, run);
  applyOutput(program, io);
  program.addHelpText('after', `${EXIT_CODES_HELP}\n${SIGNALS_HELP}`);
  // Defaults are relative to the current directory: `watch --help` says which store and tree it would use.
  program.commands
    .find((c) => c.name() === 'watch')
    ?.addHelpText('after', () => {
      try {
        return storeHelp(resolved(program, io), io.cwd);
      } catch (err) {
        return `\nIn use here: the settings do not resolve: ${escapeControls(coerceError(err).message)}`;
      }
    });
  return program;
}

const warned = new WeakSet<Command>();

/** The settings: flags, then the environment and the config file, then the defaults. */
function resolved(program: Command, io: Io) {
  const warning = commandLineSecretWarning(program);
  if (warning && !warned.has(program)) {
    warned.add(program);
    io.stderr(`cas-bdt: ${warning}\n`);
  }
  applyEnvironmentAndFile(program, io.env, io.cwd);
  return configFrom(program.opts() as SettingValues, io.cwd, io.env, (name) => program.getOptionValueSource(name));
}

/** Called once every command has its options, so that each usage line is complete. */
function applyOutput(cmd: CommandUnknownOpts, io: Io): void {
  cmd
    .exitOverride()
    .showHelpAfterError(usageHint(cmd))
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
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
  let running: CommandUnknownOpts | undefined;
  const program = buildProgram(
    io,
    (c) => (exitCode = c),
    (cmd) => (running = cmd),
  );
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
    if (err instanceof CasBdtError) {
      const message = escapeControls(err.message);
      // A usage error found by the command itself is told like commander's: with the usage line.
      const hint = err.code === 'usage' && running ? `${usageHint(running)}\n` : '';
      return fail(exitCodeOf(err), err.code, message, `cas-bdt: ${message}\n${hint}`);
    }
    // Database errors quote SQL parameters (names, passport numbers): say only what is safe.
    const safe = describeError(err);
    const code = fail(1, safe.code ?? 'failed', `${safe.code ? `${safe.code}: ` : ''}${escapeControls(safe.message)}`);
    const frames = coerceError(err)
      .stack?.split('\n')
      .filter((l) => /^\s+at /.test(l));
    if (io.env.CAS_BDT_DEBUG && frames) io.stderr(`${frames.join('\n')}\n`);
    return code;
  }
}
