/**
 * The service's logger: pino, one line per event on stderr (or any writer). Lines are for
 * operators by default (`time LEVEL message key=value ...`); `format: 'json'` gives pino's
 * JSON lines. Never log personal data: no names, passport numbers or dates of birth. File
 * names, licence numbers, submission ids, counts and codes are fine. As a safety net the
 * personal field names of a CAS are censored wherever they appear.
 */
import { pino, type Logger } from 'pino';
import { sqlState } from './db/sql-util.ts';

export type { Logger };

export interface LogOptions {
  /** Where lines go (default: process.stderr). */
  write?: (line: string) => void;
  /** Minimum level (default 'info'). */
  level?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** 'text' for people (default), 'json' for log shippers. */
  format?: 'text' | 'json';
}

const PERSONAL = ['familyName', 'givenName', 'passportNumber', 'dateOfBirth', 'name', 'FamilyName', 'GivenName', 'PassportNumber', 'DateOfBirth'];

/**
 * What is safe to say about an error: its code and message. Database data and integrity
 * errors (SQLSTATE classes 22 and 23) can quote the offending values, so their quoted
 * parts are dropped.
 */
export function describeError(err: unknown): { code?: string; message: string } {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const state = sqlState(err);
  const code = state ?? (typeof e?.code === 'string' ? e.code : undefined);
  let message = typeof e?.message === 'string' ? e.message : String(err);
  if (state && /^2[23]/.test(state)) message = message.replace(/"[^"]*"|'[^']*'|\([^)]*\)/g, '…');
  return code ? { code, message } : { message };
}

function formatValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** pino's JSON line -> `2026-01-01T00:00:00.000Z INFO  message key=value`. */
function toText(line: string): string {
  try {
    const { level, time, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const fields = Object.entries(rest)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(' ');
    const when = typeof time === 'number' ? new Date(time).toISOString() : String(time);
    return `${when} ${(LEVELS[level as number] ?? String(level)).padEnd(5)} ${String(msg ?? '')}${fields ? ` ${fields}` : ''}\n`;
  } catch {
    return line;
  }
}

export function createLogger(opts: LogOptions = {}): Logger {
  const write = opts.write ?? ((s: string) => void process.stderr.write(s));
  const text = (opts.format ?? 'text') === 'text';
  return pino(
    {
      level: opts.level ?? 'info',
      base: undefined,
      redact: { paths: [...PERSONAL, ...PERSONAL.map((p) => `*.${p}`)], censor: '[redacted]' },
      serializers: { err: (err: unknown) => describeError(err) },
    },
    { write: (line: string) => write(text ? toText(line) : line) },
  );
}
