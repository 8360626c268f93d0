/**
 * A group's result files and input destinations recorded in one statement
 * (setResultsAndMovedTo): every result is recorded, and a destination only where the claim
 * is still this instance's; a claim taken over, or already done, is left as it is.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { claimFile, markAllDone, setResultsAndMovedTo, tieSubmissions } from '../../src/db/claims.ts';
import { isCasBdtError } from '../../src/errors.ts';
import { rowsOf } from '../../src/db/sql-util.ts';
import { sha256Of } from '../../src/inbox/read-file.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { PipelineHarness } from '../helpers/pipeline.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

describe.each(STORE_KINDS)('results and destinations of a group on %s', (kind) => {
  const t = suiteStore(kind);

  it('records every result, and each destination only while its claim is ours', async () => {
    const h = new PipelineHarness(t.store);
    const licence = await h.sponsor({ licence: `BATCH${kind === 'pglite' ? 'L' : 'P'}001`, allocation: 10 });
    const me = 7001;
    // Claimed one after the other, so that their ids are in this order.
    const files: { name: string; bytes: Buffer; claimId: number }[] = [];
    for (const [i, name] of ['ours', 'taken', 'done', 'also-ours'].entries()) {
      const bytes = uploadBytes({ licence, fileId: `BATCH-${i}`, records: [casXml({ applicantId: `BATCH-${i}`, passport: `PB${i}` })] });
      const got = await claimFile(t.store.db, {
        licence,
        fileName: `${name}.xml`,
        sha256: sha256Of(bytes),
        size: bytes.length,
        owner: me,
        leaseMs: 60_000,
      });
      files.push({ name, bytes, claimId: got!.claim.id });
    }
    const rows = [];
    for (const f of files) {
      const run = await h.run(f.bytes, `${f.name}.xml`, licence);
      rows.push({
        claimId: f.claimId,
        submissionId: run.submissionId,
        resultFile: `/out/${f.name}.result.xml`,
        movedTo: `/archive/${f.name}.xml`,
      });
    }
    // Another instance took one claim over; another is done already.
    await t.store.db.execute(sql`update file_claims set owner = ${me + 1} where id = ${files[1]!.claimId}`);
    await markAllDone(t.store.db, [files[2]!.claimId], me);

    const ours = await setResultsAndMovedTo(t.store.db, me, rows);
    expect([...ours].sort()).toEqual([files[0]!.claimId, files[3]!.claimId].sort());

    const submissions = await rowsOf<{ id: number | string; result_file: string; summary_file: string }>(
      t.store.db,
      sql`select id, result_file, summary->>'resultFile' as summary_file from submissions where sponsor_licence_number = ${licence} order by id`,
    );
    expect(submissions.map((s) => [Number(s.id), s.result_file, s.summary_file])).toEqual(
      rows.map((r) => [r.submissionId, r.resultFile, r.resultFile]),
    );
    const claims = await rowsOf<{ id: number | string; moved_to: string | null }>(
      t.store.db,
      sql`select id, moved_to from file_claims where sponsor_licence_number = ${licence} order by id`,
    );
    expect(claims.map((c) => [Number(c.id), c.moved_to])).toEqual([
      [files[0]!.claimId, '/archive/ours.xml'],
      [files[1]!.claimId, null],
      [files[2]!.claimId, null],
      [files[3]!.claimId, '/archive/also-ours.xml'],
    ]);
    expect(await setResultsAndMovedTo(t.store.db, me, [])).toEqual(new Set());
  });

  it('ties the claims of a group to their submissions in one statement, or none when one was taken over', async () => {
    const h = new PipelineHarness(t.store);
    const licence = await h.sponsor({ licence: `TIES${kind === 'pglite' ? 'L' : 'P'}0001`, allocation: 10 });
    const me = 7101;
    const ties: { claimId: number; submissionId: number }[] = [];
    for (const i of [0, 1, 2]) {
      const bytes = uploadBytes({ licence, fileId: `TIES-${i}`, records: [casXml({ applicantId: `TIES-${i}`, passport: `PT${i}` })] });
      const got = await claimFile(t.store.db, {
        licence,
        fileName: `t${i}.xml`,
        sha256: sha256Of(bytes),
        size: bytes.length,
        owner: me,
        leaseMs: 60_000,
      });
      const run = await h.run(bytes, `t${i}.xml`, licence);
      ties.push({ claimId: got!.claim.id, submissionId: run.submissionId });
    }
    const claims = () =>
      rowsOf<{ state: string; submission_id: number | string | null }>(
        t.store.db,
        sql`select state, submission_id from file_claims where sponsor_licence_number = ${licence} order by id`,
      ).then((rows) => rows.map((r) => [r.state, r.submission_id === null ? null : Number(r.submission_id)]));

    // One claim taken over: the group's transaction fails with claim-lost and ties nothing.
    await t.store.db.execute(sql`update file_claims set owner = ${me + 1} where id = ${ties[1]!.claimId}`);
    const err = await t.store.db
      .transaction((tx) => tieSubmissions(tx, me, ties, 60_000))
      .then(
        () => expect.fail('tying a claim taken over should fail'),
        (e: unknown) => e,
      );
    expect(isCasBdtError(err, 'claim-lost')).toBe(true);
    expect(String((err as Error).message)).toContain(String(ties[1]!.claimId));
    expect(await claims()).toEqual([
      ['claimed', null],
      ['claimed', null],
      ['claimed', null],
    ]);

    await t.store.db.execute(sql`update file_claims set owner = ${me} where id = ${ties[1]!.claimId}`);
    await t.store.db.transaction((tx) => tieSubmissions(tx, me, ties, 60_000));
    expect(await claims()).toEqual(ties.map((x) => ['stored', x.submissionId]));
  });
});
