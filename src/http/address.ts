/** `--http ADDR`: `host:port`, `[v6]:port`, a bare port, or `off`. */
import { isIP } from 'node:net';
import { CasBdtError } from '../errors.ts';

export type HttpAddress = { host: string; port: number } | 'off';

export const DEFAULT_HTTP = '127.0.0.1:8470';

export function parseHttpAddress(value: string): HttpAddress {
  const s = value.trim();
  if (s.toLowerCase() === 'off') return 'off';
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(s) ?? /^(?:\[(x)\]|(x))?(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CasBdtError('usage', `--http must be HOST:PORT (for example ${DEFAULT_HTTP}), a port, or off; got "${value}"`);
  }
  const host = m[1] ?? (m[2] || '127.0.0.1');
  if (m[1] !== undefined && isIP(m[1]) !== 6) throw new CasBdtError('usage', `--http: "${m[1]}" is not an IPv6 address`);
  return { host, port };
}

/** Only the machine itself can reach it: no token needed. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}
