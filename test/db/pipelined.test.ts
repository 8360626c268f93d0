/**
 * The PostgreSQL store's statements: prepared on their connection (one round trip each
 * once prepared, drizzle's own choice notwithstanding, and planned for its values at every
 * run), pipelined in a transaction, and
 * a failed transaction throws its first statement's error, not the abort of one behind it.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { allowGenericPlans, rowsOf } from '../../src/db/sql-util.ts';
import type { Db } from '../../src/db/client.ts';
import { classifyFault } from '../../src/service/faults.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

describe.skipIf(!STORE_KINDS.includes('postgres'))('statements on PostgreSQL', () => {
  const t = suiteStore('postgres');

  it('prepares a statement with parameters once on its connection and runs it again prepared', async () => {
    const prepared = await t.store.db.transaction(async (tx) => {
      for (const n of [1, 2, 3]) await tx.execute(sql`select ${n}::int as pipelined_marker`);
      return rowsOf<{ n: number }>(
        tx,
        sql`select count(*)::int as n from pg_prepared_statements where statement like ${'%pipelined_marker%'} and not from_sql`,
      );
    });
    expect(prepared[0]!.n).toBe(1);
  });

  it('plans every run of a prepared statement for its values (no generic plan)', async () => {
    const rows = await t.store.db.transaction((tx) =>
      rowsOf<{ mode: string }>(tx, sql`select current_setting(${'plan_cache_mode'}) as mode`),
    );
    expect(rows[0]!.mode).toBe('force_custom_plan');
  });

  /** Runs a marked statement `runs` times in one transaction; how many of its runs had a generic plan. */
  const genericRuns = (marker: string, runs: number, before: (tx: Db) => void) =>
    t.store.db.transaction(async (tx) => {
      before(tx);
      for (let n = 0; n < runs; n++) await tx.execute(sql`select ${n}::int as ${sql.raw(marker)}`);
      const [row] = await rowsOf<{ generic: number; custom: number }>(
        tx,
        sql`select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where statement like ${`%${marker}%`} and not from_sql`,
      );
      return row;
    });

  it('plans a statement once for the rest of a transaction that allows generic plans (a group of files), and only there', async () => {
    const allowed = await genericRuns('generic_allowed_marker', 8, allowGenericPlans);
    expect(allowed!.custom).toBe(5);
    expect(allowed!.generic).toBe(3);
    const settingAfter = await t.store.db.transaction((tx) =>
      rowsOf<{ mode: string }>(tx, sql`select current_setting(${'plan_cache_mode'}) as mode`),
    );
    expect(settingAfter[0]!.mode).toBe('force_custom_plan');
    const forced = await genericRuns('generic_forced_marker', 8, () => {});
    expect(forced).toEqual({ generic: 0, custom: 8 });
  });

  it('throws the first error of a transaction whatever statement behind it was awaited', async () => {
    const err = await t.store.db
      .transaction(async (tx) => {
        const first = tx.execute(sql`select 1 / ${0}::int`);
        first.catch(() => {});
        // Sent behind the first, before its answer: it fails with 25P02 (the transaction is aborted).
        await tx.execute(sql`select ${1}::int`);
      })
      .then(
        () => expect.fail('the transaction should have failed'),
        (e: unknown) => e,
      );
    expect(classifyFault(err)).toEqual({ kind: 'file', code: '22012' });
  });
});
