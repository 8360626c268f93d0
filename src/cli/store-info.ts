/**
 * Which store and folder tree a command uses, said without opening anything: the defaults
 * are relative to the current directory, so a command run elsewhere would otherwise use
 * (and create) another, empty store without a word.
 */
import { existsSync } from 'node:fs';
import type { Config } from './config.ts';
import { pgliteDir, redactUrl } from '../ops/where.ts';

function storeInUse(config: Config): string {
  if (config.databaseUrl) return `PostgreSQL ${redactUrl(config.databaseUrl)}`;
  return `embedded store at ${config.dataDir}${existsSync(pgliteDir(config.dataDir)) ? '' : ' (none there yet: sponsor add, db migrate or watch makes it)'}`;
}

/** The lines `watch --help` ends with. */
export function storeHelp(config: Config, cwd: string): string {
  return `\nIn use here (flags, environment, config file and defaults resolved in ${cwd}):\n  store:   ${storeInUse(config)}\n  folders: ${config.rootDir}`;
}

/** Said on stderr when a command created a new store. */
export const createdMessage = (dataDir: string) =>
  `cas-bdt: created a new, empty embedded store at ${dataDir} (--data DIR or CAS_BDT_DATA chooses another; the default is relative to the current directory)`;

/** Said when a command that does not set up a store finds none in the data directory. */
export const noStoreMessage = (dataDir: string) =>
  `no store at ${dataDir}: is --data (or CAS_BDT_DATA, or the config file's "data") right, and is this the directory the store was made in? ` +
  `The default ./.cas-bdt is relative to the current directory. A new store is made by 'cas-bdt sponsor add LICENCE --name NAME' ` +
  `(the first sponsor), 'cas-bdt db migrate' or 'cas-bdt watch', with the same --data`;
