/**
 * `watch` stops on SIGTERM after a database outage and exits 0: the pools and sessions it
 * replaced while PostgreSQL was gone (a connection the driver opened for a pool already
 * ended) do not keep the stopped process alive. Its own throwaway cluster, stopped and
 * started again.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, freePort, type Cluster } from '../../chaos/cluster.ts';
import { scenarioDatabase } from '../../chaos/common.ts';
import { startWatch, type Instance } from '../../chaos/instances.ts';
import { watchArgs } from '../../chaos/scenarios/kills.ts';
import { addSponsors, inputPlan, licences } from '../../chaos/tree.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';

describe.skipIf(!STORE_KINDS.includes('postgres'))('watch stopped after a database outage', () => {
  let cluster: Cluster;
  let work: string;
  let w: Instance | undefined;
  beforeAll(async () => {
    work = tempDir('cas-bdt-outage-stop-');
    cluster = await startCluster({ maxConnections: 40 });
  });
  afterAll(async () => {
    w?.proc.kill('SIGKILL');
    await w?.exited;
    await cluster?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it('exits 0 on SIGTERM once the database is back', async () => {
    const { url, store } = await scenarioDatabase(cluster.url, 'outage_stop');
    const root = path.join(work, 'bdt');
    const sponsors = licences('STP', 1);
    await addSponsors(store.db, root, sponsors, 100_000).finally(() => store.close());
    const plan = inputPlan(root, { prefix: 's', sponsors, files: 20, maxRecords: 50, hostileEvery: 0, seed: 3 });
    while (plan.next());
    const port = await freePort();
    // A short lease: the liveness session is renewed, found stuck and replaced often.
    const inst = (w = startWatch(watchArgs(url, root, ['--http', `127.0.0.1:${port}`, '--lease-ms', '1500'])));
    await waitFor(() => inst.saw(/INFO\s+ready/), { timeoutMs: 90_000, what: 'ready' });
    await cluster.stop();
    // Down until files, the lease renewal and the health check have all met the outage.
    await waitFor(
      async () => {
        await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.arrayBuffer(),
          () => {},
        );
        return inst.saw(/could not renew claim leases/) && (inst.log().match(/ECONNREFUSED/g) ?? []).length >= 20;
      },
      { timeoutMs: 90_000, intervalMs: 300, what: 'the service retrying against a stopped server' },
    );
    await cluster.start();
    await waitFor(() => inst.saw(/claim leases renewed again/), { timeoutMs: 90_000, what: 'leases renewed after the outage' });
    inst.proc.kill('SIGTERM');
    const code = await Promise.race([
      inst.exited,
      waitFor(() => false, { timeoutMs: 90_000, what: 'the stopped service to exit' }).catch(() => 'still running'),
    ]);
    expect(code, inst.log().slice(-3000)).toBe(0);
    expect(inst.log()).toMatch(/INFO\s+stopped/);
  }, 240_000);
});
