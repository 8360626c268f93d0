/**
 * The short version of `npm run chaos`: its own throwaway PostgreSQL cluster, two `watch`
 * instances on one tree, a few files (some hostile), a few SIGKILLs each landing on an
 * instance inside a file's transaction, and one PostgreSQL restart (fast shutdown)
 * while a file is in flight. Every figure of loss or duplication must be 0.
 */
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../chaos/cluster.ts';
import { checkRun } from '../../chaos/checks.ts';
import { formatLine, midFile, passed } from '../../chaos/common.ts';
import type { Input } from '../../chaos/tree.ts';
import { openStore } from '../../src/db/client.ts';
import { killsScenario } from '../../chaos/scenarios/kills.ts';
import { tempDir } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

describe.skipIf(!STORE_KINDS.includes('postgres'))('chaos, short', () => {
  let cluster: Cluster;
  let work: string;
  beforeAll(async () => {
    work = tempDir('cas-bdt-chaos-short-');
    cluster = await startCluster({ maxConnections: 60 });
  });
  afterAll(async () => {
    await cluster?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it('kills and a database restart lose and double nothing', async () => {
    let restarted = false;
    const r = await killsScenario({
      adminUrl: cluster.url,
      work,
      instances: 2,
      sponsors: 2,
      files: 16,
      maxRecords: 150,
      hostileEvery: 5,
      // A truncated file waits a minute for its writer: not in the short version.
      hostileKinds: ['schema', 'entity-bomb', 'replay', 'other-sponsor'],
      kills: 3,
      // Groups of four: 16 files make several transactions, so a file is in flight for each kill.
      watchExtra: ['--group-files', '4'],
      killEveryMs: 0,
      aim: 'mid-file',
      seed: 14,
      timeoutMs: 60_000,
      midway: async (kills, fleet, url) => {
        if (kills !== 2) return;
        // Both instances up, one inside a file's transaction: then the server goes down.
        await waitFor(() => fleet.ready(), { timeoutMs: 60_000, what: 'both instances ready' });
        await midFile(url, () => fleet.members.flatMap((m) => m.key() ?? []));
        await cluster.restart();
        restarted = true;
      },
    });
    expect(restarted).toBe(true);
    expect(r.extra.kills).toBe(3);
    // The backlog is there before the instances start, so files go in groups: a kill lands inside one.
    expect(r.extra['kills inside a group']).toBeGreaterThanOrEqual(1);
    expect(passed(r), [formatLine(r), ...r.figures.problems, ...r.failures].join('\n')).toBe(true);
    expect(r.figures.processed).toBe(16);

    // The checks see what they exist to see: a doubled result, a lost input, an allocation
    // that drifted (a CAS number given twice the database's unique index refuses).
    const { root, url, inputs } = r.run!;
    const [a, b] = inputs.filter((i) => !i.hostile && i.records > 0) as [Input, Input];
    const outbox = path.join(root, a.licence, 'outbox');
    copyFileSync(
      path.join(outbox, a.name.replace(/\.xml$/, '.result.xml')),
      path.join(outbox, a.name.replace(/\.xml$/, '.999.result.xml')),
    );
    const archive = path.join(root, b.licence, 'archive');
    rmSync(
      path.join(
        archive,
        readdirSync(archive).find((n) => n.endsWith(`_${b.name}`))!,
      ),
    );
    const store = await openStore({ databaseUrl: url, dataDir: work });
    try {
      await store.db.execute(sql`update sponsors set allocation_used = allocation_used + 2 where licence_number = ${a.licence}`);
      const f = await checkRun(store.db, root, inputs);
      expect({ notOneResult: f.notOneResult, inputsLost: f.inputsLost, drift: f.drift }).toEqual({
        notOneResult: 1,
        inputsLost: 1,
        drift: 2,
      });
    } finally {
      await store.close();
    }
  }, 150_000);
});
