/**
 * The statements a backlog runs once per file are raw SQL, not drizzle's builders (see
 * decodeRow): on both stores, what they write and read is what the builders wrote and
 * read. The sponsor locked reads as a select of drizzle's (an array, timestamps as dates,
 * booleans); a submission stored reads back whole (its summary as a document, its dates to
 * the millisecond, its nulls); a batch's id is a number.
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { insertBatch } from '../../src/db/cas-records.ts';
import { batches, sponsors, submissions } from '../../src/db/schema.ts';
import { lockSponsor } from '../../src/db/sponsors.ts';
import { getSubmission, insertSubmission, nextSubmissionId, type SubmissionRow } from '../../src/db/submissions.ts';
import type { FileSummary } from '../../src/domain/result.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { nextLicence, sponsor } from '../helpers/watch.ts';

describe.each(STORE_KINDS)('raw statements of the per-file path on %s', (kind) => {
  const t = suiteStore(kind);

  it('reads the locked sponsor as drizzle reads it', async () => {
    const licence = nextLicence('R');
    await sponsor(t.store.db, licence, 1234, ['student', 'child']);
    const [built] = await t.store.db.select().from(sponsors).where(eq(sponsors.licenceNumber, licence));
    const locked = await t.store.db.transaction((tx) => lockSponsor(tx, licence));
    expect(locked).toEqual(built);
    expect(locked!.routes).toEqual(expect.arrayContaining(['student', 'child']));
    expect(locked!.createdAt).toBeInstanceOf(Date);
    expect(await t.store.db.transaction((tx) => lockSponsor(tx, `${licence}X`))).toBeUndefined();
  });

  it('stores a submission and a batch that read back whole', async () => {
    const licence = nextLicence('R');
    await sponsor(t.store.db, licence);
    const id = await nextSubmissionId(t.store.db);
    const summary = { submissionId: id, file: 'ünïcode "quoted".xml', nested: { list: [1, null, 'x'] } } as unknown as FileSummary;
    const row: SubmissionRow = {
      id,
      sponsorLicenceNumber: licence,
      fileName: 'ünïcode "quoted".xml',
      sha256: 'a'.repeat(64),
      sizeBytes: 5_000_000_000,
      fileType: 'UPLOAD_GENERAL',
      fileId: null,
      outcome: 'REJECTED',
      replayOf: null,
      receivedAt: new Date('2026-12-07T10:11:12.345Z'),
      processedAt: new Date('2026-12-07T10:11:13.678Z'),
      summary,
      resultXml: '<Result>\u00e9</Result>',
      resultFile: null,
    };
    await t.store.db.transaction((tx) => insertSubmission(tx, row));
    expect(await getSubmission(t.store.db, id)).toEqual(row);
    const [raw] = await t.store.db.select({ s: submissions.summary }).from(submissions).where(eq(submissions.id, id));
    expect(raw!.s).toEqual(summary);

    const now = new Date('2026-12-07T10:11:14.001Z');
    const batchId = await t.store.db.transaction((tx) => insertBatch(tx, { licence, name: 'B-1', route: 'child', submissionId: id, now }));
    expect(typeof batchId).toBe('number');
    const [batch] = await t.store.db.select().from(batches).where(eq(batches.id, batchId));
    expect(batch).toEqual({ id: batchId, sponsorLicenceNumber: licence, name: 'B-1', route: 'child', submissionId: id, createdAt: now });
  });
});
