/** What every command gets: resolved config, the store (opened on first use), output streams. */
import type { Store } from '../db/client.ts';
import { resolveConfig, type Config, type ConfigFlags } from '../config.ts';
import { escapeControls } from '../escape.ts';
import { streamWriter } from '../output.ts';
import { createdMessage } from './store-info.ts';

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

/** An expected failure with its exit code (cli.md): 2 usage, 3 refused, 4 not found, 1 other. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 3 | 4,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new CliError(`${what} not found`, 4);
export const usage = (message: string) => new CliError(message, 2);

export class Context {
  private storePromise: Promise<Store> | undefined;
  private cachedConfig: Config | undefined;

  constructor(
    readonly io: Io,
    private readonly flags: ConfigFlags,
  ) {}

  get config(): Config {
    this.cachedConfig ??= resolveConfig(this.flags, this.io.env, this.io.cwd);
    return this.cachedConfig;
  }

  store(): Promise<Store> {
    // Loaded on first use: commands that need no store (--help) start without the drivers.
    this.storePromise ??= import('../db/client.ts')
      .then(({ openStore }) => openStore({ databaseUrl: this.config.databaseUrl, dataDir: this.config.dataDir }))
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
  return cells.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
