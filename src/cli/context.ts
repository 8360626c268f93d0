/** What every command gets: resolved config, the store (opened on first use), output streams. */
import { existsSync } from 'node:fs';
import type { Config } from './config.ts';
import type { Outcome } from '../domain/outcome.ts';
import { CasBdtError } from '../errors.ts';
import { escapeControls } from '../escape.ts';
import { realSponsorDir } from '../inbox/fd-path.ts';
import { checkSponsorFolders } from '../inbox/folder-health.ts';
import type { Store } from '../ops/store.ts';
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
  confirm?: (question: string) => Promise<boolean>;
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
  ...(process.stdin.isTTY && process.stderr.isTTY ? { confirm: askOnTerminal } : {}),
});

/** Runs one command's action with a Context, closing the store afterwards. */
export type Action<A extends unknown[]> = (ctx: Context, opts: Record<string, unknown>, ...args: A) => Promise<number | void>;
/** The positional arguments reach the action as their parsers returned them (a variadic one as an array). */
export type Runner = <A extends unknown[]>(action: Action<A>) => (...args: unknown[]) => Promise<void>;

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
  store(opts: { create?: boolean } = {}): Promise<Store> {
    if (!this.storePromise && !opts.create && !this.config.databaseUrl && !existsSync(pgliteDir(this.config.dataDir))) {
      return Promise.reject(usage(noStoreMessage(this.config.dataDir)));
    }
    // Loaded on first use: commands that need no store (--help) start without the drivers.
    this.storePromise ??= import('../ops/store.ts')
      .then(({ openStore }) =>
        openStore({ databaseUrl: this.config.databaseUrl, databasePassword: this.config.databasePassword, dataDir: this.config.dataDir }),
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
