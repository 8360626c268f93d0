#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node
// The first line pins glibc's mmap threshold (at its default, 128 KiB). Left to itself glibc
// raises it to the size of each large buffer freed, and from then on serves such buffers from
// its heaps, which stay resident: a 50,000-record file on the embedded store peaked at about
// 460 MB, and at about 375 MB with the threshold fixed, no slower.
// Runs the JavaScript compiled at install (`npm ci` runs `prepare`, which builds dist/).
// Without it, or when a source file is newer than the build (a developer's edit), the
// TypeScript sources run through tsx's loader instead, so what runs is never stale.
import { existsSync, readdirSync, statSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const sources = new URL('../src/', import.meta.url);

function buildIsCurrent() {
  if (!existsSync(compiled)) return false;
  const built = statSync(compiled).mtimeMs;
  if (!existsSync(sources)) return true;
  return readdirSync(sources, { recursive: true }).every((f) => statSync(new URL(f, sources)).mtimeMs <= built);
}

let main;
if (buildIsCurrent()) {
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
