/**
 * Records are read and stored while the file is still being validated: a file that fails
 * validation late (after many records were stored in the open transaction) or in a way
 * that breaks record reading is refused with its schema errors, and leaves nothing behind.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { getSponsor } from '../../src/db/sponsors.ts';
import { rowsOf } from '../../src/db/sql-util.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { PipelineHarness } from '../helpers/pipeline.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

let seq = 0;
const nextLicence = () => `V${String(++seq).padStart(7, '0')}${seq % 10}`;

const many = (n: number) =>
  Array.from({ length: n }, (_, i) => casXml({ applicantId: `V-${i}`, passport: `V${String(i).padStart(8, '0')}` }));

describe.each(STORE_KINDS)('validation while storing on %s', (kind) => {
  const t = suiteStore(kind);
  let h: PipelineHarness;

  beforeAll(async () => {
    h = new PipelineHarness(t.store);
  });

  async function nothingStored(licence: string): Promise<void> {
    const [c] = await rowsOf<{ n: number }>(t.store.db, sql`select count(*)::int as n from cas where sponsor_licence_number = ${licence}`);
    const [b] = await rowsOf<{ n: number }>(
      t.store.db,
      sql`select count(*)::int as n from batches where sponsor_licence_number = ${licence}`,
    );
    const [p] = await rowsOf<{ n: number }>(
      t.store.db,
      sql`select count(*)::int as n from payments where sponsor_licence_number = ${licence}`,
    );
    expect({ cas: c!.n, batches: b!.n, payments: p!.n }).toEqual({ cas: 0, batches: 0, payments: 0 });
    expect((await getSponsor(t.store.db, licence))!.allocationUsed).toBe(0);
  }

  it('refuses a file whose last record is invalid, after the records before it were stored, and keeps nothing', async () => {
    const licence = await h.sponsor({ licence: nextLicence(), allocation: 5_000 });
    const records = many(2_500);
    records.push(casXml({ applicantId: 'V-BAD', nationality: 'nga' })); // lower case: a pattern violation
    const run = await h.run(uploadBytes({ licence, fileId: 'LATE-BAD', records }), 'late-bad.xml', licence);
    expect(run.result.Outcome).toBe('REJECTED');
    expect(run.result.FileErrors!.Error.map((e) => e['@_code'])).toEqual(['E_SCHEMA']);
    expect(run.result.FileErrors!.Error[0]!['#text']).toContain('Nationality');
    expect(run.result.Submission.FileId).toBe('LATE-BAD');
    await nothingStored(licence);
  });

  it('reports the schema errors, not the reading failure, when an invalid record cannot be read', async () => {
    const licence = await h.sponsor({ licence: nextLicence() });
    const bad = casXml({ applicantId: 'V-NOFAMILY' }).replace(/<FamilyName>[^<]*<\/FamilyName>/, '');
    const run = await h.run(
      uploadBytes({ licence, fileId: 'UNREADABLE', records: [casXml({ applicantId: 'V-OK' }), bad] }),
      'unreadable.xml',
      licence,
    );
    expect(run.result.Outcome).toBe('REJECTED');
    expect(run.result.FileErrors!.Error.map((e) => e['@_code'])).toEqual(['E_SCHEMA']);
    await nothingStored(licence);
  });

  it('gives the schema errors before a header mismatch', async () => {
    const licence = await h.sponsor({ licence: nextLicence() });
    const run = await h.run(
      uploadBytes({ licence: 'OTHER0001', fileId: 'BOTH-BAD', records: [casXml({ nationality: 'nga' })] }),
      'both-bad.xml',
      licence,
    );
    expect(run.result.FileErrors!.Error.map((e) => e['@_code'])).toEqual(['E_SCHEMA']);
    await nothingStored(licence);
  });

  it('stores a valid multi-chunk file once validation has passed', async () => {
    const licence = await h.sponsor({ licence: nextLicence(), allocation: 1_050 });
    const run = await h.run(uploadBytes({ licence, fileId: 'GOOD', records: many(1_100) }), 'good.xml', licence);
    expect(run.result.Outcome).toBe('ACCEPTED');
    expect(run.result.Summary).toMatchObject({ '@_records': '1100', '@_created': '1100', '@_assigned': '1050', '@_readyToGo': '50' });
    expect((await getSponsor(t.store.db, licence))!.allocationUsed).toBe(1_050);
  });
});
