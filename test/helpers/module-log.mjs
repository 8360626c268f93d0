// Preloaded with --import: registers module-log-hook.mjs, and notes the malloc settings the
// process started with (`env MALLOC_...=...` lines) in the same log.
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import process from 'node:process';

const file = process.env.CAS_BDT_TEST_MODULE_LOG;
if (file) {
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('MALLOC_')) appendFileSync(file, `env ${k}=${v}\n`);
}
register('./module-log-hook.mjs', import.meta.url);
