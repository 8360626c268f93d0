/**
 * A backlog of one sponsor's small files, handled as a group (group commit). The files are
 * read side by side and claimed in one statement, validated two at a time on the engine
 * threads (which serve every sponsor), and stored in one transaction: each file in a
 * savepoint of its own (the pipeline's transactions nest, see PipelineDeps.nest), so each
 * is its own submission with its own outcome, and one file's refusal rolls back only what
 * that file wrote; the claims are tied to their submissions in one statement before the
 * commit. The transaction locks the sponsor before its first file, outside the files'
 * savepoints; each file's look-ups go out with its first statements (as a file's alone
 * do), and a file's last writes are awaited only before the commit, the next file's
 * statements going out behind them (PipelineDeps.lateWrites): a little over one round trip
 * per file (StoreContext.pipelined). Then their results are
 * written and their inputs moved side by side, the results and destinations recorded in
 * one statement, and the claims marked done in one more. Each file keeps the records of
 * the single path (finish.ts) in the same order, so a crash at any point is recovered file
 * by file as ever.
 *
 * Whatever is not a file's own refusal (a claim taken over, the database failing, a value
 * it cannot hold) rolls the whole group back; each of its files is then handled alone
 * (handleFile), which classifies a fault as ever. A file the group cannot take as it is
 * (a zip, a file with an open claim already) is handled alone too.
 */
import PQueue from 'p-queue';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import {
  claimLost,
  claimNewFiles,
  markAllDone,
  releaseClaim,
  setResultsAndMovedTo,
  tieSubmissions,
  type ClaimRow,
  type ResultAndMove,
} from '../db/claims.ts';
import { lockSponsor } from '../db/sponsors.ts';
import { allowGenericPlans, sendQuery } from '../db/sql-util.ts';
import { describeError, isCasBdtError } from '../errors.ts';
import { readCandidate, type ReadCandidate } from '../inbox/read.ts';
import { release } from '../inbox/read-file.ts';
import { regularFileIdentity, sameIdentity } from '../inbox/settle.ts';
import { isZip } from '../inbox/zip-reader.ts';
import type { Logger } from '../log.ts';
import { inspectAhead, processFile, type PipelineDeps, type Processed } from '../pipeline/process-file.ts';
import { fileKey, fileLog, type ServiceContext } from './context.ts';
import { finishStored, type Finished } from './finish.ts';
import { handleFile, logFinished, readVerdict, realInboxOf, storedSubmission } from './handle-file.ts';
import type { Candidate, GroupOutcome, RunResult } from './scheduler.ts';

/** A file of the group, read and (once claimed) with its claim. */
interface Member {
  /** Its place in the candidates. */
  at: number;
  c: Candidate;
  log: Logger;
  read: ReadCandidate;
}

type Claimed = Member & { claim: ClaimRow };

const settled = (p: Promise<RunResult>): Promise<GroupOutcome> =>
  p.then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );

/**
 * Handles `cs`, ready files of one sponsor (small, none refused for its name or set aside),
 * as one group; returns what became of each, in their order.
 */
export async function handleGroup(ctx: ServiceContext, cs: Candidate[]): Promise<GroupOutcome[]> {
  const out: (GroupOutcome | undefined)[] = cs.map(() => undefined);
  const mine: number[] = [];
  for (const [at, c] of cs.entries()) {
    const key = fileKey(c.licence, c.file.name);
    if (ctx.busyKeys.has(key)) out[at] = { result: { kind: 'busy' } };
    else {
      ctx.busyKeys.add(key);
      mine.push(at);
    }
  }
  let alone: number[] = [];
  try {
    alone = await readGroup(ctx, cs, mine, out);
  } catch (error) {
    for (const at of mine) out[at] ??= { error };
  } finally {
    for (const at of mine) ctx.busyKeys.delete(fileKey(cs[at]!.licence, cs[at]!.file.name));
  }
  // One sponsor's files go one after the other anyway (its lock).
  for (const at of alone) out[at] = await settled(handleFile(ctx, cs[at]!));
  return out.map((o) => o ?? { result: { kind: 'busy' } });
}

