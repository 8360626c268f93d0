/** What every command gets: resolved config, the store (opened on first use), output streams. */
import { existsSync } from 'node:fs';
import type { CommandUnknownOpts, OptionValues } from '@commander-js/extra-typings';
import type { Config } from './config.ts';
import type { Outcome } from '../domain/outcome.ts';
import { CasBdtError, coerceError } from '../errors.ts';
import { escapeControls } from '../escape.ts';
import { realSponsorDir } from '../inbox/fd-path.ts';
import { checkSponsorFolders } from '../inbox/folder-health.ts';
import type { Db, Store } from '../ops/store.ts';
import { streamWriter } from '../output.ts';
import { pgliteDir } from '../ops/where.ts';
import { createdMessage, noStoreMessage } from './store-info.ts';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether stderr is a terminal (progress bars only then). */
  stderrIsTTY: boolean;
  /** Whether stdout is a terminal (listings are paged only then). */
  stdoutIsTTY?: boolean;
  /** Asks a yes/no question of a person at a terminal; absent when there is none (then `--yes` is needed). */
  confirm?: ((question: string) => Promise<boolean>) | undefined;
}

/** Asks on stderr, reads one line from stdin: only "y" or "yes" goes on. */
async function askOnTerminal(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export const processIo = (): Io => ({
  stdout: streamWriter(process.stdout),
  stderr: streamWriter(process.stderr),
  env: process.env,
  cwd: process.cwd(),
  stderrIsTTY: Boolean(process.stderr.isTTY),
  stdoutIsTTY: Boolean(process.stdout.isTTY),
  confirm: process.stdin.isTTY && process.stderr.isTTY ? askOnTerminal : undefined,
});

/**
 * A command's action: its options and its positional arguments (a variadic one as an
 * array) as the command declares them, typed by their flags, parsers and choices.
 */
export type Action<Args extends unknown[], Opts> = (ctx: Context, opts: Opts, ...args: Args) => Promise<number | void>;
/**
 * Makes an action into commander's: a Context for it, whose store is closed afterwards;
 * the number it returns is the exit code. `.action(run(async (ctx, opts, ...args) => ...))`
 * types `opts` and `args` from the command's declarations.
 */
export type Runner = <Args extends unknown[], Opts extends OptionValues>(
  action: Action<Args, Opts>,
) => (...args: [...Args, Opts, CommandUnknownOpts]) => Promise<void>;

// Expected failures; their exit codes are in errors.ts (cli.md).
export const notFound = (what: string) => new CasBdtError('not-found', `${what} not found`);
export const usage = (message: string) => new CasBdtError('usage', message);
export const refusedError = (message: string) => new CasBdtError('refused', message);
export const failed = (message: string) => new CasBdtError('failed', message);

/**
 * The real path of a sponsor's outbox, refusing (exit 1) when its folders are links or
 * lead outside the root: results and exports never go through such a folder.
 */
export async function usableOutbox(rootDir: string, licence: string): Promise<string | undefined> {
  const health = await checkSponsorFolders(rootDir, licence);
  if (!health.ok && health.unsafe) throw failed(`the folders of ${licence} are not usable: ${health.reasons.join('; ')}`);
  return realSponsorDir(rootDir, licence, 'outbox').catch(() => undefined);
}

/** The sponsor, or not found (exit 4). */
export async function requireSponsor(ctx: Context, licence: string) {
  const { db } = await ctx.store();
  const { getSponsor } = await import('../ops/queries.ts');
  const s = await getSponsor(db, licence);
  if (!s) throw notFound(`sponsor ${licence}`);
  return s;
}

/** Which CAS a command names: its number as the argument, or `--id`, never both; and how to say it is missing. */
export function casRef(
  numberArg: string | undefined,
  id: number | undefined,
): { by: { id: number } | { casNumber: string }; missing: string } {
  if ((numberArg === undefined) === (id === undefined)) throw usage('give either a CAS number or --id ID');
  return id !== undefined ? { by: { id }, missing: `CAS id ${id}` } : { by: { casNumber: numberArg! }, missing: `CAS ${numberArg}` };
}

/**
 * After a command that assigned CAS (`process` into the outbox, `assign`): the sponsor's
 * statements owed (`sponsor set --statements`) are written now rather than at the next
 * `watch`. A failure leaves them owed, which `watch` writes; the command's work stands.
 */
export async function writeOwedStatementsOf(ctx: Context, db: Db, licence: string): Promise<void> {
  try {
    // Loaded only when a statement is owed: pdfkit stays out of --help, the other commands and
    // a `process` that owes none (loading it costs a fifth of a second).
    const { pendingStatementsBatch } = await import('../ops/queries.ts');
    if ((await pendingStatementsBatch(db, 1, licence)).length === 0) return;
    const { writeOwedStatements } = await import('../ops/statements.ts');
    const n = await writeOwedStatements(db, ctx.config.rootDir, { licence });
    if (n) ctx.err(`Wrote ${n} CAS statement${n === 1 ? '' : 's'} to the outbox of ${licence}.`);
  } catch (err) {
    ctx.err(`CAS statements of ${licence} not written now (${coerceError(err).message}); \`cas-bdt watch\` writes them.`);
  }
}

/** What an operator action did, or the error its refusal or unknown reference exits with. */
export function settled<T>(o: Outcome<T>, what: string): T {
  if (o.kind === 'not-found') throw notFound(o.what ?? what);
  if (o.kind === 'refused') throw refusedError(o.message);
  return o;
}

export class Context {
  private storePromise: Promise<Store> | undefined;
  private cachedConfig: Config | undefined;

  constructor(
    readonly io: Io,
    private readonly resolveConfig: () => Config,
  ) {}

  /** Resolved on first use, so that a command that needs no setting never reads the config file. */
  get config(): Config {
    this.cachedConfig ??= this.resolveConfig();
    return this.cachedConfig;
  }

  /**
   * The store. Only the commands that set one up (`sponsor add`, `db migrate`; `watch` and
   * `demo` open theirs themselves) pass `create`: any other command refuses a data directory
   * that holds no embedded store, since a mistyped `--data` or another current directory
   * would otherwise get a new, empty store (and "No sponsors yet") after seconds of set-up.
   */
  store(opts: { create?: boolean; ownThread?: boolean } = {}): Promise<Store> {
    if (!this.storePromise && !opts.create && !this.config.databaseUrl && !existsSync(pgliteDir(this.config.dataDir))) {
      return Promise.reject(usage(noStoreMessage(this.config.dataDir)));
    }
    // Loaded on first use: commands that need no store (--help) start without the drivers.
    this.storePromise ??= import('../ops/store.ts')
      .then(({ openStore }) =>
        openStore({
          databaseUrl: this.config.databaseUrl,
          databasePassword: this.config.databasePassword,
          dataDir: this.config.dataDir,
          ownThread: opts.ownThread === true,
        }),
      )
      .then((store) => {
        if (store.created) this.io.stderr(`${escapeControls(createdMessage(this.config.dataDir))}\n`);
        return store;
      });
    return this.storePromise;
  }

  async close(): Promise<void> {
    if (!this.storePromise) return;
    const s = await this.storePromise.catch(() => undefined);
    this.storePromise = undefined;
    await s?.close();
  }

  /** Text for people: every line escaped (file names, names and titles from files reach here). */
  out(text: string): void {
    this.io.stdout(`${escapeLines(text.endsWith('\n') ? text.slice(0, -1) : text)}\n`);
  }

  json(value: unknown): void {
    this.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
  }

  err(text: string): void {
    this.io.stderr(`${escapeLines(text.endsWith('\n') ? text.slice(0, -1) : text)}\n`);
  }
}

const escapeLines = (text: string) => text.split('\n').map(escapeControls).join('\n');

/** Plain text table for people; cells are escaped before the columns are measured. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : escapeControls(String(c)))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (c ?? '').padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
