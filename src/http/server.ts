/**
 * The operator's HTTP surface of `watch` (spec section 8): `/healthz`, `/metrics` and the
 * read-only console under `/`. Requests are never logged (a search holds an ApplicantID).
 *
 * Access (access.ts): a request whose `Host` is not one this console serves gets 421 (DNS
 * rebinding); `/healthz` and `/metrics` (no personal data) answer anyone else; every other
 * page needs the console token, as `Authorization: Bearer` or as the cookie `/login?key=`
 * sets. Answers to wrong credentials are held longer and longer per client.
 *
 * Load (limits.ts): a bounded number of connections, kept below the descriptor limit with
 * a reserve for the service's own files, and header, request and idle timeouts, so that
 * slow or half-open connections cannot take the descriptors the service needs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Db } from '../ops/store.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { allowedHosts, COOKIE, cookieValue, createThrottle, credentialOf, hostName, sameSecret } from './access.ts';
import type { HttpAddress } from './address.ts';
import { checkHealth } from './health.ts';
import { connectionLimit, DEFAULT_LIMITS, type HttpLimits } from './limits.ts';
import type { LiveState, Metrics } from './metrics.ts';
import {
  casPage,
  casSearchPage,
  casStatusPage,
  overviewPage,
  page,
  signInPage,
  sponsorPage,
  submissionPage,
  submissionsPage,
} from './pages.ts';
import { CAS_STATUSES } from '../domain/types.ts';
import { hourlyThroughput } from '../ops/queries.ts';
import { exportsPage } from './exports-page.ts';
import { reuseFor } from './reuse.ts';
import { sendStatement } from './statement.ts';
import { html } from './html.ts';
import { complianceSource, compliancePage, registerComplianceGauges } from './compliance-page.ts';
import type { Nation } from '../domain/working-days.ts';
import { wholeNumberIn } from '../domain/numbers.ts';

export { bearerMatches } from './access.ts';

interface HttpOptions {
  db: Db;
  rootDir: string;
  live: LiveState;
  metrics: Metrics;
  /** The console token (at least 32 bytes, token.ts). */
  token: string;
  /** Names besides the bound address and localhost that `Host` may carry (`--http-host`). */
  hosts?: readonly string[];
  /** Bound address, for the `Host` check (startHttp sets it). */
  boundHost?: string;
  /** Connections and timeouts (default DEFAULT_LIMITS). */
  limits?: Partial<HttpLimits>;
  /** How long `/healthz` waits for the store (default 2000 ms). */
  storeTimeoutMs?: number;
  /** How wrong keys are slowed down (access.ts's defaults unless given). */
  throttle?: Parameters<typeof createThrottle>[0];
  clock?: () => Date;
  /** Whose bank holidays the compliance view's due dates skip (default england-and-wales). */
  holidays?: Nation | undefined;
}

export interface HttpServer {
  /** `http://host:port` as bound (the port is the real one when 0 was asked). */
  url: string;
  /**
   * The most connections held at once: beyond it, the one waiting longest without a request
   * in progress is closed, or else the new one.
   */
  maxConnections: number;
  close(): Promise<void>;
}

/** How long the overview's hourly chart is reused (see reuse.ts). */
const CHART_REUSE_MS = 5_000;
/** How long one `/healthz` answer is reused: a client polling in a loop costs one check per second. */
const HEALTH_REUSE_MS = 1_000;

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy':
    'accelerometer=(), autoplay=(), camera=(), display-capture=(), fullscreen=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()',
};

/** Paths anyone who reaches the address may read: no personal data. */
const OPEN = new Set(['/healthz', '/metrics']);

const positiveInt = (v: unknown): number | undefined => (typeof v === 'string' ? wholeNumberIn(v, 1, Number.MAX_SAFE_INTEGER) : undefined);

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The server's connections as the app sees them: one whose answer is held (a wrong key's) is waiting, not working. */
interface Connections {
  /** `sock`'s answer is held from now; the function returned ends that. */
  held(sock: Socket): () => void;
}