/** Reads the files side by side; returns those to be handled alone. */
async function readGroup(ctx: ServiceContext, cs: Candidate[], mine: number[], out: (GroupOutcome | undefined)[]): Promise<number[]> {
  const licence = cs[0]!.licence;
  const folders = await ctx.folders.checkResolved(licence);
  if (!folders.usable) {
    for (const at of mine) out[at] = { result: { kind: 'busy' } };
    return [];
  }
  const started = Date.now();
  const realInbox = await realInboxOf(ctx, licence, folders.realRoot);
  const reads = await Promise.all(
    mine.map((at) => {
      const c = cs[at]!;
      return readCandidate(c.file.fsPath, c.file.name, licence, ctx.maxFileBytes, ctx.clock(), realInbox).then(
        (read) => ({ at, read }),
        (error: unknown) => ({ at, error }),
      );
    }),
  );
  try {
    // Once more after the reads, as for a file alone: nothing read through a folder swapped meanwhile.
    if (!(await ctx.folders.check(licence))) {
      for (const at of mine) out[at] = { result: { kind: 'busy' } };
      return [];
    }
    const members: Member[] = [];
    const alone: number[] = [];
    for (const r of reads) {
      if ('error' in r) out[r.at] = { error: r.error };
      else if (!r.read) out[r.at] = { result: { kind: 'vanished' } };
      else {
        const c = cs[r.at]!;
        const log = fileLog(ctx, licence, c.file);
        const notNow = readVerdict(ctx, c, log, r.read, undefined);
        if (notNow) out[r.at] = { result: notNow };
        else if (r.read.file.open || (r.read.file.bytes && isZip(r.read.file.bytes))) alone.push(r.at);
        else members.push({ at: r.at, c, log, read: r.read });
      }
    }
    alone.push(...(await storeGroup(ctx, members, out, started)));
    return alone;
  } finally {
    await Promise.all(reads.map((r) => ('read' in r && r.read ? release(r.read.file) : undefined)));
  }
}

/** How many of a group's files are validated at once. */
const GROUP_VALIDATIONS = 2;

/** Claims, stores and finishes the members; returns those to be handled alone. */
async function storeGroup(ctx: ServiceContext, members: Member[], out: (GroupOutcome | undefined)[], started: number): Promise<number[]> {
  const { db, me } = ctx;
  if (members.length === 0) return [];
  const claims = await claimNewFiles(
    db,
    members.map((m) => ({
      licence: m.c.licence,
      fileName: m.c.file.name,
      sha256: m.read.file.sha256,
      size: m.read.file.size,
      owner: me,
      leaseMs: ctx.leaseMs,
    })),
  );
  const alone: number[] = [];
  const claimed: Claimed[] = [];
  for (const [k, m] of members.entries()) {
    const claim = claims[k];
    if (claim) claimed.push({ ...m, claim });
    else alone.push(m.at);
  }
  // Claimed, and the file still the one that was read (see handleRead).
  const here = await Promise.all(claimed.map((m) => regularFileIdentity(m.c.file.fsPath)));
  const toStore: Claimed[] = [];
  for (const [k, m] of claimed.entries()) {
    const now = here[k];
    if (now && sameIdentity(now, m.read.identity)) toStore.push(m);
    else {
      await releaseClaim(db, m.claim.id, me);
      out[m.at] = { result: now ? { kind: 'changed' } : { kind: 'vanished' } };
    }
  }
  if (toStore.length === 0) return alone;

  const base = { settings: { ...ctx.settings, maxFileBytes: ctx.maxFileBytes }, clock: ctx.clock, validate: ctx.validate };
  // Validated before the transaction, a few at a time: the engine threads serve every
  // sponsor, and another sponsor's file waits behind at most that many of this group's.
  const validations = new PQueue({ concurrency: GROUP_VALIDATIONS });
  const ahead = toStore.map((m) => validations.add(async () => inspectAhead({ ...base, db }, m.read.file)));
  await Promise.allSettled(ahead);
  let processed: Processed[];
  try {
    processed = await db.transaction(async (tx) => {
      const done: Processed[] = [];
      const nest = savepoints(tx);
      // Each of the group's statements runs once per file: planned once, not per file (a
      // third of the server's time on one-record files).
      allowGenericPlans(tx);
      // The sponsor's lock, held from here to the commit outside every file's savepoint (a
      // file rolled back to its savepoint would release a lock it had taken itself).
      await lockSponsor(tx, toStore[0]!.c.licence);
      // Each claim is tied to the submission its file stored last (a file refused after its
      // first attempt stores again), all in one statement before the commit.
      const ties = new Map<number, number>();
      // Each file's last writes, awaited before the commit: the next file's statements go out behind them.
      const late: Promise<unknown>[] = [];
      const lateWrites = (writes: Promise<unknown>) => {
        writes.catch(() => {});
        late.push(writes);
      };
      for (const [k, m] of toStore.entries()) {
        const deps: PipelineDeps = {
          ...base,
          db: tx,
          nest,
          lateWrites,
          onStored: async (_tx, submissionId) => void ties.set(m.claim.id, submissionId),
        };
        const inspected = await ahead[k];
        done.push(await processFile(deps, m.read.file, inspected ? Promise.resolve(inspected) : undefined));
        // The file's last writes are on their way to the driver through promise callbacks
        // alone; a tick runs once every queued promise callback has run, so they are queued
        // on the connection before the next file's savepoint (behind it, that file's refusal
        // would roll them back), and no answer is waited for.
        await new Promise<void>((resolve) => process.nextTick(resolve));
      }
      await Promise.all(late);
      if (ties.size !== toStore.length) throw new Error(`${toStore.length - ties.size} file(s) of the group stored no submission`);
      await tieSubmissions(
        tx,
        me,
        [...ties].map(([claimId, submissionId]) => ({ claimId, submissionId })),
        ctx.leaseMs,
      );
      return done;
    });
  } catch (err) {
    ctx
      .sponsorLog(toStore[0]!.c.licence)
      .warn({ files: toStore.length, err: describeError(err) }, 'a group of files could not be stored together; each is taken alone');
    return [...alone, ...toStore.map((m) => m.at)];
  }
  await finishGroup(ctx, toStore, processed, out, started);
  return alone;
}

