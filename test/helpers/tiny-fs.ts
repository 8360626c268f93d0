/**
 * A real full disk for tests: a tmpfs of a few KiB. Mounting needs privileges, so
 * `canMountTinyFs` tells whether this process may (tests that need one are skipped otherwise).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tempDir } from './stores.ts';

/** A tmpfs of `kb` KiB, or undefined when this process may not mount one. */
export function mountTinyFs(kb: number): string | undefined {
  const dir = tempDir('cas-bdt-full-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k,mode=0755`, 'tmpfs', dir]);
  if (r.status === 0) return dir;
  rmSync(dir, { recursive: true, force: true });
  return undefined;
}

export function unmountTinyFs(dir: string): void {
  spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
}

export const canMountTinyFs = (() => {
  const probe = mountTinyFs(64);
  if (probe) unmountTinyFs(probe);
  return probe !== undefined;
})();
