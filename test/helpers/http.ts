/**
 * A running service with its HTTP surface on a test store, with files processed: one
 * accepted upload (a hostile family name, a refused record), one schema-invalid file.
 */
import { renameSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../../src/log.ts';
import { createMetrics, type Metrics } from '../../src/http/metrics.ts';
import { startHttp, type HttpServer } from '../../src/http/server.ts';
import { newToken } from '../../src/http/token.ts';
import { casXml, uploadBytes } from './bdt.ts';
import { openTestStore, tempDir, type StoreKind, type TestStore } from './stores.ts';
import { drop, nextLicence, sponsor, startInProcess, waitProcessed, type InProcessService } from './watch.ts';

export const HOSTILE = '<script>alert("x")</script>';

export interface HttpScenario {
  t: TestStore;
  root: string;
  licence: string;
  svc: InProcessService;
  metrics: Metrics;
  server: HttpServer;
  logs: string[];
  /** ApplicantIDs of the accepted file: assigned, hostile name (assigned), refused. */
  applicants: { ok: string; hostile: string; refused: string };
  /** The console token the server asks for. */
  token: string;
  /** A request with the owner's bearer token (unless `headers` gives its own `authorization`). */
  get(pathname: string, headers?: Record<string, string>): Promise<{ status: number; type: string; body: string }>;
  /** A request with only `headers`: no credential unless given. */
  anonymous(pathname: string, headers?: Record<string, string>): Promise<{ status: number; type: string; body: string }>;
  close(): Promise<void>;
}

export async function startHttpScenario(kind: StoreKind, opts: { token?: string; hosts?: string[] } = {}): Promise<HttpScenario> {
  const token = opts.token ?? newToken();
  const t = await openTestStore(kind);
  const root = tempDir('cas-bdt-http-');
  const licence = await sponsor(t.store.db, nextLicence('H'), 10);
  const metrics = createMetrics();
  const svc = await startInProcess(t.store, root, { onFileProcessed: metrics.fileProcessed });
  metrics.attach(svc.service, t.store.db);
  const logs: string[] = [];
  const log = createLogger({ write: (l) => void logs.push(l), level: 'debug' });
  const server = await startHttp(
    { host: '127.0.0.1', port: 0 },
    { db: t.store.db, rootDir: root, live: svc.service, metrics, token, hosts: opts.hosts ?? [], log },
  );
  if (!server) throw new Error(`HTTP did not start: ${logs.join('')}`);
  const tag = licence.slice(-5);
  const applicants = { ok: `OK-${tag}`, hostile: `HX-${tag}`, refused: `RF-${tag}` };
  const inbox = path.join(root, licence, 'inbox');
  drop(
    inbox,
    'intake-good.xml',
    uploadBytes({
      licence,
      fileId: `GOOD-${tag}`,
      records: [
        casXml({ applicantId: applicants.ok, passport: `PA${tag}` }),
        casXml({ applicantId: applicants.hostile, familyName: HOSTILE, passport: `PB${tag}` }),
        casXml({ applicantId: applicants.refused, passport: `PC${tag}`, courseStart: '2028-09-20', courseEnd: '2027-06-30' }),
      ],
    }),
  );
  drop(
    inbox,
    'intake-bad.xml',
    Buffer.from(
      uploadBytes({ licence, fileId: `BAD-${tag}` })
        .toString('latin1')
        .replace('<Gender>2</Gender>', '<Gender>9</Gender>'),
      'latin1',
    ),
  );
  await waitProcessed(root, licence, ['intake-good.xml', 'intake-bad.xml']);
  return {
    t,
    root,
    licence,
    svc,
    metrics,
    server,
    logs,
    applicants,
    token,
    get: (pathname, headers = {}) => request(server.url + pathname, { authorization: `Bearer ${token}`, ...headers }),
    anonymous: (pathname, headers = {}) => request(server.url + pathname, headers),
    close: async () => {
      await server.close();
      await svc.stop();
      await t.cleanup();
    },
  };
}

async function request(url: string, headers: Record<string, string>): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** Moves a sponsor's inbox away and returns the function that puts it back. */
export function removeInbox(root: string, licence: string): () => void {
  const inbox = path.join(root, licence, 'inbox');
  const aside = path.join(root, `${licence}-inbox-aside`);
  renameSync(inbox, aside);
  return () => renameSync(aside, inbox);
}
