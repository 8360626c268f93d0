/**
 * The only reader of the environment. Settings are resolved once, flag > environment >
 * config file > default, into a frozen object whose names carry their units. Each setting
 * is one commander Option (below, the one list of them); commander parses and checks a
 * flag's value, and the environment's and the config file's values are given to it as
 * values from those sources, checked by the same parser, so commander keeps whichever
 * source ranks first. (`Option.env()` would read process.env itself; the CLI is given its
 * environment, so that tests run in process with their own.)
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { wholeNumberIn } from '../domain/numbers.ts';
import { isNation, NATIONS, type Nation } from '../domain/working-days.ts';
import { CasBdtError, coerceError } from '../errors.ts';
import { DEFAULT_HTTP, parseHttpAddress, type HttpAddress } from '../http/address.ts';
import { checkToken } from '../http/token.ts';
import { gbpPence } from './parse.ts';

export interface Config {
  /** PostgreSQL URL; undefined means the embedded store. */
  databaseUrl: string | undefined;
  /**
   * The database password when the URL holds none: `PGPASSWORD`, else the matching line of
   * the password file (`--db-passfile`, `PGPASSFILE`, else `~/.pgpass`). Never printed.
   */
  databasePassword: string | undefined;
  /** Embedded store directory (default ./.cas-bdt). */
  dataDir: string;
  /** Sponsor folder tree (default ./bdt). */
  rootDir: string;
  /** Fee per assigned CAS in pence (default 2500 = 25.00 GBP). */
  feePence: number;
  /** Validity of an assigned CAS in months (default 6). */
  validityMonths: number;
  /** How long a file's size and mtime must be stable before it is taken (default 2000 ms). */
  settleMs: number;
  /** Period of the full inbox listing (default 30000 ms). */
  scanIntervalMs: number;
  /** Largest accepted file (default 200 MiB). */
  maxFileBytes: number;
  /** Files processed at once by the service (default 2). */
  concurrency: number;
  /** Most small files of one sponsor the service stores together, in one transaction (default 64; 1: each alone). */
  groupFiles: number;
  /** Make the watcher poll instead of using fs events. */
  poll: boolean;
  /** Longest XSD validation of one file before it is stopped with E_LIMIT (default 60000 ms). */
  validateTimeoutMs: number;
  /** Below this much free space (sponsor tree, embedded store) no new file is taken (default 512 MiB; 0 = never pause). */
  minFreeBytes: number;
  /** Files in archive/, rejected/ and outbox/ placed there longer ago than this are removed by the hourly sweep (0 = kept forever). */
  retainDays: number;
  /** Period of the export deliveries of `watch` (at least 300000 ms); undefined: off (the default). */
  exportEveryMs: number | undefined;
  /** Where `watch` serves the console, /healthz and /metrics (default 127.0.0.1:8470), or off. */
  http: HttpAddress;
  /** Names besides the bound address and localhost that a request's `Host` may carry. */
  httpHosts: readonly string[];
  /** The console token's file (default `<dataDir>/console-token`), created by `watch`. */
  httpTokenFile: string;
  /** A console token given as a setting instead of the file (at least 32 bytes). */
  httpToken: string | undefined;
  /** Secret settings given as flags, which every local user sees in `ps` (`--http-token`). */
  secretsOnCommandLine: readonly string[];
  /** Whose bank holidays a report's due date skips (default england-and-wales). */
  holidays: Nation;
}

function wholeNumber(name: string, value: unknown, min: number, max: number): number {
  const n = wholeNumberIn(String(value), min, max);
  if (n === undefined) throw new CasBdtError('usage', `${name} must be a whole number from ${min} to ${max}, got "${String(value)}"`);
  return n;
}

function maxFileMb(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || n <= 0 || n > 2048)
    throw new CasBdtError('usage', `max-file-mb must be a number above 0 and at most 2048, got "${String(value)}"`);
  return n;
}

/** Largest fee per CAS: 10000.00 GBP, far above any real fee, far below what overflows. */
const MAX_FEE_PENCE = 1_000_000;

function parseFee(value: unknown): number {
  const s = String(value).trim();
  const pence = gbpPence(s);
  if (pence === undefined) throw new CasBdtError('usage', `fee must be an amount in GBP like 25.00, got "${s}"`);
  if (pence > MAX_FEE_PENCE) throw new CasBdtError('usage', `fee must be at most 10000.00, got "${s}"`);
  return pence;
}

