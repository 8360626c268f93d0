#!/usr/bin/env node
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
