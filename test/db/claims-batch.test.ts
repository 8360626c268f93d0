/**
 * A group's result files and input destinations recorded in one statement
 * (setResultsAndMovedTo): every result is recorded, and a destination only where the claim
 * is still this instance's; a claim taken over, or already done, is left as it is.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { claimFile, markAllDone, setResultsAndMovedTo } from '../../src/db/claims.ts';
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
});
