/**
 * A running service with its HTTP surface on a test store, with files processed: one
 * accepted upload (a hostile family name, a refused record), one schema-invalid file.
 */
import { renameSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../../src/log.ts';
import { createMetrics, type Metrics } from '../../src/http/metrics.ts';
import { startHttp, type HttpServer } from '../../src/http/server.ts';
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
  get(pathname: string, headers?: Record<string, string>): Promise<{ status: number; type: string; body: string }>;
  close(): Promise<void>;
}

export async function startHttpScenario(kind: StoreKind, opts: { token?: string } = {}): Promise<HttpScenario> {
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
    { db: t.store.db, rootDir: root, live: svc.service, metrics, token: opts.token, log },
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
    get: async (pathname, headers = {}) => {
      const res = await fetch(server.url + pathname, { headers });
      return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
    },
    close: async () => {
      await server.close();
      await svc.stop();
      await t.cleanup();
    },
  };
}

/** Moves a sponsor's inbox away and returns the function that puts it back. */
export function removeInbox(root: string, licence: string): () => void {
  const inbox = path.join(root, licence, 'inbox');
  const aside = path.join(root, `${licence}-inbox-aside`);
  renameSync(inbox, aside);
  return () => renameSync(aside, inbox);
}
