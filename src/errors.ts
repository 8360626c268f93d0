/** What the code may say about an error anywhere (logs, CLI messages): its SQLSTATE and a safe description. Light: no database or logging library. */

/**
 * SQLSTATE of a database error, found by walking the `cause` chain. A system error's code
 * can look like one (EPIPE, EBUSY): those carry `syscall` and are not database errors.
 */
export function sqlState(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 10; e = e.cause as typeof e, depth++) {
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
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 10; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && (CONNECTION_CODES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code))) return true;
  }
  return false;
}
