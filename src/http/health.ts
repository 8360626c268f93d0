/**
 * `/healthz`: ok when the store answers a query within the deadline and every sponsor's
 * folders are usable (present, real directories inside the root, writable). Checked
 * afresh at each request, so a supervisor or a load balancer sees a removed inbox at once.
 */
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../ops/store.ts';
import { listSponsors, pingStore } from '../ops/queries.ts';
import { describeError } from '../errors.ts';
import { checkSponsorFolders } from '../inbox/folder-health.ts';
import { SPONSOR_FOLDERS } from '../inbox/layout.ts';
import type { LiveState } from './metrics.ts';

interface Health {
  status: 'ok' | 'unhealthy';
  store: { ok: boolean; ms: number; error?: string };
  sponsors: { total: number; unhealthy: { licence: string; reasons: string[] }[] };
  queue: ReturnType<LiveState['stats']>;
  reasons: string[];
}

export async function checkHealth(db: Db, rootDir: string, live: LiveState, storeTimeoutMs: number): Promise<Health> {
  const reasons: string[] = [];
  const t0 = performance.now();
  let store: Health['store'];
  try {
    await pingStore(db, storeTimeoutMs);
    store = { ok: true, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    const d = describeError(err);
    store = { ok: false, ms: Math.round(performance.now() - t0), error: d.code ? `${d.code}: ${d.message}` : d.message };
    reasons.push(`store: ${store.error}`);
  }
  // With the store down, the sponsors the service watches are still checked.
  let licences: string[];
  try {
    licences = store.ok ? (await listSponsors(db)).map((s) => s.licenceNumber) : live.sponsors();
  } catch {
    licences = live.sponsors();
  }
  const bad = new Map<string, string[]>();
  await Promise.all(
    licences.map(async (licence) => {
      const h = await checkSponsorFolders(rootDir, licence);
      const why = h.ok ? [] : [...h.reasons];
      if (h.ok) {
        for (const f of SPONSOR_FOLDERS) {
          await access(path.join(rootDir, licence, f), constants.W_OK | constants.X_OK).catch((err: NodeJS.ErrnoException) =>
            why.push(`${licence}/${f} is not writable (${err.code ?? 'error'})`),
          );
        }
      }
      if (why.length) bad.set(licence, why);
    }),
  );
  for (const u of live.unhealthySponsors()) if (!bad.has(u.licence) && !licences.includes(u.licence)) bad.set(u.licence, u.reasons);
  const unhealthy = [...bad].map(([licence, r]) => ({ licence, reasons: r })).sort((a, b) => a.licence.localeCompare(b.licence));
  for (const u of unhealthy) reasons.push(...u.reasons);
  const disk = live.diskLow();
  if (disk) reasons.push(disk);
  return {
    status: reasons.length ? 'unhealthy' : 'ok',
    store,
    sponsors: { total: licences.length, unhealthy },
    queue: live.stats(),
    reasons,
  };
}
