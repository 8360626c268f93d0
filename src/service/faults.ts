/**
 * Whose fault a failure is, decided in one place (spec section 3):
 * - `file`: the file's content made it fail (a value the database cannot hold, a name the
 *   file system cannot take). Retrying cannot help: the file is REJECTED at once.
 * - `environment`: the database is down or busy, a connection was lost, our own folders
 *   are full, read-only or unwritable. The file stays in the inbox and is retried with
 *   back-off, that file only.
 * - `unknown`: anything else (a bug, a crashed validator). Retried; after
 *   `UNKNOWN_STRIKES` in a row the file is set aside as REJECTED with `E_INTERNAL`.
 * Database errors are judged by SQLSTATE and file-system errors by errno code, both
 * found by walking the `cause` chain (drizzle wraps driver errors); never by message.
 */
import { causeChain, isConnectionError } from '../errors.ts';

export type FaultKind = 'file' | 'environment' | 'unknown';

export interface Fault {
  kind: FaultKind;
  /** The SQLSTATE or errno code that decided it, when there was one. */
  code?: string;
}

/** Unexpected failures in a row after which a file is set aside. */
export const UNKNOWN_STRIKES = 3;

/** Errno codes of our own folders and process that a retry can outlive. */
const ENVIRONMENT_ERRNO = new Set([
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EACCES',
  'EPERM',
  'EROFS',
  'EMFILE',
  'ENFILE',
  'ENOMEM',
  'EBUSY',
  'EAGAIN',
  'ESTALE',
  'ETIMEDOUT',
  'EINTR',
  // A folder of ours replaced by something else (a file where the outbox should be).
  'ENOTDIR',
  'EEXIST',
]);

/** Errno codes that a file's own name causes. */
const FILE_ERRNO = new Set(['ENAMETOOLONG', 'EILSEQ']);

/** SQLSTATE classes (first two characters) that say the database or its host is unwell. */
const ENVIRONMENT_SQL_CLASSES = new Set([
  '08', // connection exception
  '40', // transaction rollback: serialization failure, deadlock
  '53', // insufficient resources: disk full, out of memory, too many connections
  '57', // operator intervention: shutdown, query cancelled (statement timeout)
  '58', // system error: I/O error
]);

const ENVIRONMENT_SQL_STATES = new Set([
  '23505', // unique violation: another worker stored the same thing first; the retry replays
  '25006', // read-only transaction: a session setting or a standby, not the file
  '55P03', // lock not available
  '55006', // object in use
]);

/** SQLSTATE classes that the values of a file can cause. */
const FILE_SQL_CLASSES = new Set([
  '22', // data exception: a date out of range (22008), a number out of range (22003)...
  '54', // program limit exceeded: an index row too large, too many parameters
]);

/** The codes along the cause chain, outermost first. */
function codesOf(err: unknown): string[] {
  return [...causeChain(err)].flatMap((e) => (typeof e.code === 'string' ? [e.code] : []));
}

/** SQLSTATE codes are five digits or capitals; errno names (EPIPE, EPERM) also are, but all begin with E, which no SQLSTATE class does. */
const isSqlState = (code: string) => /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('E');

export function classifyFault(err: unknown): Fault {
  const codes = codesOf(err);
  const state = codes.find(isSqlState);
  if (state) {
    if (ENVIRONMENT_SQL_STATES.has(state) || ENVIRONMENT_SQL_CLASSES.has(state.slice(0, 2))) return { kind: 'environment', code: state };
    if (FILE_SQL_CLASSES.has(state.slice(0, 2))) return { kind: 'file', code: state };
    return { kind: 'unknown', code: state };
  }
  if (isConnectionError(err)) return { kind: 'environment', ...(codes[0] ? { code: codes[0] } : {}) };
  for (const code of codes) {
    if (FILE_ERRNO.has(code)) return { kind: 'file', code };
    if (ENVIRONMENT_ERRNO.has(code)) return { kind: 'environment', code };
  }
  return { kind: 'unknown', ...(codes[0] ? { code: codes[0] } : {}) };
}

/** The message of an E_INTERNAL result: says what the sponsor can know, never the cause's details. */
export function internalMessage(fault: Fault): string {
  return fault.kind === 'file'
    ? `the file could not be processed: a value in it could not be stored${fault.code ? ` (${fault.code})` : ''}; the operator has been alerted`
    : `the file could not be processed because of an internal error (it failed ${UNKNOWN_STRIKES} times in a row); the operator has been alerted`;
}