/** A PostgreSQL URL, checked before any connection is tried (the URL may hold a password: never echoed). */
function parseDatabaseUrl(value: unknown): string {
  const s = String(value).trim();
  let url: URL | undefined;
  try {
    url = new URL(s);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
    throw new CasBdtError('usage', 'db must be a PostgreSQL URL such as postgres://user@host:5432/database');
  }
  const mode = url.searchParams.get('sslmode');
  const rootcert = url.searchParams.get('sslrootcert');
  if (mode !== null && !['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'].includes(mode))
    throw new CasBdtError('usage', `db: sslmode must be disable, allow, prefer, require, verify-ca or verify-full, got "${mode}"`);
  if (rootcert && rootcert !== 'system' && !['require', 'verify-ca', 'verify-full'].includes(mode ?? ''))
    throw new CasBdtError('usage', 'db: sslrootcert (a CA file) needs sslmode=verify-full (or verify-ca)');
  return s;
}

function parseNation(value: unknown): Nation {
  const s = String(value).trim().toLowerCase();
  if (!isNation(s)) throw new CasBdtError('usage', `holidays must be ${NATIONS.join(', ')}; got "${String(value)}"`);
  return s;
}

function parseBool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const s = String(value).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  throw new CasBdtError('usage', `expected true or false, got "${String(value)}"`);
}

/** The shortest period of export deliveries: 5 minutes. */
const MIN_EXPORT_EVERY_MS = 5 * 60_000;
const MAX_EXPORT_EVERY_MS = 366 * 86_400_000;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as `12h`, `30m`, `1d` or `90m`, at least 5 minutes; `off` (or 0) for none. */
function parseExportEvery(value: unknown): number | null {
  const s = String(value).trim().toLowerCase();
  if (s === 'off' || s === '0') return null;
  const m = /^(\d{1,9})(s|m|h|d)$/.exec(s);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
  if (!m || ms < MIN_EXPORT_EVERY_MS || ms > MAX_EXPORT_EVERY_MS)
    throw new CasBdtError(
      'usage',
      `export-every must be a duration from 5m to 366d such as 12h, 30m or 1d (or off), got "${String(value)}"`,
    );
  return ms;
}

interface Setting {
  /** commander's flags, e.g. `--fee <gbp>`. */
  flags: string;
  env: string;
  description: string;
  /** Checks a value from any source and returns it typed; throws a usage error. */
  parse: (value: unknown) => unknown;
  /** A repeatable flag: each use adds to the list (the environment and the file give the whole list). */
  repeatable?: boolean;
  /** A secret: given as a flag, every local user can read it in `ps`. */
  secret?: boolean;
  /** The values it takes, when they are a fixed set (commander's choices; `parse` still checks every source). */
  choices?: readonly string[];
}

/** Host names as a list: repeated flags, a comma list, or a JSON array in the config file. */
function parseHostList(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  const out = items.map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const h of out) {
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(h) || h.length > 253) {
      throw new CasBdtError('usage', `http-host must be host names or addresses (no port, no scheme), got "${h}"`);
    }
  }
  return out;
}

const text = (value: unknown) => String(value);

/** A whole-number setting: its range is checked from every source and said in --help. */
function whole(
  flags: string,
  env: string,
  what: string,
  [min, max]: [number, number],
  fallback: number,
): Setting & { parse: (v: unknown) => number } {
  const name = flags.slice(2).split(' ')[0]!;
  return {
    flags,
    env,
    description: `${what}, ${min} to ${max} (default ${fallback})`,
    parse: (v: unknown) => wholeNumber(name, v, min, max),
  };
}

