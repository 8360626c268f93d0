/**
 * Who may read the console (spec section 8): the `Host` check against DNS rebinding, the
 * credential (a bearer token, or the cookie that `/login?key=...` sets), and the
 * slowing down of wrong credentials. Everything here is constant in time and bounded in
 * memory whatever a client sends.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time equality of two strings (hashing first makes the lengths equal). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Constant-time check of `Authorization: Bearer <token>`. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return sameSecret(m?.[1] ?? '', token) && m !== null;
}

export const COOKIE = 'cas-bdt-console';

/**
 * The cookie's value: derived from the token (so it does not reveal it, stays valid across
 * restarts and ends when the token file is replaced).
 */
export const cookieValue = (token: string): string => createHmac('sha256', token).update('cas-bdt console cookie v1').digest('base64url');

/** The value of cookie `name` in a `Cookie` header, or undefined. */
function cookieFrom(header: string | undefined, name = COOKIE): string | undefined {
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

type Credential = 'none' | 'good' | 'bad';

/** What the request carries: no credential at all, the right one, or a wrong one (a guess). */
export function credentialOf(headers: { authorization?: string | undefined; cookie?: string | undefined }, token: string): Credential {
  if (headers.authorization !== undefined) return bearerMatches(headers.authorization, token) ? 'good' : 'bad';
  const c = cookieFrom(headers.cookie);
  if (c === undefined) return 'none';
  return sameSecret(c, cookieValue(token)) ? 'good' : 'bad';
}

/** `Host` without its port, lower case; `[::1]:8470` gives `::1`. Undefined when malformed. */
export function hostName(host: string | undefined): string | undefined {
  if (!host || host.length > 255) return undefined;
  const h = host.trim().toLowerCase();
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
  if (v6) return isIP(v6[1]!) === 6 ? v6[1] : undefined;
  const m = /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(h);
  return m ? m[1]!.replace(/\.$/, '') : undefined;
}

/**
 * The names a request may carry in `Host`: the bound address (unless it is the any
 * address, which no browser asks for), localhost and the loopback addresses, and the
 * `--http-host` names.
 */
export function allowedHosts(boundHost: string, extra: readonly string[]): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '::1']);
  const bound = boundHost.toLowerCase();
  if (bound !== '0.0.0.0' && bound !== '::') names.add(bound);
  for (const e of extra) {
    const n = hostName(e) ?? e.trim().toLowerCase();
    if (n) names.add(n);
  }
  return names;
}

interface Throttle {
  /**
   * A wrong credential from `client`: how long to hold its answer (ms). The right key is
   * never held, so no local user can lock the owner out by guessing.
   */
  failed(client: string, now?: number): number;
  /** A right one: the client's record is forgotten. */
  succeeded(client: string): void;
  /** Clients remembered (at most `maxClients`). */
  size(): number;
}

/**
 * Wrong credentials slowed down per client: the first few are answered at once, then each
 * further one's answer is held twice as long as the last (to `maxWaitMs`). An answer held
 * is a connection held, and connections are capped (limits.ts), so guesses are bounded
 * to about `maxConnections / maxWaitMs` a second in all. At most `maxClients` are
 * remembered (the oldest forgotten first), each for `forgetMs` after its last failure, so
 * a flood of clients cannot exhaust memory. IPv6 clients are counted by their /64, which
 * one host usually owns whole.
 */
export function createThrottle(
  opts: { free?: number; baseMs?: number; maxWaitMs?: number; maxClients?: number; forgetMs?: number } = {},
): Throttle {
  const free = opts.free ?? 5;
  const baseMs = opts.baseMs ?? 250;
  const maxWaitMs = opts.maxWaitMs ?? 2_000;
  const maxClients = opts.maxClients ?? 4096;
  const forgetMs = opts.forgetMs ?? 15 * 60_000;
  const clients = new Map<string, { failures: number; last: number }>();
  const keyOf = (client: string) => {
    const a = client.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '');
    return isIP(a) === 6 ? a.split(':').slice(0, 4).join(':') : a;
  };
  return {
    failed: (client, now = Date.now()) => {
      const k = keyOf(client);
      const e = clients.get(k);
      const failures = (e && now - e.last <= forgetMs ? e.failures : 0) + 1;
      // Re-inserted so that the map's order is the order of last failures: the oldest goes first.
      clients.delete(k);
      clients.set(k, { failures, last: now });
      while (clients.size > maxClients) clients.delete(clients.keys().next().value!);
      return failures <= free ? 0 : Math.min(maxWaitMs, baseMs * 2 ** Math.min(20, failures - free - 1));
    },
    succeeded: (client) => void clients.delete(keyOf(client)),
    size: () => clients.size,
  };
}
