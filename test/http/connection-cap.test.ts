/**
 * The HTTP server's connection cap against a local account that holds the slots: over
 * the cap, the connection that has waited longest with nothing being done for it (silent
 * since it opened, kept alive after its answer, or held as a wrong key's answer is) is
 * closed to make room, so a monitor still reaches /healthz; a request being answered is
 * never cut, and with nothing to close the new connection is. A server of 8 connections
 * beside the scenario's, on the same service.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { startHttp, type HttpServer } from '../../src/http/server.ts';
import { startHttpScenario, type HttpScenario } from '../helpers/http.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';

const CAP = 8;

interface Held {
  sock: net.Socket;
  /** Every byte the server sent. */
  data: string;
  closed: boolean;
}

describe('the HTTP connection cap', () => {
  let s: HttpScenario;
  let server: HttpServer;
  let port: number;
  const opened: Held[] = [];

  beforeAll(async () => {
    s = await startHttpScenario(STORE_KINDS[0]!);
    const started = await startHttp(
      { host: '127.0.0.1', port: 0 },
      {
        db: s.t.store.db,
        rootDir: s.root,
        live: s.svc.service,
        metrics: s.metrics,
        token: s.token,
        log: createLogger({ write: () => {} }),
        limits: { maxConnections: CAP },
        // Every wrong key's answer held a minute: held connections stay held for the test.
        throttle: { free: 0, baseMs: 60_000, maxWaitMs: 60_000 },
      },
    );
    if (!started) throw new Error('the capped server did not start');
    server = started;
    port = Number(new URL(server.url).port);
  }, 120_000);

  afterAll(async () => {
    for (const h of opened) h.sock.destroy();
    await server?.close();
    await s?.close();
  });

  /** A connection, once connected; what it receives and whether it closed are recorded. */
  async function connect(): Promise<Held> {
    const sock = net.connect(port, '127.0.0.1');
    const h: Held = { sock, data: '', closed: false };
    opened.push(h);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (h.data += d));
    sock.on('error', () => {});
    sock.on('close', () => (h.closed = true));
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    return h;
  }

  const request = (pathname: string, headers: string[] = [], close = false) =>
    `GET ${pathname} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers.map((x) => `${x}\r\n`).join('')}${close ? 'Connection: close\r\n' : ''}\r\n`;

  /** A monitor's check on a connection of its own: the status, or 0 if it was closed unanswered. */
  async function monitor(): Promise<number> {
    const h = await connect();
    h.sock.write(request('/healthz', [], true));
    await waitFor(() => h.closed, { what: "the monitor's connection to end", timeoutMs: 30_000 });
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(h.data)?.[1] ?? 0);
  }

  /** `conns[at]` closed by the server (waited for), and every later one still open. */
  async function closedOnly(conns: Held[], at: number, what: string): Promise<void> {
    await waitFor(() => conns[at]!.closed, { what, timeoutMs: 10_000 });
    expect(conns.slice(at + 1).map((h) => h.closed)).toEqual(Array(conns.length - at - 1).fill(false));
  }

  async function emptyServer(): Promise<void> {
    for (const h of opened.splice(0)) h.sock.destroy();
    await waitFor(async () => (await monitor()) === 200, { what: 'a free slot', timeoutMs: 30_000 });
    opened.length = 0;
  }

  it('closes the silent connection that opened first to let a monitor in', async () => {
    await emptyServer();
    const silent: Held[] = [];
    for (let i = 0; i < CAP; i++) silent.push(await connect());
    expect(await monitor()).toBe(200);
    await closedOnly(silent, 0, 'the oldest silent connection closed');
    // Full again (the monitor's slot taken by one more silent connection): the next oldest goes.
    silent.push(await connect());
    expect(await monitor()).toBe(200);
    await closedOnly(silent, 1, 'the next oldest closed');
  });

  it('closes the connection idle longest after its answer (keep-alive) to let a monitor in', async () => {
    await emptyServer();
    const idle: Held[] = [];
    for (let i = 0; i < CAP; i++) {
      const h = await connect();
      h.sock.write(request('/healthz'));
      await waitFor(() => /\r\n\r\n\{/.test(h.data) && h.data.trimEnd().endsWith('}'), { what: 'an answer kept alive', timeoutMs: 10_000 });
      idle.push(h);
    }
    expect(idle.some((h) => h.closed)).toBe(false);
    expect(await monitor()).toBe(200);
    await closedOnly(idle, 0, 'the connection idle longest closed');
  });

  it("closes a connection whose wrong key's answer is held to let a monitor in; the held one gets nothing", async () => {
    await emptyServer();
    const guessing: Held[] = [];
    for (let i = 0; i < CAP; i++) {
      const h = await connect();
      h.sock.write(request('/', [`Authorization: Bearer wrong-${i}-${'x'.repeat(40)}`]));
      guessing.push(h);
    }
    // A guess the server has not read yet is a silent connection, closed first all the same:
    // either way the one closed is a guesser's, and it got no answer.
    expect(await monitor()).toBe(200);
    const closed = await waitFor(
      () => {
        const c = guessing.filter((h) => h.closed);
        return c.length > 0 ? c : undefined;
      },
      { what: 'a held connection closed', timeoutMs: 10_000 },
    );
    expect(closed.length).toBe(1);
    expect(closed[0]!.data).toBe('');
  });

  it('takes the connection that has waited longest whatever its kind: silent ones opened before an answer kept alive go first', async () => {
    await emptyServer();
    const first = await connect();
    const rest: Held[] = [];
    for (let i = 1; i < CAP; i++) rest.push(await connect());
    // `first` opened first, but waits only since its answer, after the seven silent ones opened.
    first.sock.write(request('/healthz'));
    await waitFor(() => first.data.trimEnd().endsWith('}'), { what: 'the first answer', timeoutMs: 10_000 });
    expect(await monitor()).toBe(200);
    await closedOnly(rest, 0, 'the oldest silent connection closed');
    expect(first.closed).toBe(false);
  });
});
