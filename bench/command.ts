/**
 * cas-bdt as its users run it: the launcher as a command, so that the settings on its first
 * line (`env -S VAR=value node`) apply, with the node of this bench first on the PATH. Given
 * node options (a profile), node runs the launcher and the first line's settings are set here.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { builtAfterSources } from '../test/helpers/build.ts';

export const BIN = path.resolve(import.meta.dirname, '../bin/cas-bdt.js');

/**
 * The launcher runs the TypeScript sources through tsx's loader when a source is newer
 * than dist/ (slower to start, more memory): a bench run on its own rather than through
 * `npm run bench` (which builds first) builds here, so that it measures what users run.
 */
function buildIfStale(): void {
  if (builtAfterSources()) return;
  console.error('dist/ is older than src/: building it first (npm run build)');
  const run = spawnSync('npm', ['run', '--silent', 'build'], { cwd: path.resolve(import.meta.dirname, '..'), stdio: 'inherit' });
  if (run.status !== 0) throw new Error('npm run build failed');
}
buildIfStale();

/** The VAR=value settings of the launcher's first line. */
function launcherSettings(): Record<string, string> {
  const first = readFileSync(BIN, 'utf8').split('\n', 1)[0] ?? '';
  return Object.fromEntries([...first.matchAll(/\s([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

export function casBdt(args: string[], nodeArgs: string[] = []): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  if (nodeArgs.length === 0) return { command: BIN, args, env };
  return { command: process.execPath, args: [...nodeArgs, BIN, ...args], env: { ...env, ...launcherSettings() } };
}
