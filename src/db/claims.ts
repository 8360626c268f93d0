/**
 * Claims on inbox files (the watch service's exactly-once guarantee, see `fileClaims`).
 *
 * Every running service holds a session-level advisory lock (LIVENESS_LOCK_CLASS, key) on
 * a dedicated connection; its key is the `owner` of its claims. The lock disappears with
 * the process (kill -9 closes its connections), so a claim whose owner's lock is free is
 * taken over at once; a lease covers an owner that is alive but stuck. A takeover changes
 * `owner`, and every later step of the old owner is conditional on still being it, so the
 * old owner cannot store a second submission for the file (`tieSubmission` fails and its
 * transaction rolls back).
 */
import { and, eq, gt, ne, sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.ts';
import { CasBdtError } from '../errors.ts';
import { fileClaims } from './schema.ts';
import { jsonParam, rowsOf } from './sql-util.ts';

export type ClaimRow = typeof fileClaims.$inferSelect;

/** First key of the two-key advisory locks that mark live service instances. */
const LIVENESS_LOCK_CLASS = 727_103;

/** The claim was taken over by another instance (its lease ran out or it looked dead). */
const leaseEnd = (leaseMs: number) => sql`now() + ${leaseMs} * interval '1 millisecond'`;

/** The 'claim-lost' CasBdtError of these claims: another instance took them over. */
export const claimLost = (claimIds: number[]): CasBdtError =>
  new CasBdtError(
    'claim-lost',
    claimIds.length === 1
      ? `claim ${claimIds[0]} was taken over by another instance`
      : `claims ${claimIds.join(', ')} were taken over by another instance`,
  );

/** True when the owner's liveness lock is held by some session of this database. */
export const ownerAlive = (owner: SQL | number) => sql`exists (
  select 1 from pg_locks l
  where l.locktype = 'advisory' and l.granted and l.objsubid = 2
    and l.database = (select oid from pg_database where datname = current_database())
    and l.classid::bigint = ${LIVENESS_LOCK_CLASS} and l.objid::bigint = ${owner})`;

/** Claims another instance may take: owner gone or lease over. */
const takeable = sql`(${fileClaims.leaseUntil} < now() or not ${ownerAlive(sql`${fileClaims.owner}`)})`;

/** Takes a fresh instance key and holds its liveness lock on `session` (a dedicated connection). */
export async function acquireInstanceKey(session: Db): Promise<number> {
  for (;;) {
    const key = 1 + Math.floor(Math.random() * 0x7ffffffe);
    const [row] = await rowsOf<{ ok: boolean }>(session, sql`select pg_try_advisory_lock(${LIVENESS_LOCK_CLASS}::int, ${key}::int) as ok`);
    if (row?.ok) return key;
  }
}

/** True while this session still holds the key's lock (false after a reconnect). */
export async function holdsInstanceKey(session: Db, key: number): Promise<boolean> {
  const [row] = await rowsOf<{ ok: boolean }>(
    session,
    sql`select exists (select 1 from pg_locks l where l.locktype = 'advisory' and l.granted and l.objsubid = 2
          and l.classid::bigint = ${LIVENESS_LOCK_CLASS} and l.objid::bigint = ${key} and l.pid = pg_backend_pid()) as ok`,
  );
  return Boolean(row?.ok);
}

/** Takes the key's lock again (after the dedicated connection was re-established). */
export async function relockInstanceKey(session: Db, key: number): Promise<boolean> {
  const [row] = await rowsOf<{ ok: boolean }>(session, sql`select pg_try_advisory_lock(${LIVENESS_LOCK_CLASS}::int, ${key}::int) as ok`);
  return Boolean(row?.ok);
}

export async function releaseInstanceKey(session: Db, key: number): Promise<void> {
  await session.execute(sql`select pg_advisory_unlock(${LIVENESS_LOCK_CLASS}::int, ${key}::int)`);
}

/** True when another live instance is working on a file of this name (cheap check before reading it). */
export async function busyElsewhere(db: Db, licence: string, fileName: string, me: number): Promise<boolean> {
  const rows = await db
    .select({ id: fileClaims.id })
    .from(fileClaims)
    .where(
      and(
        eq(fileClaims.sponsorLicenceNumber, licence),
        eq(fileClaims.fileName, fileName),
        ne(fileClaims.state, 'done'),
        ne(fileClaims.owner, me),
        sql`not ${takeable}`,
      ),
    )
    .limit(1);
  return rows.length > 0;
}

interface ClaimRequest {
  licence: string;
  fileName: string;
  sha256: string;
  size: number;
  owner: number;
  leaseMs: number;
}

/**
 * Claims the file for `owner`: a new claim, our own open one, or a takeable one of
 * another instance. `mine: false` means another live instance holds it.
 */
export async function claimFile(db: Db, r: ClaimRequest): Promise<{ claim: ClaimRow; mine: boolean } | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const [inserted] = await claimNewFiles(db, [r]);
    if (inserted) return { claim: inserted, mine: true };

    const [open] = await db
      .select()
      .from(fileClaims)
      .where(
        and(
          eq(fileClaims.sponsorLicenceNumber, r.licence),
          eq(fileClaims.fileName, r.fileName),
          eq(fileClaims.sha256, r.sha256),
          ne(fileClaims.state, 'done'),
        ),
      );
    if (!open) continue; // finished in between: claim afresh
    if (open.owner === r.owner) return { claim: open, mine: true };
    const taken = await takeOver(db, open.id, r.owner, r.leaseMs);
    if (taken) return { claim: taken, mine: true };
    return { claim: open, mine: false };
  }
  return undefined;
}

