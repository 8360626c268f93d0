/**
 * The console's credential (spec section 8): a random token that `watch` creates on first
 * start in a file only its user can read (`--http-token-file`, default `console-token` in
 * the data directory). `cas-bdt console` reads the same file to print a login link, so
 * only the service's user (or root) can get in; any other local account reaches the
 * loopback address but not the file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { CasBdtError } from '../errors.ts';

/** At least 32 bytes: a generated token is 32 random bytes (43 base64url characters, 256 bits). */
const MIN_TOKEN_BYTES = 32;

/** A token's bytes are checked, not its entropy: one given by hand must be long enough to be hard to guess. */
export function checkToken(token: string, where: string): string {
  const t = token.trim();
  if (Buffer.byteLength(t, 'utf8') < MIN_TOKEN_BYTES) {
    throw new CasBdtError(
      'usage',
      `${where}: the console token must be at least ${MIN_TOKEN_BYTES} bytes (openssl rand -base64url 32, or let watch create one)`,
    );
  }
  if (!/^[\x21-\x7e]+$/.test(t)) throw new CasBdtError('usage', `${where}: the console token must be printable ASCII without spaces`);
  return t;
}

export const newToken = (): string => randomBytes(32).toString('base64url');

/** Longer than any token anyone writes by hand; a larger file is not read whole. */
const MAX_FILE_BYTES = 4096;

/**
 * The token in `file`, read without following a link. A file that others can read, or
 * that belongs to another user, is refused: the token would not be the owner's alone.
 * Undefined when there is no such file.
 */
export function readTokenFile(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new CasBdtError('failed', `the console token file ${file} is a symbolic link; it must be a regular file`);
    if (code === 'EACCES' || code === 'EPERM') {
      throw new CasBdtError('failed', `cannot read the console token file ${file}: run this as the service's user`);
    }
    throw new CasBdtError('failed', `cannot read the console token file ${file} (${code ?? 'error'})`, { cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CasBdtError('failed', `the console token file ${file} is not a regular file`);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid() && process.getuid() !== 0) {
      throw new CasBdtError('failed', `the console token file ${file} belongs to another user`);
    }
    if ((st.mode & 0o077) !== 0) {
      throw new CasBdtError(
        'failed',
        `the console token file ${file} can be read by other users (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it`,
      );
    }
    const buf = Buffer.alloc(MAX_FILE_BYTES);
    const n = readSync(fd, buf, 0, MAX_FILE_BYTES, 0);
    return checkToken(buf.subarray(0, n).toString('utf8'), file);
  } finally {
    closeSync(fd);
  }
}

/**
 * The token in `file`, created (0600, written whole under a temporary name, then linked
 * into place, never replacing a file) when there is none. Two instances starting at once
 * on one data directory end up with the same token. `created` says whether this call made it.
 */
export function ensureTokenFile(file: string): { token: string; created: boolean } {
  const existing = readTokenFile(file);
  if (existing !== undefined) return { token: existing, created: false };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const token = newToken();
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another instance made it first: theirs is the token.
    const theirs = readTokenFile(file);
    if (theirs !== undefined) return { token: theirs, created: false };
    throw err;
  } finally {
    unlinkSync(tmp);
  }
  return { token, created: true };
}
