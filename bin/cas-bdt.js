#!/usr/bin/env node
// Runs the JavaScript compiled at install (`npm ci` runs `prepare`, which builds dist/);
// without it, the TypeScript sources through tsx's loader.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
let main;
if (existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