/**
 * New claims for `owner` on several files of one sponsor, in one statement. A file that
 * has an open claim already (this instance's, or another's) is not claimed here: its
 * entry is undefined, and claimFile settles it alone.
 */
export async function claimNewFiles(db: Db, rs: ClaimRequest[]): Promise<(ClaimRow | undefined)[]> {
  if (rs.length === 0) return [];
  const inserted = await db
    .insert(fileClaims)
    .values(
      rs.map((r) => ({
        sponsorLicenceNumber: r.licence,
        fileName: r.fileName,
        sha256: r.sha256,
        sizeBytes: r.size,
        owner: r.owner,
        leaseUntil: leaseEnd(r.leaseMs),
        state: 'claimed' as const,
      })),
    )
    .onConflictDoNothing({
      target: [fileClaims.sponsorLicenceNumber, fileClaims.fileName, fileClaims.sha256],
      where: sql`state <> 'done'`,
    })
    .returning();
  const key = (licence: string, fileName: string, sha256: string) => JSON.stringify([licence, fileName, sha256]);
  const byKey = new Map(inserted.map((c) => [key(c.sponsorLicenceNumber, c.fileName, c.sha256), c]));
  return rs.map((r) => byKey.get(key(r.licence, r.fileName, r.sha256)));
}

/** Takes over an open claim whose owner is gone or whose lease ran out. */
export async function takeOver(db: Db, id: number, me: number, leaseMs: number): Promise<ClaimRow | undefined> {
  const [row] = await db
    .update(fileClaims)
    .set({ owner: me, leaseUntil: leaseEnd(leaseMs), updatedAt: sql`now()` })
    .where(and(eq(fileClaims.id, id), ne(fileClaims.state, 'done'), ne(fileClaims.owner, me), takeable))
    .returning();
  return row;
}

/**
 * Open claims of other instances that may be taken over (the restart reconciliation),
 * in id order from `afterId`, a page at a time.
 */
export async function takeableClaims(db: Db, me: number, limit = 100, afterId = 0): Promise<ClaimRow[]> {
  return db
    .select()
    .from(fileClaims)
    .where(and(ne(fileClaims.state, 'done'), ne(fileClaims.owner, me), gt(fileClaims.id, afterId), takeable))
    .orderBy(fileClaims.id)
    .limit(limit);
}

