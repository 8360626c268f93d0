/**
 * The only reader of process.env. Settings are resolved once, flag > environment >
 * config file > default, into a frozen object whose names carry their units.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CasBdtError } from './errors.ts';

export interface Config {
  /** PostgreSQL URL; undefined means the embedded store. */
  databaseUrl: string | undefined;
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
  /** Make the watcher poll instead of using fs events. */
  poll: boolean;
  /** Longest XSD validation of one file before it is stopped with E_LIMIT (default 60000 ms). */
  validateTimeoutMs: number;
}

/** Option values as given on the command line (commander's camelCase keys). */
export interface ConfigFlags {
  db?: string;
  data?: string;
  root?: string;
  config?: string;
  fee?: string;
  validityMonths?: string;
  settleMs?: string;
  scanIntervalMs?: string;
  maxFileMb?: string;
  concurrency?: string;
  poll?: boolean;
  validateTimeoutS?: string;
}

const ENV: Record<string, keyof ConfigFlags> = {
  DATABASE_URL: 'db',
  CAS_BDT_DATA: 'data',
  CAS_BDT_ROOT: 'root',
  CAS_BDT_CONFIG: 'config',
  CAS_BDT_FEE: 'fee',
  CAS_BDT_VALIDITY_MONTHS: 'validityMonths',
  CAS_BDT_SETTLE_MS: 'settleMs',
  CAS_BDT_SCAN_INTERVAL_MS: 'scanIntervalMs',
  CAS_BDT_MAX_FILE_MB: 'maxFileMb',
  CAS_BDT_CONCURRENCY: 'concurrency',
  CAS_BDT_POLL: 'poll',
  CAS_BDT_VALIDATE_TIMEOUT_S: 'validateTimeoutS',
};

/** Keys accepted in the JSON config file: the long flag names, either spelling. */
const FILE_KEYS: Record<string, keyof ConfigFlags> = {
  db: 'db',
  data: 'data',
  root: 'root',
  fee: 'fee',
  'validity-months': 'validityMonths',
  validityMonths: 'validityMonths',
  'settle-ms': 'settleMs',
  settleMs: 'settleMs',
  'scan-interval-ms': 'scanIntervalMs',
  scanIntervalMs: 'scanIntervalMs',
  'max-file-mb': 'maxFileMb',
  maxFileMb: 'maxFileMb',
  concurrency: 'concurrency',
  poll: 'poll',
  'validate-timeout-s': 'validateTimeoutS',
  validateTimeoutS: 'validateTimeoutS',
};

function readConfigFile(file: string, required: boolean): Partial<Record<keyof ConfigFlags, unknown>> {
  if (!existsSync(file)) {
    if (required) throw new CasBdtError('usage', `config file not found: ${file}`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CasBdtError('usage', `config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CasBdtError('usage', `config file ${file} must hold a JSON object`);
  }
  const out: Partial<Record<keyof ConfigFlags, unknown>> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const name = FILE_KEYS[key];
    if (!name) throw new CasBdtError('usage', `config file ${file}: unknown setting "${key}"`);
    out[name] = value;
  }
  return out;
}

function wholeNumber(name: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new CasBdtError('usage', `${name} must be a whole number from ${min} to ${max}, got "${String(value)}"`);
  return n;
}

function maxFileMb(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || n <= 0 || n > 2048) throw new CasBdtError('usage', `max-file-mb must be a number above 0 and at most 2048, got "${String(value)}"`);
  return n;
}

/** Largest fee per CAS: 10000.00 GBP, far above any real fee, far below what overflows. */
const MAX_FEE_PENCE = 1_000_000;

function parseFee(value: unknown): number {
  const s = String(value).trim();
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(s)) throw new CasBdtError('usage', `fee must be an amount in GBP like 25.00, got "${s}"`);
  const [whole, frac = ''] = s.split('.');
  const pence = Number(whole) * 100 + Number(frac.padEnd(2, '0'));
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
  return s;
}

/**
 * Each setting's parser with its range (said in `--help` too). The CLI checks flags with
 * these at parse time; environment and config file values are checked here.
 */
export const SETTINGS = {
  db: parseDatabaseUrl,
  fee: parseFee,
  validityMonths: (v: unknown) => wholeNumber('validity-months', v, 1, 60),
  settleMs: (v: unknown) => wholeNumber('settle-ms', v, 0, 3_600_000),
  scanIntervalMs: (v: unknown) => wholeNumber('scan-interval-ms', v, 500, 86_400_000),
  maxFileMb,
  concurrency: (v: unknown) => wholeNumber('concurrency', v, 1, 64),
  validateTimeoutS: (v: unknown) => wholeNumber('validate-timeout-s', v, 1, 3600),
} satisfies Partial<Record<keyof ConfigFlags, (v: unknown) => unknown>>;

function parseBool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const s = String(value).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  throw new CasBdtError('usage', `expected true or false, got "${String(value)}"`);
}

export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const fromEnv: Partial<Record<keyof ConfigFlags, unknown>> = {};
  for (const [variable, name] of Object.entries(ENV)) {
    const v = env[variable];
    if (v !== undefined && v !== '') fromEnv[name] = v;
  }
  const explicitFile = flags.config ?? (fromEnv.config as string | undefined);
  const configFile = path.resolve(cwd, explicitFile ?? 'cas-bdt.config.json');
  const fromFile = readConfigFile(configFile, explicitFile !== undefined);

  const pick = (name: keyof ConfigFlags): unknown => flags[name] ?? fromEnv[name] ?? fromFile[name];
  const pickOr = <T>(name: keyof ConfigFlags, fallback: T, parse: (v: unknown) => T): T => {
    const v = pick(name);
    return v === undefined ? fallback : parse(v);
  };

  return Object.freeze({
    databaseUrl: pickOr('db', undefined, SETTINGS.db),
    dataDir: path.resolve(cwd, String(pick('data') ?? '.cas-bdt')),
    rootDir: path.resolve(cwd, String(pick('root') ?? 'bdt')),
    feePence: pickOr('fee', 2500, SETTINGS.fee),
    validityMonths: pickOr('validityMonths', 6, SETTINGS.validityMonths),
    settleMs: pickOr('settleMs', 2000, SETTINGS.settleMs),
    scanIntervalMs: pickOr('scanIntervalMs', 30_000, SETTINGS.scanIntervalMs),
    maxFileBytes: Math.floor(pickOr('maxFileMb', 200, SETTINGS.maxFileMb) * 1024 * 1024),
    concurrency: pickOr('concurrency', 2, SETTINGS.concurrency),
    poll: pickOr('poll', false, parseBool),
    validateTimeoutMs: pickOr('validateTimeoutS', 60, SETTINGS.validateTimeoutS) * 1000,
  });
}
