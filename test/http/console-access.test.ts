/**
 * Who reads the console, on both stores: every page but /healthz and /metrics answers 401
 * (a page saying how to get in, and no data) without the key; the bearer token and the
 * login link's cookie let the owner in; wrong keys are slowed down per client; a Host that
 * is not the console's gets 421 (DNS rebinding); pages carry the cross-origin headers; a
 * result of 5,000 records is shown a page at a time.
 */
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrottle } from '../../src/http/access.ts';
import { startHttpScenario, type HttpScenario } from '../helpers/http.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { drop, upload, waitProcessed } from '../helpers/watch.ts';

/** A GET from a chosen loopback source address (127.0.0.0/8), with a chosen Host header. */
function rawGet(
  url: string,
  opts: { from?: string; host?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        localAddress: opts.from,
        headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const PERSONAL_PAGES = ['/', '/submissions', '/submissions/1', '/cas', '/cas/1', '/cas?q=OK-', '/nowhere'];

describe.each(STORE_KINDS)('console access on %s', (kind) => {
  let s: HttpScenario;
  beforeAll(async () => {
    s = await startHttpScenario(kind, { hosts: ['console.example.org'] });
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it('without a key every page but /healthz and /metrics is 401 with a page saying how to get in, and no data', async () => {
    for (const p of PERSONAL_PAGES) {
      const r = await s.anonymous(p.replace('OK-', s.applicants.ok));
      expect(r.status, p).toBe(401);
      expect(r.body).toContain('cas-bdt console');
      expect(r.body).toContain('Authorization: Bearer');
      for (const secret of [s.licence, s.applicants.ok, s.applicants.hostile, 'intake-good']) expect(r.body, p).not.toContain(secret);
    }
    expect((await s.anonymous('/healthz')).status).toBe(200);
    expect((await s.anonymous('/metrics')).status).toBe(200);
    // The owner's token opens them.
    const own = await s.get(`/cas?q=${s.applicants.ok}`);
    expect(own.status).toBe(200);
    expect(own.body).toContain(s.applicants.ok);
  });

  it('the login link sets an HttpOnly, SameSite=Strict cookie and leads to /; the cookie opens the pages; a wrong key does not', async () => {
    const login = await s.anonymous(`/login?key=${encodeURIComponent(s.token)}`);
    expect(login.status).toBe(303);
    const res = await fetch(`${s.server.url}/login?key=${encodeURIComponent(s.token)}`, { redirect: 'manual' });
    expect(res.headers.get('location')).toBe('/');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^cas-bdt-console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(s.token);
    const pair = cookie.split(';')[0]!;
    const page = await s.anonymous('/', { cookie: `theme=dark; ${pair}` });
    expect(page.status).toBe(200);
    expect(page.body).toContain(s.licence);
    const forged = await s.anonymous('/', { cookie: 'cas-bdt-console=' + 'A'.repeat(43) });
    expect(forged.status).toBe(401);
    expect(forged.body).toContain('That key is not');
  });

  it('a Host that is not the console’s gets 421 even with the key; its address, localhost, [::1] and --http-host names pass', async () => {
    const port = new URL(s.server.url).port;
    const auth = { authorization: `Bearer ${s.token}` };
    for (const host of ['evil.example', `evil.example:${port}`, '127.0.0.1.evil.example', '10.0.0.1', '[::2]']) {
      const r = await rawGet(`${s.server.url}/`, { host, headers: auth });
      expect(r.status, host).toBe(421);
      expect(r.body).not.toContain(s.licence);
      expect((await rawGet(`${s.server.url}/healthz`, { host })).status, host).toBe(421);
    }
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST`,
      `[::1]:${port}`,
      'console.example.org',
      `Console.Example.org:443`,
    ]) {
      expect((await rawGet(`${s.server.url}/`, { host, headers: auth })).status, host).toBe(200);
    }
  });

  it('pages, refusals and /healthz carry the cross-origin and permissions headers', async () => {
    for (const [p, headers] of [
      ['/', { authorization: `Bearer ${s.token}` }],
      ['/', {}],
      ['/healthz', {}],
    ] as const) {
      const res = await fetch(s.server.url + p, { headers });
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('permissions-policy')).toContain('camera=()');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
  });

  it('answers to wrong keys from one client are held longer and longer; the right key is never held; other clients are not', async () => {
    const from = '127.0.0.2';
    const times: number[] = [];
    for (let i = 0; i < 8; i++) {
      const t0 = performance.now();
      const r = await rawGet(`${s.server.url}/`, { from, headers: { authorization: `Bearer wrong-${i}-${'x'.repeat(40)}` } });
      times.push(performance.now() - t0);
      expect(r.status).toBe(401);
    }
    // Five at once, then held 250, 500, 1000 ms.
    expect(times[5]).toBeGreaterThanOrEqual(240);
    expect(times[6]).toBeGreaterThanOrEqual(490);
    expect(times[7]).toBeGreaterThanOrEqual(990);
    const t0 = performance.now();
    const login = await rawGet(`${s.server.url}/login?key=wrong`, { from });
    expect(login.status).toBe(401);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1990);
    // The owner's key from the same address is answered at once (no lock-out by guessing).
    const right = await rawGet(`${s.server.url}/`, { from, headers: { authorization: `Bearer ${s.token}` } });
    expect(right.status).toBe(200);
    expect((await rawGet(`${s.server.url}/`, { from: '127.0.0.3', headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });

  it('a result of 5,000 records is shown 100 at a time, each page parsed alone', async () => {
    drop(path.join(s.root, s.licence, 'inbox'), 'big.xml', upload(s.licence, `BIG${kind.slice(0, 2)}`, 5000));
    await waitProcessed(s.root, s.licence, ['big.xml'], 180_000);
    const list = (await s.get(`/submissions?sponsor=${s.licence}`)).body;
    const id = /<a href="\/submissions\/(\d+)">big\.xml<\/a>/.exec(list)?.[1];
    expect(id).toBeDefined();
    // The longest the event loop went without running a 5 ms timer while the page was made.
    let lastTick = performance.now();
    let stall = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      stall = Math.max(stall, now - lastTick);
      lastTick = now;
    }, 5);
    const started = performance.now();
    const first = await s.get(`/submissions/${id}`);
    const ms = performance.now() - started;
    clearInterval(ticker);
    expect(first.status).toBe(200);
    expect(first.body).toContain('Records 1 to 100 of 5000.');
    expect(first.body.match(/<tr><td class="n">\d+<\/td>/g)).toHaveLength(100);
    expect(first.body).toContain(`href="/submissions/${id}?page=2">Next`);
    expect(first.body).toContain(`href="/submissions/${id}?page=50">Last`);
    const last = (await s.get(`/submissions/${id}?page=50`)).body;
    expect(last).toContain('Records 4901 to 5000 of 5000.');
    expect(last).toContain('<td class="n">5000</td>');
    expect(last).not.toContain('<td class="n">4900</td>');
    // Past the end: the last page.
    expect((await s.get(`/submissions/${id}?page=999`)).body).toContain('Records 4901 to 5000 of 5000.');
    console.log(`${kind}: first page of a 5,000-record result in ${ms.toFixed(0)} ms, longest event-loop stall ${stall.toFixed(0)} ms`);
  }, 240_000);
});

describe('the throttle of wrong keys', () => {
  it('doubles the hold after the free attempts, to a ceiling, and forgets a client after a success', () => {
    const t = createThrottle({ free: 2, baseMs: 100, maxWaitMs: 1000 });
    expect([t.failed('10.0.0.1', 0), t.failed('10.0.0.1', 0), t.failed('10.0.0.1', 0), t.failed('10.0.0.1', 0)]).toEqual([0, 0, 100, 200]);
    for (let i = 0; i < 30; i++) t.failed('10.0.0.1', 0);
    expect(t.failed('10.0.0.1', 0)).toBe(1000);
    t.succeeded('10.0.0.1');
    expect(t.failed('10.0.0.1', 0)).toBe(0);
  });

  it('remembers a bounded number of clients, counts an IPv6 /64 as one, and forgets old failures', () => {
    const t = createThrottle({ free: 0, maxClients: 100, forgetMs: 1000 });
    for (let i = 0; i < 100_000; i++) t.failed(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 0);
    expect(t.size()).toBe(100);
    const v6 = createThrottle({ free: 0, baseMs: 100, maxClients: 100 });
    for (let i = 0; i < 1000; i++) v6.failed(`2001:db8:1:2::${i.toString(16)}`, 0);
    expect(v6.size()).toBe(1);
    expect(v6.failed('2001:db8:1:2:ffff::1', 0)).toBeGreaterThan(100);
    const old = createThrottle({ free: 1, baseMs: 100, forgetMs: 1000 });
    old.failed('192.0.2.1', 0);
    expect(old.failed('192.0.2.1', 10)).toBe(100);
    expect(old.failed('192.0.2.1', 5000)).toBe(0);
  });
});