/** This instance's own committed but unfinished claims (a result or move that failed and has no file left to retry it), paged like `takeableClaims`. */
export async function ownStoredClaims(db: Db, me: number, limit = 100, afterId = 0): Promise<ClaimRow[]> {
  return db
    .select()
    .from(fileClaims)
    .where(and(eq(fileClaims.state, 'stored'), eq(fileClaims.owner, me), gt(fileClaims.id, afterId)))
    .orderBy(fileClaims.id)
    .limit(limit);
}

/**
 * Inside the submission's transaction: the claim now points at the stored submission.
 * With `leaseMs` its lease is renewed too (the commit is then the owner check for the
 * result write that follows at once). Throws a 'claim-lost' CasBdtError (rolling the transaction
 * back) when the claim is no longer ours.
 */
export async function tieSubmission(tx: Db, claimId: number, me: number, submissionId: number, leaseMs?: number): Promise<void> {
  await tieSubmissions(tx, me, [{ claimId, submissionId }], leaseMs);
}

/**
 * tieSubmission for several claims (a group's, at the end of its transaction) in one
 * statement; throws 'claim-lost', tying none, unless every one was still this instance's
 * open claim.
 */
export async function tieSubmissions(
  tx: Db,
  me: number,
  ties: { claimId: number; submissionId: number }[],
  leaseMs?: number,
): Promise<void> {
  if (ties.length === 0) return;
  const lease = leaseMs === undefined ? sql`f.lease_until` : leaseEnd(leaseMs);
  const tied = await rowsOf<{ id: number | string }>(
    tx,
    sql`with v as (select * from jsonb_to_recordset(${jsonParam(ties.map((t) => ({ c: t.claimId, s: t.submissionId })))}) as v(c bigint, s bigint))
        update file_claims f set state = 'stored', submission_id = v.s, lease_until = ${lease}, updated_at = now()
        from v where f.id = v.c and f.owner = ${me} and f.state = 'claimed'
        returning f.id`,
  );
  if (tied.length !== ties.length) {
    const ours = new Set(tied.map((r) => Number(r.id)));
    throw claimLost(ties.filter((t) => !ours.has(t.claimId)).map((t) => t.claimId));
  }
}

/** Extends the lease of every open claim of this instance; returns how many. */
export async function renewLeases(db: Db, me: number, leaseMs: number): Promise<number> {
  const rows = await db
    .update(fileClaims)
    .set({ leaseUntil: leaseEnd(leaseMs) })
    .where(and(eq(fileClaims.owner, me), ne(fileClaims.state, 'done')))
    .returning({ id: fileClaims.id });
  return rows.length;
}

async function updateOwn(db: Db, claimId: number, me: number, set: Partial<typeof fileClaims.$inferInsert>): Promise<void> {
  const rows = await db
    .update(fileClaims)
    .set({ ...set, updatedAt: sql`now()` })
    .where(and(eq(fileClaims.id, claimId), eq(fileClaims.owner, me), ne(fileClaims.state, 'done')))
    .returning({ id: fileClaims.id });
  if (rows.length === 0) throw claimLost([claimId]);
}

/** Renews one claim's lease, failing when it is no longer ours (checked before each disk step). */
export const confirmClaim = (db: Db, claimId: number, me: number, leaseMs: number) =>
  updateOwn(db, claimId, me, { leaseUntil: leaseEnd(leaseMs) as unknown as Date });

/** Records where the input is about to be moved (before the rename, so a restart knows). */
export const setMovedTo = (db: Db, claimId: number, me: number, movedTo: string) => updateOwn(db, claimId, me, { movedTo });

/**
 * One statement for two records: the submission's result file (durable by now) and
 * where the input is about to be moved. The result is recorded whoever owns the claim
 * (it was written and is durable); the destination only while the claim is ours, else
 * a 'claim-lost' CasBdtError, and nothing is moved.
 */