/** Every setting: its flag, environment variable and config file key (the flag's name, either spelling). */
export const SETTINGS = {
  db: {
    flags: '--db <url>',
    env: 'DATABASE_URL',
    description: 'PostgreSQL server URL; without it the embedded store is used',
    parse: parseDatabaseUrl,
  },
  dbPassfile: {
    flags: '--db-passfile <file>',
    env: 'PGPASSFILE',
    description: "PostgreSQL password file in libpq's format, 0600 (default ~/.pgpass if present)",
    parse: text,
  },
  data: { flags: '--data <dir>', env: 'CAS_BDT_DATA', description: 'embedded store location', parse: text },
  root: { flags: '--root <dir>', env: 'CAS_BDT_ROOT', description: 'the sponsor folder tree', parse: text },
  config: {
    flags: '--config <file>',
    env: 'CAS_BDT_CONFIG',
    description: 'settings as JSON (default ./cas-bdt.config.json, else /etc/cas-bdt/config.json, if present)',
    parse: text,
  },
  fee: {
    flags: '--fee <gbp>',
    env: 'CAS_BDT_FEE',
    description: 'fee per assigned CAS in GBP, 0.00 to 10000.00 (default 25.00)',
    parse: parseFee,
  },
  validityMonths: whole('--validity-months <n>', 'CAS_BDT_VALIDITY_MONTHS', 'months an assigned CAS stays valid', [1, 60], 6),
  settleMs: whole(
    '--settle-ms <ms>',
    'CAS_BDT_SETTLE_MS',
    'how long an inbox file must be unchanged before it is taken',
    [0, 3_600_000],
    2000,
  ),
  scanIntervalMs: whole(
    '--scan-interval-ms <ms>',
    'CAS_BDT_SCAN_INTERVAL_MS',
    'period of the full inbox listing',
    [500, 86_400_000],
    30_000,
  ),
  maxFileMb: {
    flags: '--max-file-mb <mb>',
    env: 'CAS_BDT_MAX_FILE_MB',
    description: 'largest accepted file, above 0 and at most 2048 (default 200)',
    parse: maxFileMb,
  },
  concurrency: whole('--concurrency <n>', 'CAS_BDT_CONCURRENCY', 'files processed at once by watch', [1, 64], 2),
  groupFiles: whole(
    '--group-files <n>',
    'CAS_BDT_GROUP_FILES',
    'most small files of one sponsor that watch stores in one transaction (1: each alone)',
    // A file is a subtransaction of the group's: at most 64 keeps them within PostgreSQL's cache of them per session.
    [1, 64],
    64,
  ),
  poll: { flags: '--poll', env: 'CAS_BDT_POLL', description: 'make the watcher poll the inboxes', parse: parseBool },
  validateTimeoutS: whole(
    '--validate-timeout-s <s>',
    'CAS_BDT_VALIDATE_TIMEOUT_S',
    'longest XSD validation of one file before it is refused with E_LIMIT',
    [1, 3600],
    60,
  ),
  minFreeMb: whole(
    '--min-free-mb <mb>',
    'CAS_BDT_MIN_FREE_MB',
    'below this much free space on the sponsor tree (or the embedded store) no new file is taken, 0 never pauses',
    [0, 1_048_576],
    512,
  ),
  retainDays: whole(
    '--retain-days <days>',
    'CAS_BDT_RETAIN_DAYS',
    'days files stay in archive/, rejected/ and outbox/ before the hourly sweep removes them, 0 keeps them forever',
    [0, 36_500],
    0,
  ),
  exportEvery: {
    flags: '--export-every <duration>',
    env: 'CAS_BDT_EXPORT_EVERY',
    description: "watch: deliver each sponsor's changed CAS into its outbox this often, e.g. 12h, at least 5m (default off)",
    parse: parseExportEvery,
  },
  http: {
    flags: '--http <addr>',
    env: 'CAS_BDT_HTTP',
    description: `where watch serves the console, /healthz and /metrics: HOST:PORT, or off (default ${DEFAULT_HTTP})`,
    parse: (v: unknown) => parseHttpAddress(String(v)),
  },
  httpHost: {
    flags: '--http-host <name>',
    env: 'CAS_BDT_HTTP_HOST',
    description: 'a name the console answers to besides its address and localhost (repeatable, or a comma list)',
    parse: parseHostList,
    repeatable: true,
  },
  httpTokenFile: {
    flags: '--http-token-file <file>',
    env: 'CAS_BDT_HTTP_TOKEN_FILE',
    description: "the console token's file, created 0600 by watch (default <data>/console-token)",
    parse: text,
  },
  httpToken: {
    flags: '--http-token <token>',
    env: 'CAS_BDT_HTTP_TOKEN',
    description: 'the console token itself, at least 32 bytes, instead of the file (as a flag it shows in ps: prefer the file)',
    parse: (v: unknown) => checkToken(String(v), 'http-token'),
    secret: true,
  },
  holidays: {
    flags: '--holidays <nation>',
    env: 'CAS_BDT_HOLIDAYS',
    description: `whose bank holidays a report's due date skips: ${NATIONS.join(', ')} (default england-and-wales)`,
    parse: parseNation,
    choices: NATIONS,
  },
} satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** The settings' values once commander has them, typed by their parsers. */
export type SettingValues = { [K in SettingName]?: ReturnType<(typeof SETTINGS)[K]['parse']> };

