/**
 * The service's logger: pino, one line per event on stderr (or any writer). Lines are for
 * operators by default (`time LEVEL message key=value ...`); `format: 'json'` gives pino's
 * JSON lines. Never log personal data: no names, passport numbers or dates of birth. File
 * names, licence numbers, submission ids, counts and codes are fine. As a safety net the
 * personal field names of a CAS are censored wherever they appear.
 */
import { pino, type Logger } from 'pino';
import { sqlState } from './db/sql-util.ts';
import { escapeControls } from './escape.ts';

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
 * What is safe to say about an error: a code and a message. drizzle wraps driver errors
 * in a message that quotes the SQL and its parameters (names, passport numbers), so the
 * message comes from the innermost cause and a wrapper's "Failed query" text is never
 * used. Database data and integrity errors (SQLSTATE classes 22 and 23) can quote the
 * offending values, so their quoted parts are dropped too.
 */
export function describeError(err: unknown): { code?: string; message: string } {
  if (err && typeof err === 'object' && 'message' in err && !(err instanceof Error) && !('cause' in err)) {
    // Already described (a logged field passing through the serializer again).
    return err as { code?: string; message: string };
  }
  let inner = err as { message?: unknown; cause?: unknown; code?: unknown } | undefined;
  let code: string | undefined;
  for (let depth = 0; inner && depth < 10; depth++) {
    if (typeof inner.code === 'string') code ??= inner.code;
    if (!inner.cause || typeof inner.cause !== 'object') break;
    inner = inner.cause as typeof inner;
  }
  const state = sqlState(err);
  if (state) code = state;
  let message = typeof inner?.message === 'string' ? inner.message : String(inner);
  if (/^Failed query:/.test(message)) message = 'database query failed';
  if (state && /^2[23]/.test(state)) message = message.replace(/"[^"]*"|'[^']*'|\([^)]*\)/g, '…');
  return code ? { code, message } : { message };
}

function formatValue(v: unknown): string {
  const described = v && typeof v === 'object' && 'message' in v ? (v as { code?: string; message: string }) : undefined;
  const raw = described ? `${described.code ? `${described.code}: ` : ''}${described.message}` : typeof v === 'string' ? v : JSON.stringify(v);
  // File names can hold terminal controls and bidi overrides: escaped first, then quoted if needed.
  const s = escapeControls(raw);
  return /[\s"=]/.test(s) ? `"${s.replaceAll('"', '\\"')}"` : s;
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
    return `${when} ${(LEVELS[level as number] ?? String(level)).padEnd(5)} ${escapeControls(String(msg ?? ''))}${fields ? ` ${fields}` : ''}\n`;
  } catch {
    return line;
  }
}

const writers = new WeakMap<NodeJS.WritableStream, (s: string) => void>();

/**
 * A writer for a stream that may go away (stderr read by a process that exited, stdout
 * piped to `head`). The first failure (EPIPE, a destroyed stream) turns it off and later
 * lines are dropped: a lost sink never stops the process, and nothing retries it in a loop.
 */
export function streamWriter(stream: NodeJS.WritableStream & { destroyed?: boolean; writable?: boolean }): (s: string) => void {
  const known = writers.get(stream);
  if (known) return known;
  let broken = false;
  // Without a listener the failure would be an uncaught exception, and logging it would fail again.
  stream.on('error', () => void (broken = true));
  const write = (s: string) => {
    if (broken || stream.destroyed || stream.writable === false) return;
    try {
      stream.write(s);
    } catch {
      broken = true;
    }
  };
  writers.set(stream, write);
  return write;
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
      base: undefined,
      redact: { paths: [...PERSONAL, ...PERSONAL.map((p) => `*.${p}`)], censor: '[redacted]' },
      serializers: { err: (err: unknown) => describeError(err) },
    },
    { write: (line: string) => write(text ? toText(line) : line) },
  );
}
