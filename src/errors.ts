/**
 * The one error type cas-bdt throws on purpose (a code, mapped to exit codes in one
 * table), and what the code may say about any error (logs, CLI messages): its SQLSTATE and
 * a safe description. Light: no database or logging library.
 */

/** Each code's exit code (cli.md): 2 usage, 3 refused, 4 not found, 1 anything else. */
const EXIT_CODES = {
  /** A bad flag, argument, environment variable or config file value. */
  usage: 2,
  /** An operator action refused (its message says why). */
  refused: 3,
  'not-found': 4,
  /** The embedded store is held by another process. */
  'store-busy': 1,
  /** The data directory cannot be used (not a directory, another user's). */
  'data-dir': 1,
  /** Another service instance took over a claim on a file. */
  'claim-lost': 1,
  /** XSD validation overran its time or its thread died. */
  'engine-limit': 1,
  failed: 1,
} as const;

type ErrorCode = keyof typeof EXIT_CODES;

export class CasBdtError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const isCasBdtError = (err: unknown, code?: ErrorCode): err is CasBdtError =>
  err instanceof CasBdtError && (code === undefined || err.code === code);

export const exitCodeOf = (err: CasBdtError): number => EXIT_CODES[err.code];

type Link = { code?: unknown; cause?: unknown; message?: unknown };

/**
 * What a catch site holds, as an Error: the error itself, or a new one saying what was
 * thrown (its `message` when it has one), with the thrown value as its `cause`.
 */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  const message =
    err && typeof err === 'object' && typeof (err as Link).message === 'string' ? (err as { message: string }).message : String(err);
  return new Error(message, { cause: err });
}

/** An error and its causes, outermost first (at most 10, never around a loop). */
export function* causeChain(err: unknown): Generator<Link> {
  const seen = new Set<unknown>();
  for (let e = err, depth = 0; e && typeof e === 'object' && !seen.has(e) && depth < 10; e = (e as Link).cause, depth++) {
    seen.add(e);
    yield e as Link;
  }
}

/**
 * SQLSTATE of a database error, found by walking the `cause` chain. A system error's code
 * can look like one (EPIPE, EBUSY): those carry `syscall` and are not database errors.
 */
export function sqlState(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    if (typeof e.code === 'string' && !('syscall' in e) && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

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
  let inner = err as Link | undefined;
  let code: string | undefined;
  for (const e of causeChain(err)) {
    if (typeof e.code === 'string') code ??= e.code;
    inner = e;
  }
  const state = sqlState(err);
  if (state) code = state;
  let message = typeof inner?.message === 'string' ? inner.message : String(inner);
  if (/^Failed query:/.test(message)) message = 'database query failed';
  if (state && /^2[23]/.test(state)) message = message.replace(/"[^"]*"|'[^']*'|\([^)]*\)/g, '…');
  return code ? { code, message } : { message };
}

const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTCONN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // admin_shutdown, crash_shutdown, cannot_connect_now
  '57P01',
  '57P02',
  '57P03',
]);

/** True when the error says a database connection was lost or could not be made (SQLSTATE class 08 included). */
export function isConnectionError(err: unknown): boolean {
  for (const e of causeChain(err)) {
    if (typeof e.code === 'string' && (CONNECTION_CODES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code))) return true;
  }
  return false;
}
