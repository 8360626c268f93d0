/**
 * The operator's HTTP surface on both stores: /healthz follows the sponsors' folders,
 * /metrics counts what this instance processed (and holds no names), the console shows
 * submissions, errors, records and CAS with every value escaped, and the token guards it:
 * 401 without it, the login link's cookie, wrong keys slowed down, 421 for a Host that is
 * not the console's, the cross-origin headers, /healthz reused for a second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { parseHttpAddress, isLoopback } from '../../src/http/address.ts';
import { bearerMatches, startHttp } from '../../src/http/server.ts';
import { HOSTILE, removeInbox, startHttpScenario, type HttpScenario } from '../helpers/http.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../chaos/cluster.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/stores.ts';
import { spawnCli, waitForLog } from '../helpers/watch.ts';

/** `name{labels} value` lines of the Prometheus text format, by series. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe.each(STORE_KINDS)('HTTP surface on %s', (kind) => {
  let s: HttpScenario;
  beforeAll(async () => {
    s = await startHttpScenario(kind);
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it('/healthz is 200 while the folders are usable, 503 with the reason when an inbox is removed, 200 when it is back', async () => {
    const ok = await s.get('/healthz');
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/application\/json/);
    const body = JSON.parse(ok.body) as { status: string; store: { ok: boolean }; sponsors: { total: number } };
    expect(body.status).toBe('ok');
    expect(body.store.ok).toBe(true);
    expect(body.sponsors.total).toBe(1);

    const restore = removeInbox(s.root, s.licence);
    try {
      // One answer is reused for a second (HEALTH_REUSE_MS); the removal shows right after.
      const bad = await waitFor(
        async () => {
          const r = await s.anonymous('/healthz');
          return r.status === 503 ? r : undefined;
        },
        { what: '/healthz 503 once its last answer is a second old', timeoutMs: 10_000, intervalMs: 100 },
      );
      const b = JSON.parse(bad.body) as { status: string; reasons: string[]; sponsors: { unhealthy: { licence: string }[] } };
      expect(b.status).toBe('unhealthy');
      expect(b.reasons).toContain(`${s.licence}/inbox is missing`);
      expect(b.sponsors.unhealthy.map((u) => u.licence)).toEqual([s.licence]);
    } finally {
      restore();
    }
    await waitFor(async () => (await s.get('/healthz')).status === 200, { what: '/healthz 200 again', timeoutMs: 10_000, intervalMs: 100 });
  });

  it('/metrics counts the files, records and CAS this instance processed, and no names', async () => {
    const series = await waitFor(
      async () => {
        const m = parseMetrics((await s.get('/metrics')).body);
        // The inbox the previous test removed and restored is healthy again at the service's next look.
        return (m.get('cas_bdt_file_processing_seconds_count') ?? 0) >= 2 && m.get('cas_bdt_sponsors_unhealthy') === 0 ? m : undefined;
      },
      { what: 'both files in the metrics and every sponsor healthy', timeoutMs: 30_000 },
    );
    expect(series.get('cas_bdt_files_processed_total{file_type="UPLOAD_GENERAL",outcome="ACCEPTED"}')).toBe(1);
    expect([...series].filter(([k]) => k.startsWith('cas_bdt_files_processed_total') && k.includes('REJECTED')).map(([, v]) => v)).toEqual([
      1,
    ]);
    expect(series.get('cas_bdt_file_errors_total{code="E_SCHEMA"}')).toBe(1);
    expect(series.get('cas_bdt_cas_assigned_total')).toBe(2);
    expect(series.get('cas_bdt_records_total{status="ASSIGNED"}')).toBe(2);
    expect(series.get('cas_bdt_records_total{status="REJECTED"}')).toBe(1);
    expect(series.get('cas_bdt_queue_files{state="running"}')).toBe(0);
    expect(series.get('cas_bdt_sponsors_unhealthy')).toBe(0);
    expect(series.get('cas_bdt_oldest_waiting_file_age_seconds')).toBe(0);
    expect(series.has('process_cpu_user_seconds_total')).toBe(true);
    const text = (await s.get('/metrics')).body;
    for (const secret of ['intake-good', 'intake-bad', 'alert', 'Okafor', s.applicants.ok, s.applicants.hostile])
      expect(text).not.toContain(secret);
  });

  it('the overview lists the sponsor with its allocation, the submissions and the 24-hour chart, the hostile name as text', async () => {
    const r = await s.get('/');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/text\/html/);
    expect(r.body).toContain(s.licence);
    expect(r.body).toMatch(/<td class="n">10<\/td><td class="n">2<\/td><td class="n">8<\/td>/);
    expect(r.body).toContain('intake-good.xml');
    expect(r.body).toContain('intake-bad.xml');
    expect(r.body).toContain('<svg');
    expect(r.body).toContain('2 files processed and 2 CAS assigned in the last 24 hours');
  });

  it("a submission's page shows file errors with line and column, or each record's issues next to its ApplicantID", async () => {
    const list = (await s.get(`/submissions?sponsor=${s.licence}`)).body;
    const ids = [...list.matchAll(/<a href="\/submissions\/(\d+)">intake-(good|bad)\.xml<\/a>/g)].map((m) => ({ id: m[1]!, which: m[2]! }));
    const good = ids.find((x) => x.which === 'good')!;
    const bad = ids.find((x) => x.which === 'bad')!;

    const badPage = (await s.get(`/submissions/${bad.id}`)).body;
    expect(badPage).toContain('REJECTED');
    expect(badPage).toMatch(/<td>E_SCHEMA<\/td><td class="n">\d+<\/td><td class="n">\d+<\/td>/);

    const goodPage = (await s.get(`/submissions/${good.id}`)).body;
    expect(goodPage).toMatch(new RegExp(`<td>${s.applicants.refused}</td><td class="REJECTED">REJECTED</td>[\\s\\S]*?E_COURSE_DATES`));
    expect(goodPage).toMatch(
      new RegExp(`<td>${s.applicants.ok}</td><td class="">CREATED</td><td>ASSIGNED</td>\\s*<td><a href="/cas/\\d+">E4G`),
    );
    expect((await s.get('/submissions/999999')).status).toBe(404);
  });

  it('CAS search by ApplicantID and by CAS number leads to the CAS and its history; a hostile name renders as text', async () => {
    const byApplicant = (await s.get(`/cas?q=${encodeURIComponent(s.applicants.hostile)}`)).body;
    expect(byApplicant).toContain('1 CAS found');
    expect(byApplicant).not.toContain(HOSTILE);
    expect(byApplicant).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    const [, id, casNumber] = /<a href="\/cas\/(\d+)">(E4G[A-Z0-9]{11})<\/a>/.exec(byApplicant) ?? [];
    expect(casNumber).toBeDefined();
    const byNumber = (await s.get(`/cas?q=${casNumber!.toLowerCase()}`)).body;
    expect(byNumber).toContain(`/cas/${id}`);
    const one = (await s.get(`/cas/${id}`)).body;
    expect(one).toContain(`CAS ${casNumber}`);
    expect(one).toMatch(/READY_TO_GO → ASSIGNED/);
    expect(one).not.toContain(HOSTILE);
    const none = (await s.get('/cas?q=%3Cb%3Enobody')).body;
    expect(none).toContain('No CAS found for <strong>&lt;b&gt;nobody</strong>');
  });

  it('pages carry a policy that forbids scripts', async () => {
    const res = await fetch(s.server.url + '/');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('content-security-policy')).not.toContain('script-src');
  });
});

describe('HTTP address, token and port', () => {
  it('parses addresses and knows loopback', () => {
    expect(parseHttpAddress('off')).toBe('off');
    expect(parseHttpAddress('127.0.0.1:8470')).toEqual({ host: '127.0.0.1', port: 8470 });
    expect(parseHttpAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseHttpAddress('9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(() => parseHttpAddress('host:99999')).toThrow(/HOST:PORT/);
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('10.1.2.3')).toBe(false);
  });

  it('compares the bearer token exactly', () => {
    expect(bearerMatches('Bearer s3cret-token-0123456789', 's3cret-token-0123456789')).toBe(true);
    expect(bearerMatches('Bearer s3cret-token-012345678', 's3cret-token-0123456789')).toBe(false);
    expect(bearerMatches(undefined, 's3cret-token-0123456789')).toBe(false);
    expect(bearerMatches('Basic s3cret-token-0123456789', 's3cret-token-0123456789')).toBe(false);
  });

  it('watch refuses a token shorter than 32 bytes, from a flag or the environment, and a malformed address (exit 2)', async () => {
    const short = await runCli(['watch', '--http-token', 'only-sixteen-chr', '--root', '/nonexistent/root', '--data', '/nonexistent/data']);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/at least 32 bytes/);
    const fromEnv = await runCli(['watch', '--root', '/nonexistent/root', '--data', '/nonexistent/data'], {
      env: { CAS_BDT_HTTP_TOKEN: 'x'.repeat(31) },
    });
    expect(fromEnv.code).toBe(2);
    const bad = await runCli(['watch', '--http', 'nowhere', '--root', '/nonexistent/root', '--data', '/nonexistent/data']);
    expect(bad.code).toBe(2);
  });

  it('cas-bdt console prints the login link; a token given as a flag is warned about, one from the environment is not', async () => {
    const token = 'T'.repeat(20) + '-0123456789abcdef';
    const flag = await runCli(['--http', '127.0.0.1:9123', '--http-token', token, 'console', '--json']);
    expect(flag.code, flag.stderr).toBe(0);
    expect(flag.json()).toEqual({ url: 'http://127.0.0.1:9123/', login: `http://127.0.0.1:9123/login?key=${token}`, tokenFile: null });
    expect(flag.stderr).toMatch(/--http-token was given on the command line.*\(ps\)/);
    expect(flag.stderr).not.toContain(token);
    const env = await runCli(['--http', '[::]:9124', 'console'], { env: { CAS_BDT_HTTP_TOKEN: token } });
    expect(env.code, env.stderr).toBe(0);
    expect(env.stderr).toBe('');
    expect(env.stdout).toContain(`http://[::1]:9124/login?key=${token}`);
    const off = await runCli(['--http', 'off', '--http-token', token, 'console']);
    expect(off.code).toBe(1);
    const none = await runCli(['--data', '/nonexistent/data', 'console']);
    expect(none.code).toBe(4);
    expect(none.stderr).toContain('/nonexistent/data/console-token');
  });

  it('a token file other users can read is not used: watch runs on without HTTP and says why', async () => {
    const dir = tempDir('cas-bdt-token-');
    const data = path.join(dir, 'data');
    mkdirSync(data, { mode: 0o700 });
    // Outside the data directory (the embedded store makes everything in there 0600).
    const tokenFile = path.join(dir, 'console-token');
    writeFileSync(tokenFile, `${'z'.repeat(43)}\n`, { mode: 0o644 });
    chmodSync(tokenFile, 0o644);
    const port = await freePort();
    const w = spawnCli([
      'watch',
      '--data',
      data,
      '--root',
      path.join(dir, 'bdt'),
      '--http',
      `127.0.0.1:${port}`,
      '--http-token-file',
      tokenFile,
    ]);
    try {
      await waitForLog(w, /HTTP not served \(the console token: .*can be read by other users \(mode 644\): chmod 600 it\)/);
      await waitForLog(w, /ready/);
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
      expect(w.stderr()).not.toContain('z'.repeat(43));
    } finally {
      w.kill('SIGTERM');
      await w.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a port in use is a warning', async () => {
    const s = await startHttpScenario(STORE_KINDS[0]!);
    try {
      const logs: string[] = [];
      const port = Number(new URL(s.server.url).port);
      const second = await startHttp(
        { host: '127.0.0.1', port },
        {
          db: s.t.store.db,
          rootDir: s.root,
          live: s.svc.service,
          metrics: s.metrics,
          token: s.token,
          log: createLogger({ write: (l) => void logs.push(l) }),
        },
      );
      expect(second).toBeUndefined();
      expect(logs.join('')).toMatch(/WARN.*the port is in use/);
      expect((await s.get('/healthz')).status).toBe(200);
    } finally {
      await s.close();
    }
  }, 120_000);
});
