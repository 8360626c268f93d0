/**
 * Bad input of every kind gets a REJECTED result with a clear code, and nothing is
 * created: encodings, entity tricks, binary, empty, truncated, wrong sponsor, schema
 * violations with line numbers, header problems, licence status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { cas, sponsors } from '../../src/db/schema.ts';
import { casXml, uploadBytes, uploadText } from '../helpers/bdt.ts';
import { PipelineHarness, type Run } from '../helpers/pipeline.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const LICENCE = 'HOSTILE01';

const codes = (r: Run) => r.result.FileErrors?.Error.map((e) => e['@_code']) ?? [];

describe.each(STORE_KINDS)('hostile and broken files on %s', (kind) => {
  const t = suiteStore(kind);
  let h: PipelineHarness;

  beforeAll(async () => {
    h = new PipelineHarness(t.store, { feePence: 2500, validityMonths: 6, maxFileBytes: 64 * 1024 });
    await h.sponsor({ licence: LICENCE, routes: ['student', 'child'] });
    await h.sponsor({ licence: 'SUSPEND01' });
    await t.store.db.update(sponsors).set({ status: 'suspended' }).where(eq(sponsors.licenceNumber, 'SUSPEND01'));
  });
  afterAll(async () => {
    const created = await t.store.db.select().from(cas);
    // Not one of the files in this suite may leave a CAS behind.
    expect(created).toHaveLength(0);
  });

  const reject = async (bytes: Buffer, name = 'bad.xml', licence = LICENCE) => {
    const run = await h.run(bytes, name, licence);
    expect(run.result.Outcome).toBe('REJECTED');
    expect(run.result.Records).toBeUndefined();
    return run;
  };

  it('refuses DOCTYPE and entity declarations, including the billion laughs', async () => {
    const laughs = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;&lol;&lol;">\n]>\n<lolz>&lol2;</lolz>`;
    const run = await reject(Buffer.from(laughs));
    expect(codes(run)).toEqual(['E_DOCTYPE_FORBIDDEN']);
    expect(run.result.FileErrors!.Error[0]!['@_line']).toBe('2');
    const xxe = uploadText({ licence: LICENCE }).replace('?>', '?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>');
    expect(codes(await reject(Buffer.from(xxe, 'latin1')))).toEqual(['E_DOCTYPE_FORBIDDEN']);
  });

  it('rejects empty, blank, binary and truncated files as not well-formed or badly encoded', async () => {
    expect(codes(await reject(Buffer.alloc(0), 'empty.xml'))).toEqual(['E_NOT_WELL_FORMED']);
    expect(codes(await reject(Buffer.from('   \n  '), 'blank.xml'))).toEqual(['E_NOT_WELL_FORMED']);
    const binary = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x00]);
    expect(codes(await reject(binary, 'image.png'))).toEqual(['E_ENCODING']);
    const full = uploadBytes({ licence: LICENCE });
    const truncated = await reject(full.subarray(0, Math.floor(full.length / 2)), 'truncated.xml');
    expect(codes(truncated)).toEqual(['E_NOT_WELL_FORMED']);
    expect(Number(truncated.result.FileErrors!.Error[0]!['@_line'])).toBeGreaterThan(1);
    expect(codes(await reject(Buffer.from('this is not xml at all'), 'notes.txt'))).toEqual(['E_NOT_WELL_FORMED']);
  });

  it('rejects files over the size limit without reading them', async () => {
    const big = uploadBytes({ licence: LICENCE, records: Array.from({ length: 60 }, (_, i) => casXml({ applicantId: `BIG-${i}` })) });
    expect(big.length).toBeGreaterThan(64 * 1024);
    expect(codes(await reject(big, 'big.xml'))).toEqual(['E_FILE_TOO_LARGE']);
  });

  it('checks encodings: unknown, mismatched, invalid bytes', async () => {
    const cp1252 = uploadText({ licence: LICENCE }).replace('ISO-8859-1', 'windows-1252');
    expect(codes(await reject(Buffer.from(cp1252, 'latin1')))).toEqual(['E_ENCODING']);
    // Declared UTF-8 but holds a raw Latin-1 byte.
    const badUtf8 = Buffer.from(uploadText({ licence: LICENCE, encoding: 'UTF-8', records: [casXml({ familyName: 'Müller' })] }), 'latin1');
    const run = await reject(badUtf8);
    expect(codes(run)).toEqual(['E_ENCODING']);
    expect(run.result.FileErrors!.Error[0]!['@_line']).toBeDefined();
    const utf16NoBom = Buffer.from(uploadText({ licence: LICENCE }).replace('ISO-8859-1', 'UTF-16'), 'utf16le');
    expect(codes(await reject(utf16NoBom))).toEqual(['E_ENCODING']);
  });

  it('accepts UTF-8 with a BOM and UTF-16 (LE and BE) with a BOM', async () => {
    const text = (id: string) =>
      uploadText({ licence: LICENCE, fileId: id, records: [casXml({ applicantId: id, familyName: 'Zoë Ñandú' })] });
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text('BOM8').replace('ISO-8859-1', 'UTF-8'), 'utf8')]);
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text('BOM16LE').replace('ISO-8859-1', 'UTF-16'), 'utf16le')]);
    const be = Buffer.from(
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text('BOM16BE').replace('ISO-8859-1', 'UTF-16'), 'utf16le')]).swap16(),
    );
    for (const bytes of [withBom, le, be]) {
      const run = await h.run(bytes, 'enc.xml', LICENCE);
      expect(run.result.Outcome).toBe('ACCEPTED');
      expect(run.result.Records!.Record[0]!.Outcome).toBe('CREATED');
    }
    const names = await t.store.db.select({ n: cas.familyName }).from(cas).where(eq(cas.sponsorLicenceNumber, LICENCE));
    expect(names.map((r) => r.n)).toEqual(['Zoë Ñandú', 'Zoë Ñandú', 'Zoë Ñandú']);
    await t.store.db.delete(cas).where(eq(cas.sponsorLicenceNumber, LICENCE));
  });

  it('lists every schema violation with line and column', async () => {
    const text = uploadText({ licence: LICENCE, records: [casXml({ applicantId: 'S1' }), casXml({ applicantId: 'S2' })] })
      .replace('<Gender>2</Gender>', '<Gender>3</Gender>')
      .replace('<CourseHoursPerWeek>37.5</CourseHoursPerWeek>', '<CourseHoursPerWeek>170</CourseHoursPerWeek>');
    const lines = text.split('\n');
    const genderLine = lines.findIndex((l) => l.includes('<Gender>3</Gender>')) + 1;
    const run = await reject(Buffer.from(text, 'latin1'));
    const errors = run.result.FileErrors!.Error;
    expect(new Set(errors.map((e) => e['@_code']))).toEqual(new Set(['E_SCHEMA']));
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.some((e) => e['@_line'] === String(genderLine))).toBe(true);
    expect(errors.every((e) => Number(e['@_line']) > 0 && Number(e['@_column']) > 0)).toBe(true);
    expect(run.result.Submission.FileType).toBe('UPLOAD_GENERAL');
    expect(run.result.Submission.FileId).toBe('TEST-FILE-1');
  });

  it('rejects unknown roots and namespaces', async () => {
    const wrongNs = uploadText({ licence: LICENCE }).replaceAll('bulk-cas-upload-200910', 'bulk-cas-upload-209999');
    expect(codes(await reject(Buffer.from(wrongNs, 'latin1')))).toEqual(['E_UNKNOWN_FILE_TYPE']);
    expect(codes(await reject(Buffer.from('<?xml version="1.0"?><invoice><total>3</total></invoice>')))).toEqual(['E_UNKNOWN_FILE_TYPE']);
  });

  it('checks the header: sponsor, licence status, route and consistency', async () => {
    expect(codes(await reject(uploadBytes({ licence: 'OTHER0001' })))).toEqual(['E_SPONSOR_MISMATCH']);
    expect(codes(await reject(uploadBytes({ licence: 'SUSPEND01' }), 'x.xml', 'SUSPEND01'))).toEqual(['E_LICENCE_NOT_ACTIVE']);
    expect(codes(await reject(uploadBytes({ licence: LICENCE, schemaId: 'T4Child Ready To Go' })))).toEqual(['E_HEADER_INCONSISTENT']);
    expect(codes(await reject(uploadBytes({ licence: LICENCE, category: 'Child' })))).toEqual(['E_HEADER_INCONSISTENT']);
  });

  it('judges a rejected file afresh once its cause is fixed', async () => {
    const file = uploadBytes({ licence: 'SUSPEND01', fileId: 'LATER' });
    expect(codes(await reject(file, 'later.xml', 'SUSPEND01'))).toEqual(['E_LICENCE_NOT_ACTIVE']);
    await t.store.db.update(sponsors).set({ status: 'active' }).where(eq(sponsors.licenceNumber, 'SUSPEND01'));
    const run = await h.run(file, 'later.xml', 'SUSPEND01');
    expect(run.result.Outcome).toBe('ACCEPTED');
    expect(run.result.Submission.Replay).toBe('false');
    await t.store.db.update(sponsors).set({ status: 'suspended' }).where(eq(sponsors.licenceNumber, 'SUSPEND01'));
    await t.store.db.delete(cas).where(eq(cas.sponsorLicenceNumber, 'SUSPEND01'));
  });
});