const NAMES = Object.keys(SETTINGS) as SettingName[];

/** The global options of the CLI, one per setting; a bad flag value is a usage error reported by commander. */
export function settingOptions(): Option[] {
  return NAMES.map((name) => {
    const s: Setting = SETTINGS[name];
    const option = new Option(s.flags, `${s.description} (env ${s.env})`);
    if (s.choices) option.choices(s.choices);
    if (!option.required) return option;
    return option.argParser((value: string, previous: unknown) => {
      try {
        const parsed = s.parse(value);
        return s.repeatable && Array.isArray(previous) && Array.isArray(parsed) ? [...(previous as unknown[]), ...parsed] : parsed;
      } catch (err) {
        throw new InvalidArgumentError(coerceError(err).message);
      }
    });
  });
}

/** Keys accepted in the JSON config file: the long flag names, either spelling (`validity-months`, `validityMonths`). */
const FILE_KEYS: Record<string, SettingName> = Object.fromEntries(
  NAMES.filter((n) => n !== 'config').flatMap((n) => [
    [n, n],
    [SETTINGS[n].flags.slice(2).split(' ')[0]!, n],
  ]),
);

/** The system-wide configuration, read by every command when no other is given. */
const SYSTEM_CONFIG = '/etc/cas-bdt/config.json';

