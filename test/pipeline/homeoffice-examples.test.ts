/**
 * Every Home Office example file, processed as received (the real bytes, ISO-8859-1,
 * padded values), each into a fresh store. Reads ../shared/reference; skips without it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { cas } from '../../src/db/schema.ts';
import { isValidCasNumber } from '../../src/domain/cas-number.ts';
import { addMonths, isoDateUtc } from '../../src/domain/dates.ts';
import { issueCodes, PipelineHarness } from '../helpers/pipeline.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { resetStore, STORE_KINDS } from '../helpers/stores.ts';

const EXAMPLES = path.resolve(import.meta.dirname, '../../../shared/reference/homeoffice-bdt-v2.1/examples');
const present = existsSync(EXAMPLES);
if (!present) console.warn(`Home Office examples not found at ${EXAMPLES}: skipping; fixtures/ cover the same ground.`);
const files = present
  ? readdirSync(EXAMPLES)
      .filter((f) => f.endsWith('.xml'))
      .sort()
  : [];

describe.skipIf(!present).each(STORE_KINDS)('Home Office examples on %s', (kind) => {
  const t = suiteStore(kind);
  beforeEach(async () => {
    await resetStore(t.store);
  });

  it.each(files.filter((f) => !/Graduate/i.test(f)))('%s: accepted, created and assigned', async (name) => {
    const h = new PipelineHarness(t.store);
    await h.sponsor({ licence: 'QHDGHB91X', allocation: 1 });
    const run = await h.run(readFileSync(path.join(EXAMPLES, name)), name);
    expect(run.result.Outcome).toBe('ACCEPTED');
    const [rec] = run.result.Records!.Record;
    expect(rec).toMatchObject({ Outcome: 'CREATED', Status: 'ASSIGNED' });
    expect(issueCodes(rec!)).toEqual([]);
    expect(isValidCasNumber(rec!.CASNumber!)).toBe(true);
    expect(rec!.ExpiryDate).toBe(addMonths(isoDateUtc(new Date()), 6));
    expect(run.result.Payment).toMatchObject({ '@_casCount': '1', '@_amount': '25.00' });
    const [row] = await t.store.db.select().from(cas).where(eq(cas.casNumber, rec!.CASNumber!));
    // Padded values are trimmed before use; the stored record keeps every BDT field.
    expect(row!.familyName).toBe('Barry');
    const partner = (
      row!.data as { NonSponsorEducationInstitutionData: { PartnerInstitutionDetails: { AddressDetails: { City: string } } } }
    ).NonSponsorEducationInstitutionData.PartnerInstitutionDetails.AddressDetails.City;
    expect(partner).toBe('Bracknell');
  });

  it.each(files.filter((f) => /Graduate/i.test(f)))('%s: accepted, unknown CAS numbers refused one by one', async (name) => {
    const h = new PipelineHarness(t.store);
    await h.sponsor({ licence: 'QHDGHB91X' });
    const run = await h.run(readFileSync(path.join(EXAMPLES, name)), name);
    expect(run.result.Outcome).toBe('ACCEPTED');
    expect(run.result.Submission.FileType).toBe('GRADUATE_REPORT');
    expect(run.result.Submission.FileId).toBe('1234');
    const recs = run.result.Records!.Record;
    expect(recs).toHaveLength(4);
    expect(recs.map((r) => issueCodes(r))).toEqual([['E_CAS_NOT_FOUND'], ['E_CAS_NOT_FOUND'], ['E_CAS_NOT_FOUND'], ['E_CAS_NOT_FOUND']]);
    expect(run.result.Summary).toMatchObject({ '@_records': '4', '@_rejected': '4', '@_reported': '0' });
  });
});
