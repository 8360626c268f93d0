/**
 * How much of the process the HTTP server may take. Every connection is a descriptor, and
 * the service needs descriptors for its own work (inbox files, results, the store, its
 * lock, its socket's clients): the server takes at most `maxConnections`, and never more
 * than the descriptor limit leaves after `reserve` for the rest. Connections beyond that
 * are closed as they arrive. Timeouts free what slow or silent clients hold.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface HttpLimits {
  /** Most connections at once (default 256). */
  maxConnections: number;
  /** Descriptors always left to the service (default 128). */
  reserve: number;
  /** A request's headers must arrive within this (default 10000 ms). */
  headersTimeoutMs: number;
  /** A whole request must arrive within this (default 30000 ms). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (default 5000 ms). */
  keepAliveTimeoutMs: number;
  /** A connection silent this long is closed (default 15000 ms). */
  idleTimeoutMs: number;
  /** How often the descriptor limit is read again (default 5000 ms). */
  recheckMs: number;
}

export const DEFAULT_LIMITS: HttpLimits = {
  maxConnections: 256,
  reserve: 128,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 15_000,
  recheckMs: 5_000,
};

/** The soft limit on open files (Linux /proc), or undefined where it cannot be read. */
function descriptorLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Descriptors open now, or undefined where they cannot be counted. */
function openDescriptors(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

/**
 * The connection cap for the limits as they are now. The descriptors the service holds
 * when the server starts (its store, watcher, workers) are counted once, at the start,
 * so that the server's own connections never shrink its share.
 */
export function connectionLimit(limits: HttpLimits): { current(): number; descriptors: number | undefined } {
  const baseline = openDescriptors() ?? 64;
  const at = { descriptors: descriptorLimit() };
  return {
    get descriptors() {
      return at.descriptors;
    },
    current() {
      at.descriptors = descriptorLimit();
      if (at.descriptors === undefined) return limits.maxConnections;
      return Math.max(8, Math.min(limits.maxConnections, at.descriptors - baseline - limits.reserve));
    },
  };
}