export async function setResultAndMovedTo(
  db: Db,
  claimId: number,
  me: number,
  result: { submissionId: number; resultFile: string },
  movedTo: string,
): Promise<void> {
  const ours = await setResultsAndMovedTo(db, me, [{ claimId, ...result, movedTo }]);
  if (!ours.has(claimId)) throw claimLost([claimId]);
}

/** One file's records for setResultsAndMovedTo. */
export interface ResultAndMove {
  claimId: number;
  submissionId: number;
  resultFile: string;
  movedTo: string;
}

/**
 * setResultAndMovedTo for several files (a group's) in one statement: every result is
 * recorded, each destination only while its claim is ours. Returns the claim ids whose
 * destination was recorded; for the others the caller moves nothing.
 */
export async function setResultsAndMovedTo(db: Db, me: number, files: ResultAndMove[]): Promise<Set<number>> {
  if (files.length === 0) return new Set();
  const rows = files.map((f) => ({ c: f.claimId, s: f.submissionId, r: f.resultFile, m: f.movedTo }));
  // Written in full: a data-modifying WITH runs to completion whatever the outer statement does.
  const ours = await rowsOf<{ id: number | string }>(
    db,
    sql`with v as (select * from jsonb_to_recordset(${jsonParam(rows)}) as v(c bigint, s bigint, r text, m text)),
        result as (
          update submissions s set result_file = v.r, summary = jsonb_set(s.summary, '{resultFile}', to_jsonb(v.r))
          from v where s.id = v.s returning s.id)
        update file_claims f set moved_to = v.m, updated_at = now()
        from v where f.id = v.c and f.owner = ${me} and f.state <> 'done'
        returning f.id`,
  );
  return new Set(ours.map((r) => Number(r.id)));
}

/** The file is finished: result written and input moved (or gone). */
export const markDone = (db: Db, claimId: number, me: number) => updateOwn(db, claimId, me, { state: 'done' });

/** Several files are finished (markDone in one statement); returns the ids still ours, which are now done. */
export async function markAllDone(db: Db, claimIds: number[], me: number): Promise<Set<number>> {
  if (claimIds.length === 0) return new Set();
  const rows = await db
    .update(fileClaims)
    .set({ state: 'done', updatedAt: sql`now()` })
    // One parameter whatever the number of files: one statement, prepared once.
    .where(
      and(
        sql`${fileClaims.id} in (select value::bigint from jsonb_array_elements_text(${jsonParam(claimIds)}))`,
        eq(fileClaims.owner, me),
        ne(fileClaims.state, 'done'),
      ),
    )
    .returning({ id: fileClaims.id });
  return new Set(rows.map((r) => r.id));
}

/** Gives up a claim that stored nothing (the file changed or vanished before processing). */
export async function releaseClaim(db: Db, claimId: number, me: number): Promise<void> {
  await db.delete(fileClaims).where(and(eq(fileClaims.id, claimId), eq(fileClaims.owner, me), eq(fileClaims.state, 'claimed')));
}

export async function listClaims(db: Db): Promise<ClaimRow[]> {
  return db.select().from(fileClaims).orderBy(fileClaims.id);
}

/**
 * Inside a zip entry's transaction: the entry at `index` (central-directory order) is
 * stored as `submissionId`. Only while the claim is ours and still open, else a
 * 'claim-lost' CasBdtError rolls the entry back (an old owner stores no entry after a takeover).
 */
export async function recordEntry(tx: Db, claimId: number, me: number, index: number, sha256: string, submissionId: number): Promise<void> {
  const entry = { [String(index)]: { sha256, submissionId } };
  const rows = await tx
    .update(fileClaims)
    .set({ entries: sql`coalesce(${fileClaims.entries}, '{}'::jsonb) || ${JSON.stringify(entry)}::jsonb`, updatedAt: sql`now()` })
    .where(and(eq(fileClaims.id, claimId), eq(fileClaims.owner, me), eq(fileClaims.state, 'claimed')))
    .returning({ id: fileClaims.id });
  if (rows.length === 0) throw claimLost([claimId]);
}
