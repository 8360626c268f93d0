/** Runs the CLI in-process (no subprocess) and captures what it prints. */
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { openTestStore, tempDir, type StoreKind, type TestStore } from './stores.ts';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json<T = unknown>(): T;
}

export async function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
    stderrIsTTY: false,
  });
  return {
    code,
    stdout,
    stderr,
    json<T>() {
      return JSON.parse(stdout) as T;
    },
  };
}

/**
 * The CLI on one test store (opened before the file's tests, released on PGlite so the CLI
 * can open it, removed after), in a temporary working folder whose `bdt` is the root.
 */
export function cliOnStore(kind: StoreKind, prefix: string) {
  const on = {
    t: undefined as unknown as TestStore,
    cwd: '',
    root: '',
    cli: (...args: string[]) => runCli([...on.t.cliArgs, '--root', on.root, ...args], { cwd: on.cwd }),
  };
  beforeAll(async () => {
    on.t = await openTestStore(kind);
    if (kind === 'pglite') await on.t.store.close();
    on.cwd = tempDir(prefix);
    on.root = path.join(on.cwd, 'bdt');
  });
  afterAll(async () => {
    await on.t?.cleanup();
  });
  return on;
}
