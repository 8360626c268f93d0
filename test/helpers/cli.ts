/** Runs the CLI in-process (no subprocess) and captures what it prints. */
import path from 'node:path';
import { beforeAll } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { suiteDir, suiteStore } from './fixture.ts';
import type { StoreKind } from './stores.ts';

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
 * The CLI on the suite's own test store (released on PGlite so the CLI can open it), in a
 * temporary working folder whose `bdt` is the root; both removed after the suite.
 */
export function cliOnStore(kind: StoreKind, prefix: string) {
  const t = suiteStore(kind);
  const cwd = suiteDir(prefix);
  const root = path.join(cwd, 'bdt');
  beforeAll(async () => {
    if (kind === 'pglite') await t.store.close();
  });
  return { t, cwd, root, cli: (...args: string[]) => runCli([...t.cliArgs, '--root', root, ...args], { cwd }) };
}