/**
 * Each of a file's transactions as a savepoint of the group's. The savepoint is sent ahead
 * of the file's first statement without waiting for its answer (the connection runs them
 * in order), and released once the file is stored, so that there is one at a time.
 */
function savepoints(tx: Db): <T>(work: (tx: Db) => Promise<T>) => Promise<T> {
  // Awaited below; a failure shows in the file's own statements first.
  const send = (text: string) => sendQuery(tx, sql.raw(text));
  return async (work) => {
    const opened = send('savepoint file');
    let value;
    try {
      value = await work(tx);
      await opened;
    } catch (err) {
      await opened.catch(() => {});
      await send('rollback to savepoint file');
      throw err;
    }
    void send('release savepoint file');
    return value;
  };
}

/**
 * The group's results and destinations recorded in one statement (setResultsAndMovedTo):
 * each member's record waits until every member has either asked for its own or finished
 * without one (its input gone, a fault), so that the statement is sent once. A member
 * whose claim was taken over meanwhile gets the 'claim-lost' of a file alone.
 */
function groupRecorder(db: Db, me: number, members: number) {
  const waiting: { row: ResultAndMove; resolve: () => void; reject: (err: unknown) => void }[] = [];
  let arrived = 0;
  const flush = async () => {
    const batch = waiting.splice(0);
    try {
      const ours = await setResultsAndMovedTo(
        db,
        me,
        batch.map((b) => b.row),
      );
      for (const b of batch) {
        if (ours.has(b.row.claimId)) b.resolve();
        else b.reject(claimLost([b.row.claimId]));
      }
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  };
  const arrive = () => {
    if (++arrived === members) void flush();
  };
  return {
    member() {
      let recorded = false;
      return {
        record: (row: ResultAndMove) =>
          new Promise<void>((resolve, reject) => {
            recorded = true;
            waiting.push({ row, resolve, reject });
            arrive();
          }),
        done: () => {
          if (!recorded) arrive();
        },
      };
    },
  };
}

/** Results written and inputs moved side by side, their records made in one statement, then the claims marked done in one statement. */
async function finishGroup(
  ctx: ServiceContext,
  stored: Claimed[],
  processed: Processed[],
  out: (GroupOutcome | undefined)[],
  started: number,
): Promise<void> {
  const recorder = groupRecorder(ctx.db, ctx.me, stored.length);
  const finishing = await Promise.all(
    stored.map((m, k) => {
      const p = processed[k]!;
      const claim: ClaimRow = { ...m.claim, state: 'stored', submissionId: p.submissionId };
      const member = recorder.member();
      return finishStored(ctx, claim, {
        path: m.c.file.fsPath,
        identity: m.read.identity,
        submission: storedSubmission(m.read, p),
        leaveOpen: true,
        record: member.record,
      })
        .finally(member.done)
        .then(
          (finished): { finished: Finished } => ({ finished }),
          (error: unknown) => ({ error }),
        );
    }),
  );
  const finishedIds = stored.flatMap((m, k) => ('finished' in finishing[k]! ? [m.claim.id] : []));
  let done: Set<number>;
  try {
    done = await markAllDone(ctx.db, finishedIds, ctx.me);
  } catch (error) {
    for (const m of stored) out[m.at] = { error };
    return;
  }
  for (const [k, m] of stored.entries()) {
    const f = finishing[k]!;
    if ('error' in f && !isCasBdtError(f.error, 'claim-lost')) {
      out[m.at] = { error: f.error };
      continue;
    }
    if ('error' in f || !done.has(m.claim.id)) {
      // Taken over before its move was recorded (nothing moved) or after (the new owner finds it moved), as for a file alone.
      m.log.warn('another instance took this file over; leaving it to it');
      out[m.at] = { result: { kind: 'busy' } };
      continue;
    }
    const p = processed[k]!;
    logFinished(m.log, m.c, f.finished, {
      ms: Date.now() - started,
      recovered: false,
      notAssigned: p.notAssigned ?? 0,
      rejection: undefined,
      group: stored.length,
    });
    out[m.at] = { result: { kind: 'finished', summary: f.finished.submission.summary, statementsOwed: p.statementsOwed !== 0 } };
  }
}