function buildApp(
  opts: HttpOptions,
  serverFactory: (handler: RequestHandler) => Server = (h) => createServer(h),
  connections?: Connections,
): FastifyInstance {
  const app = Fastify({
    logger: false,
    routerOptions: { maxParamLength: 200 },
    bodyLimit: 1024,
    return503OnClosing: true,
    serverFactory: (handler: RequestHandler) => serverFactory(handler),
  });
  const clock = opts.clock ?? (() => new Date());
  const token = opts.token;
  const hosts = allowedHosts(opts.boundHost ?? '127.0.0.1', opts.hosts ?? []);
  const throttle = createThrottle(opts.throttle);
  const cookie = cookieValue(token);

  const refuse = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/html; charset=utf-8').send(body);
  /** A wrong key's 401, held as long as the client's earlier failures ask (access.ts). */
  const wrongKey = async (req: FastifyRequest, reply: FastifyReply) => {
    const holdMs = throttle.failed(req.socket.remoteAddress ?? '');
    if (holdMs > 0) {
      const release = connections?.held(req.socket);
      await new Promise((r) => setTimeout(r, holdMs));
      release?.();
    }
    return refuse(reply.header('www-authenticate', 'Bearer realm="cas-bdt"'), 401, signInPage(true));
  };

  app.addHook('onRequest', async (req, reply) => {
    reply.headers(SECURITY_HEADERS);
    const host = hostName(req.headers.host);
    if (host === undefined || !hosts.has(host)) {
      return reply
        .code(421)
        .type('text/plain; charset=utf-8')
        .send('421 Misdirected Request: this server does not answer to that Host name (see --http-host)\n');
    }
    const pathname = req.url.split('?', 1)[0]!;
    if (OPEN.has(pathname) || pathname === '/login') return;
    const given = credentialOf(req.headers, token);
    if (given === 'good') return;
    if (given === 'bad') return wrongKey(req, reply);
    return refuse(reply.header('www-authenticate', 'Bearer realm="cas-bdt"'), 401, signInPage(false));
  });

  const sendPage = (reply: FastifyReply, body: string | undefined, what: string) =>
    body === undefined
      ? reply
          .code(404)
          .type('text/html; charset=utf-8')
          .send(page('Not found', html`<p>${what} was not found.</p>`))
      : reply.type('text/html; charset=utf-8').send(body);

  // The link `cas-bdt console` prints: the key becomes an HttpOnly, SameSite=Strict cookie
  // (no script can read it, no other site's page can send it), then the overview.
  app.get<{ Querystring: { key?: string } }>('/login', async (req, reply) => {
    const key = typeof req.query.key === 'string' ? req.query.key : undefined;
    if (key === undefined || key === '') return refuse(reply, 401, signInPage(false));
    if (!sameSecret(key, token)) return wrongKey(req, reply);
    throttle.succeeded(req.socket.remoteAddress ?? '');
    return reply.code(303).header('set-cookie', `${COOKIE}=${cookie}; Path=/; HttpOnly; SameSite=Strict`).header('location', '/').send();
  });

  const health = reuseFor(HEALTH_REUSE_MS, () => checkHealth(opts.db, opts.rootDir, opts.live, opts.storeTimeoutMs ?? 2000));
  app.get('/healthz', async (_req, reply) => {
    const h = await health();
    reply.code(h.status === 'ok' ? 200 : 503).type('application/json; charset=utf-8');
    return h;
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
    return sendPage(reply, await submissionsPage(opts.db, { before, licence }), 'The list');
  });

  app.get<{ Params: { id: string }; Querystring: { page?: string } }>('/submissions/:id', async (req, reply) => {
    const id = positiveInt(req.params.id);
    const pageNo = Math.min(1_000_000, positiveInt(req.query.page) ?? 1);
    return sendPage(reply, id ? await submissionPage(opts.db, id, pageNo) : undefined, 'That submission');
  });

  app.get<{ Querystring: { q?: string } }>('/cas', async (req, reply) => {
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 100) : '';
    return sendPage(reply, await casSearchPage(opts.db, q), 'The page');
  });

  app.get<{ Querystring: { offset?: string; sponsor?: string } }>('/exports', async (req, reply) => {
    const licence = typeof req.query.sponsor === 'string' && /^[A-Z0-9]{8}[0-9X]$/.test(req.query.sponsor) ? req.query.sponsor : undefined;
    return sendPage(reply, await exportsPage(opts.db, { licence, offset: positiveInt(req.query.offset) }), 'The page');
  });

  app.get<{ Params: { id: string } }>('/cas/:id', async (req, reply) => {
    const id = positiveInt(req.params.id);
    return sendPage(reply, id ? await casPage(opts.db, id) : undefined, 'That CAS');
  });

  // A sponsor's page (CAS that need action, counts by status) and its CAS by status.
  const licenceOf = (v: unknown) => (typeof v === 'string' && /^[A-Z0-9]{8}[0-9X]$/.test(v) ? v : undefined);
  app.get<{ Params: { licence: string } }>('/sponsors/:licence', async (req, reply) => {
    const licence = licenceOf(req.params.licence);
    return sendPage(reply, licence ? await sponsorPage(opts.db, licence) : undefined, 'That sponsor');
  });

  app.get<{ Params: { licence: string }; Querystring: { status?: string; before?: string } }>(
    '/sponsors/:licence/cas',
    async (req, reply) => {
      const licence = licenceOf(req.params.licence);
      const status = CAS_STATUSES.find((st) => st === req.query.status) ?? 'READY_TO_GO';
      const before = positiveInt(req.query.before);
      return sendPage(reply, licence ? await casStatusPage(opts.db, { licence, status, before }) : undefined, 'That sponsor');
    },
  );

  app.get<{ Params: { id: string } }>('/cas/:id/statement.pdf', async (req, reply) => {
    if (!(await sendStatement(opts.db, positiveInt(req.params.id), reply))) return sendPage(reply, undefined, 'That CAS');
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
  const limits: HttpLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  let server: Server | undefined;
  /** The most connections held at once (set from the descriptor limit once listening, and followed). */
  let cap = limits.maxConnections;
  // Connections that hold a slot while nothing is being done for them, oldest first
  // (insertion order): silent since they opened (`fresh`), kept alive between requests
  // since their last response (`idle`), or whose answer is held (`held`: a wrong key's).
  const fresh = new Map<Socket, number>();
  const idle = new Map<Socket, number>();
  const held = new Map<Socket, number>();
  const connections: Connections = {
    held: (sock) => {
      held.set(sock, Date.now());
      return () => held.delete(sock);
    },
  };
  const app = buildApp(
    { ...opts, boundHost: address.host },
    (handler) => {
      server = createServer(
        {
          headersTimeout: limits.headersTimeoutMs,
          requestTimeout: limits.requestTimeoutMs,
          keepAliveTimeout: limits.keepAliveTimeoutMs,
          // How often the timeouts above are enforced (Node's default is 30 s).
          connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
          maxHeaderSize: 16 * 1024,
        },
        handler,
      );
      server.setTimeout(limits.idleTimeoutMs);
      server.maxRequestsPerSocket = 1000;
      const open = new Set<Socket>();
      /** The connection of `fresh`, `idle` or `held` that has waited longest, other than `sock`. */
      const longestWaiting = (sock: Socket): Socket | undefined => {
        let oldest: [Socket, number] | undefined;
        for (const m of [fresh, idle, held])
          for (const entry of m) {
            if (entry[0] === sock) continue;
            if (!oldest || entry[1] < oldest[1]) oldest = entry;
            break;
          }
        return oldest?.[0];
      };
      server.on('connection', (sock: Socket) => {
        open.add(sock);
        fresh.set(sock, Date.now());
        sock.once('close', () => {
          open.delete(sock);
          fresh.delete(sock);
          idle.delete(sock);
          held.delete(sock);
        });
        // Over the cap, the connection that has waited longest with nothing being done for it
        // makes room, so that connections held open by another local account cannot keep a
        // monitor from /healthz; with none such, the new one is closed. A request being
        // answered is never cut.
        if (open.size > cap) (longestWaiting(sock) ?? sock).destroy();
      });
      server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        const sock = req.socket;
        fresh.delete(sock);
        idle.delete(sock);
        res.once('finish', () => {
          if (!sock.destroyed) idle.set(sock, Date.now());
        });
      });
      // A connection that never completes a request's headers: Node's headers timeout answers
      // 408 to one that sent part of them, but one that sends nothing at all (half-open) is
      // kept whatever the socket timeout (seen with Node 20 once other connections were
      // timed out). Closed here once it is as old as the headers timeout.
      const sweep = setInterval(() => {
        const now = Date.now();
        // Oldest first (insertion order): stop at the first one still young.
        for (const [sock, at] of fresh) {
          if (now - at < limits.headersTimeoutMs) break;
          fresh.delete(sock);
          sock.destroy();
        }
      }, 500);
      sweep.unref();
      server.on('close', () => clearInterval(sweep));
      return server;
    },
    connections,
  );
  const limit = connectionLimit(limits);
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
  const s = server!;
  // Node closes a connection beyond its own cap as it arrives, before it can make room
  // for it (see 'connection' above): one more than ours.
  cap = limit.current();
  s.maxConnections = cap + 1;
  // The descriptor limit can be lowered while the service runs (prlimit): follow it.
  const follow = setInterval(() => {
    const now = limit.current();
    if (now === cap) return;
    cap = now;
    s.maxConnections = cap + 1;
    opts.log.info(
      { maxConnections: now, descriptorLimit: limit.descriptors },
      'HTTP: the descriptor limit changed; connections capped anew',
    );
  }, limits.recheckMs);
  follow.unref();
  s.on('close', () => clearInterval(follow));
  const a = s.address();
  const port = a && typeof a === 'object' ? a.port : address.port;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const url = `http://${host}:${port}`;
  opts.log.info(
    { url, maxConnections: cap, descriptorLimit: limit.descriptors },
    'HTTP: the console (token needed), /healthz and /metrics',
  );
  return {
    url,
    get maxConnections() {
      return cap;
    },
    close: async () => {
      clearInterval(follow);
      const closing = app.close();
      // Keep-alive and slow connections would hold close() up to their timeouts.
      s.closeAllConnections();
      await closing;
    },
  };
}