function readConfigFile(file: string, required: boolean): Partial<Record<SettingName, unknown>> {
  if (!existsSync(file)) {
    if (required) throw new CasBdtError('usage', `config file not found: ${file}`);
    return {};
  }
  let body: string;
  try {
    body = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new CasBdtError(
      'usage',
      `config file ${file} cannot be read (${code})${code === 'EACCES' ? ': run the command as the service user (runuser -u cas-bdt -- cas-bdt ...)' : ''}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new CasBdtError('usage', `config file ${file} is not valid JSON: ${coerceError(err).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CasBdtError('usage', `config file ${file} must hold a JSON object`);
  }
  const out: Partial<Record<SettingName, unknown>> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const name = FILE_KEYS[key];
    if (!name) throw new CasBdtError('usage', `config file ${file}: unknown setting "${key}"`);
    out[name] = value;
  }
  return out;
}

/**
 * Gives `cmd` (the program, which holds the global options) the environment's values and
 * then the config file's, each where no source that ranks higher gave one. The config file
 * is `--config` (or `CAS_BDT_CONFIG`), else `./cas-bdt.config.json`, else `systemConfig`
 * (`/etc/cas-bdt/config.json`), the first that exists; only a named one must exist.
 */
export function applyEnvironmentAndFile(cmd: CommandUnknownOpts, env: NodeJS.ProcessEnv, cwd: string, systemConfig = SYSTEM_CONFIG): void {
  const unset = (name: SettingName, outranks: string[]) => !outranks.includes(cmd.getOptionValueSource(name) ?? '');
  for (const name of NAMES) {
    const value = env[SETTINGS[name].env];
    if (value !== undefined && value !== '' && unset(name, ['cli'])) cmd.setOptionValueWithSource(name, SETTINGS[name].parse(value), 'env');
  }
  const explicit = cmd.getOptionValue('config') as string | undefined;
  const local = path.resolve(cwd, 'cas-bdt.config.json');
  const file = explicit !== undefined ? path.resolve(cwd, explicit) : existsSync(local) ? local : systemConfig;
  const fromFile = readConfigFile(file, explicit !== undefined);
  for (const [name, value] of Object.entries(fromFile) as [SettingName, unknown][]) {
    if (unset(name, ['cli', 'env'])) cmd.setOptionValueWithSource(name, SETTINGS[name].parse(value), 'config');
  }
}

/** The warning for a password given on the command line (it shows in `ps` and in shell histories), if one was. */
export function commandLineSecretWarning(cmd: CommandUnknownOpts): string | undefined {
  if (cmd.getOptionValueSource('db') !== 'cli') return undefined;
  let password = '';
  try {
    password = new URL(String(cmd.getOptionValue('db'))).password;
  } catch {
    return undefined;
  }
  if (!password) return undefined;
  return 'warning: the --db URL holds a password, which other local users can see in the process list: put it in a 0600 password file (--db-passfile, PGPASSFILE or ~/.pgpass) or in PGPASSWORD';
}

/** One field of a password file line (`\:` and `\\` escaped); `*` matches anything but in the password. */
function passfileFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) field += line[++i];
    else if (c === ':' && fields.length < 4) {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/**
 * The password for `url` from a password file in libpq's format (`host:port:database:user:password`
 * per line, `*` for any, `#` comments): the first matching line. Like libpq, a file that
 * group or others may read or write is not used; unlike libpq (which warns and carries on
 * without it), that is an error here, so that a service does not start half-configured.
 */
export function passwordFromFile(file: string, url: string): string | undefined {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CasBdtError('usage', `password file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!st.isFile()) throw new CasBdtError('usage', `password file ${file} is not a regular file`);
  if ((st.mode & 0o077) !== 0)
    throw new CasBdtError(
      'usage',
      `password file ${file} may be read or written by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): chmod 600 ${file}`,
    );
  let body: string;
  try {
    body = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CasBdtError('usage', `password file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const u = new URL(url);
  const want = [
    decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1') || 'localhost',
    u.port || '5432',
    decodeURIComponent(u.pathname.replace(/^\//, '')),
    decodeURIComponent(u.username),
  ];
  for (const raw of body.split(/\r?\n/)) {
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = passfileFields(raw);
    if (fields.length !== 5) continue;
    if (want.every((w, i) => fields[i] === '*' || fields[i] === w)) return fields[4];
  }
  return undefined;
}

/** The database password when the URL holds none: PGPASSWORD, else the password file's matching line. */
function databasePassword(v: SettingValues, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  if (!v.db || new URL(v.db).password) return undefined;
  if (env.PGPASSWORD) return env.PGPASSWORD;
  const home = env.HOME || homedir();
  const file = v.dbPassfile !== undefined ? path.resolve(cwd, v.dbPassfile) : path.join(home, '.pgpass');
  return passwordFromFile(file, v.db);
}

/**
 * The frozen configuration from the settings' values, with the defaults for those no source
 * gave. `sourceOf` tells where a value came from (commander's `cli`, `env`, `config`).
 */
export function configFrom(
  v: SettingValues,
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  sourceOf: (name: SettingName) => string | undefined = () => undefined,
): Config {
  const dataDir = path.resolve(cwd, v.data ?? '.cas-bdt');
  const secret = (n: SettingName) => (SETTINGS[n] as Setting).secret === true;
  return Object.freeze({
    databaseUrl: v.db,
    databasePassword: databasePassword(v, env, cwd),
    dataDir,
    rootDir: path.resolve(cwd, v.root ?? 'bdt'),
    feePence: v.fee ?? 2500,
    validityMonths: v.validityMonths ?? 6,
    holidays: v.holidays ?? 'england-and-wales',
    settleMs: v.settleMs ?? 2000,
    scanIntervalMs: v.scanIntervalMs ?? 30_000,
    maxFileBytes: Math.floor((v.maxFileMb ?? 200) * 1024 * 1024),
    concurrency: v.concurrency ?? 2,
    groupFiles: v.groupFiles ?? 64,
    poll: v.poll ?? false,
    validateTimeoutMs: (v.validateTimeoutS ?? 60) * 1000,
    minFreeBytes: (v.minFreeMb ?? 512) * 1024 * 1024,
    retainDays: v.retainDays ?? 0,
    exportEveryMs: v.exportEvery ?? undefined,
    http: v.http ?? parseHttpAddress(DEFAULT_HTTP),
    httpHosts: Object.freeze([...new Set(v.httpHost ?? [])]),
    httpTokenFile: path.resolve(cwd, v.httpTokenFile ?? path.join(dataDir, 'console-token')),
    httpToken: v.httpToken,
    secretsOnCommandLine: Object.freeze(
      NAMES.filter((n) => secret(n) && v[n] !== undefined && sourceOf(n) === 'cli').map((n) => SETTINGS[n].flags.split(' ')[0]!),
    ),
  });
}
