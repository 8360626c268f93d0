/** Where the store is, for `--help` and start-up lines: light (no driver is loaded), so `--help` stays fast. */
export { pgliteDir, redactUrl } from '../db/store-paths.ts';
