/** Whether dist/ is current: the launcher in bin/ runs it only when it is newer than every source file. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../..');

/** Is dist/ newer than every source file (as the launcher in bin/ judges it)? */
export function builtAfterSources(): boolean {
  const main = path.join(REPO, 'dist/cli/main.js');
  if (!existsSync(main)) return false;
  const built = statSync(main).mtimeMs;
  const src = path.join(REPO, 'src');
  return readdirSync(src, { recursive: true }).every((f) => statSync(path.join(src, String(f))).mtimeMs <= built);
}
