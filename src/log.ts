/**
 * The service's logger: pino, one line per event on stderr (or any writer). Lines are for
 * operators by default (`time LEVEL message key=value ...`); `format: 'json'` gives pino's
 * JSON lines. Never log personal data: no names, passport numbers or dates of birth. File
 * names, licence numbers, submission ids, counts and codes are fine. As a safety net the
 * personal field names of a CAS are censored wherever they appear.
 */
import { pino, stdTimeFunctions, type Logger } from 'pino';
import { describeError } from './errors.ts';
import { streamWriter } from './output.ts';
import { escapeControls } from './escape.ts';

export type { Logger };

interface LogOptions {
  /** Where lines go (default: process.stderr). */
  write?: (line: string) => void;
  /** Minimum level (default 'info'). */
  level?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** 'text' for people (default), 'json' for log shippers. */
  format?: 'text' | 'json';
}

const PERSONAL = [
  'familyName',
  'givenName',
  'passportNumber',
  'dateOfBirth',
  'name',
  'FamilyName',
  'GivenName',
  'PassportNumber',
  'DateOfBirth',
];

export { describeError } from './errors.ts';

function formatValue(v: unknown): string {
  const described = v && typeof v === 'object' && 'message' in v ? (v as { code?: string; message: string }) : undefined;
  const raw = described
    ? `${described.code ? `${described.code}: ` : ''}${described.message}`
    : typeof v === 'string'
      ? v
      : JSON.stringify(v);
  // File names can hold terminal controls and bidi overrides: escaped first, then quoted if needed.
  const s = escapeControls(raw);
  return /[\s"=]/.test(s) ? `"${s.replaceAll('"', '\\"')}"` : s;
}

/** pino's JSON line (`"level":"info","time":"2026-..."`) -> `2026-01-01T00:00:00.000Z INFO  message key=value`. */
function toText(line: string): string {
  try {
    const { level, time, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const fields = Object.entries(rest)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(' ');
    return `${String(time)} ${String(level).toUpperCase().padEnd(5)} ${escapeControls(String(msg ?? ''))}${fields ? ` ${fields}` : ''}\n`;
  } catch {
    return line;
  }
}

export function createLogger(opts: LogOptions = {}): Logger {
  const sink = opts.write ?? streamWriter(process.stderr);
  let failed = false;
  // A sink that throws is not written again: logs are dropped rather than stop the service.
  const write = (s: string) => {
    if (failed) return;
    try {
      sink(s);
    } catch {
      failed = true;
    }
  };
  const text = (opts.format ?? 'text') === 'text';
  return pino(
    {
      level: opts.level ?? 'info',
      // No pid or hostname on each line.
      base: null,
      // Level names and ISO 8601 UTC times, for people and log shippers alike.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: stdTimeFunctions.isoTime,
      redact: { paths: [...PERSONAL, ...PERSONAL.map((p) => `*.${p}`)], censor: '[redacted]' },
      serializers: { err: (err: unknown) => describeError(err) },
    },
    { write: (line: string) => write(text ? toText(line) : line) },
  );
}

/**
 * One child logger per sponsor, made the first time the sponsor logs and kept: each of its
 * lines says `sponsor=<licence>` before the fields of the call (pino writes a child's bound
 * fields first). Bind a file with `.child({ file })` on it; never bind personal data.
 */
export function perSponsor(log: Logger): (licence: string) => Logger {
  const made = new Map<string, Logger>();
  return (licence) => {
    let child = made.get(licence);
    if (!child) made.set(licence, (child = log.child({ sponsor: licence })));
    return child;
  };
}

/**
 * What the fatal line says of an unexpected error: its class, code and message with any
 * quoted or bracketed part left out (an unexpected error may quote the data it choked
 * on: a name, a passport number), and where it was thrown (the stack's frames, which
 * name functions and files only), never the raw stack, which repeats the message whole.
 */
export function fatalFields(err: unknown): { err: { code?: string; message: string }; errorClass: string; frames: string[] } {
  const d = describeError(err);
  const message = d.message
    .replace(/"[^"]*"|'[^']*'|`[^`]*`|\([^)]*\)|\[[^\]]*\]|\{[^}]*\}/g, '…')
    .replace(/[^\s…]*\d[^\s…]*/g, '…')
    .slice(0, 200);
  const errorClass = err instanceof Error ? err.constructor.name : typeof err;
  const frames = (err instanceof Error ? (err.stack ?? '') : '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 8)
    .map((l) => l.trim().replace(/^at /, ''));
  return { err: d.code ? { code: d.code, message } : { message }, errorClass, frames };
}
