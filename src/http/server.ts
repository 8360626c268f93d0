/**
 * The operator's HTTP surface of `watch` (spec section 8): `/healthz`, `/metrics` and the
 * read-only console under `/`. Requests are never logged (a search holds an ApplicantID).
 * With a token, every request but `/healthz` needs `Authorization: Bearer <token>`, and
 * `/healthz` without it says only ok or not; the token is compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Db } from '../db/client.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { HttpAddress } from './address.ts';
import { checkHealth } from './health.ts';
import type { LiveState, Metrics } from './metrics.ts';
import { casPage, casSearchPage, overviewPage, page, submissionPage, submissionsPage } from './pages.ts';
import { hourlyThroughput } from '../db/console.ts';
import { reuseFor } from './reuse.ts';
import { html } from './html.ts';
import { complianceSource, compliancePage, registerComplianceGauges } from './compliance-page.ts';
import type { Nation } from '../domain/working-days.ts';

export interface HttpOptions {
  db: Db;
  rootDir: string;
  live: LiveState;
  metrics: Metrics;
  /** Bearer token; required by the caller for a non-loopback address. */
  token?: string | undefined;
  /** How long `/healthz` waits for the store (default 2000 ms). */
  storeTimeoutMs?: number;
  clock?: () => Date;
  /** Whose bank holidays the compliance view's due dates skip (default england-and-wales). */
  holidays?: Nation | undefined;
}

export interface HttpServer {
  /** `http://host:port` as bound (the port is the real one when 0 was asked). */
  url: string;
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time check of `Authorization: Bearer <token>` (hashing first makes the lengths equal). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(.+)$/i.exec(header ?? '');
  const given = digest(m?.[1]?.trim() ?? '');
  return timingSafeEqual(given, digest(token)) && m !== null;
}

/** How long the overview's hourly chart is reused (see reuse.ts). */
export const CHART_REUSE_MS = 5_000;

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

const positiveInt = (v: unknown): number | undefined => {
  const n = Number(v);
  return typeof v === 'string' && /^\d{1,15}$/.test(v) && Number.isSafeInteger(n) && n > 0 ? n : undefined;
};

export function buildApp(opts: HttpOptions): FastifyInstance {
  const app = Fastify({ logger: false, routerOptions: { maxParamLength: 200 }, bodyLimit: 1024, return503OnClosing: true });
  const clock = opts.clock ?? (() => new Date());
  const token = opts.token;
  const authorised = (req: FastifyRequest) => token === undefined || bearerMatches(req.headers.authorization, token);

  app.addHook('onRequest', async (req, reply) => {
    reply.headers(SECURITY_HEADERS);
    if (req.url === '/healthz' || req.url.startsWith('/healthz?')) return;
    if (!authorised(req)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="cas-bdt"')
        .type('text/plain; charset=utf-8')
        .send('a bearer token is required\n');
    }
  });

  const sendPage = (reply: FastifyReply, body: string | undefined, what: string) =>
    body === undefined
      ? reply
          .code(404)
          .type('text/html; charset=utf-8')
          .send(page('Not found', html`<p>${what} was not found.</p>`))
      : reply.type('text/html; charset=utf-8').send(body);

  app.get('/healthz', async (req, reply) => {
    const h = await checkHealth(opts.db, opts.rootDir, opts.live, opts.storeTimeoutMs ?? 2000);
    reply.code(h.status === 'ok' ? 200 : 503).type('application/json; charset=utf-8');
    return authorised(req) ? h : { status: h.status };
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await opts.metrics.registry.metrics();
    return reply.type(opts.metrics.registry.contentType).send(text);
  });

  // The chart's hours are whole, so figures a few seconds old are as good as new.
  const hours = reuseFor(CHART_REUSE_MS, () => hourlyThroughput(opts.db, clock()));
  const complianceNow = complianceSource(opts.db, opts.holidays ?? 'england-and-wales', clock);
  registerComplianceGauges(opts.metrics.registry, complianceNow);
  app.get('/compliance', async (_req, reply) => sendPage(reply, await compliancePage(complianceNow), 'The page'));
  app.get('/', async (_req, reply) => sendPage(reply, await overviewPage(opts.db, opts.live, hours), 'The page'));

  app.get<{ Querystring: { before?: string; sponsor?: string } }>('/submissions', async (req, reply) => {
    const before = positiveInt(req.query.before);
    const licence = typeof req.query.sponsor === 'string' && /^[A-Z0-9]{8}[0-9X]$/.test(req.query.sponsor) ? req.query.sponsor : undefined;
    return sendPage(reply, await submissionsPage(opts.db, { ...(before ? { before } : {}), ...(licence ? { licence } : {}) }), 'The list');
  });

  app.get<{ Params: { id: string } }>('/submissions/:id', async (req, reply) => {
    const id = positiveInt(req.params.id);
    return sendPage(reply, id ? await submissionPage(opts.db, id) : undefined, 'That submission');
  });

  app.get<{ Querystring: { q?: string } }>('/cas', async (req, reply) => {
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 100) : '';
    return sendPage(reply, await casSearchPage(opts.db, q), 'The page');
  });

  app.get<{ Params: { id: string } }>('/cas/:id', async (req, reply) => {
    const id = positiveInt(req.params.id);
    return sendPage(reply, id ? await casPage(opts.db, id) : undefined, 'That CAS');
  });

  app.setNotFoundHandler((_req, reply) => sendPage(reply, undefined, 'That page'));
  app.setErrorHandler((err, _req, reply) => {
    // The store being down is the usual cause; the message never holds personal data.
    const d = describeError(err);
    void reply
      .code(503)
      .type('text/html; charset=utf-8')
      .send(page('Unavailable', html`<p>The page cannot be shown now: ${d.code ? `${d.code}: ` : ''}${d.message}</p>`));
  });
  return app;
}

/**
 * Listens on `address`; a port in use (or any other failure to listen) is a warning and
 * undefined is returned: the service runs on without HTTP.
 */
export async function startHttp(address: HttpAddress, opts: HttpOptions & { log: Logger }): Promise<HttpServer | undefined> {
  if (address === 'off') return undefined;
  const app = buildApp(opts);
  try {
    await app.listen({ host: address.host, port: address.port });
  } catch (err) {
    await app.close().catch(() => {});
    const d = describeError(err);
    opts.log.warn(
      { address: `${address.host}:${address.port}`, err: d },
      `HTTP not served (${d.code === 'EADDRINUSE' ? 'the port is in use' : 'cannot listen'}); the service runs on without it`,
    );
    return undefined;
  }
  const a = app.server.address();
  const port = a && typeof a === 'object' ? a.port : address.port;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const url = `http://${host}:${port}`;
  opts.log.info({ url, auth: opts.token ? 'bearer token' : 'none (loopback)' }, 'HTTP: console, /healthz and /metrics');
  return { url, close: () => app.close() };
}
