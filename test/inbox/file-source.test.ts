/**
 * A large file is scanned once from memory, then read a slice at a time from its still
 * open handle (the bytes are let go). The result is the same, byte for byte, as when the
 * file is held in memory, valid or not (schema messages and their positions included); a
 * file rewritten while it is being stored is an environment fault and stores nothing.
 * The threshold is lowered here (keepOpenAbove) so that a small file takes the real path.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { addSponsor } from '../../src/db/sponsors.ts';
import { rowsOf } from '../../src/db/sql-util.ts';
import { readReceivedFile, release, type ReceivedFile } from '../../src/inbox/read-file.ts';
import { processFile, type PipelineDeps } from '../../src/pipeline/process-file.ts';
import { classifyFault } from '../../src/service/faults.ts';
import { casXml, uploadText } from '../helpers/bdt.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';

const NOW = new Date('2026-03-02T08:15:07.250Z');
const RECEIVED = new Date('2026-03-02T08:15:00.000Z');

let seq = 0;
const nextLicence = () => `FS${String(++seq).padStart(6, '0')}${seq % 10}`;

/** 2,500 records (several record chunks, more than one 1 MiB window), non-ASCII names, CR LF line ends; `bad` makes some invalid. */
function fileText(licence: string, fileId: string, bad = false): string {
  const records = Array.from({ length: 2_500 }, (_, i) =>
    casXml({
      applicantId: `FS-${i}`,
      passport: `F${String(i).padStart(8, '0')}`,
      familyName: i % 3 ? 'Müller-Ñúñez' : 'Okafor',
      givenName: 'Zoë',
      ...(bad && i % 700 === 699 ? { nationality: 'nga' } : {}),
    }),
  );
  return uploadText({ licence, fileId, records, encoding: 'UTF-8' }).replace(/\n/g, '\r\n');
}

describe.each(STORE_KINDS)('a large file read from its open handle on %s', (kind) => {
  const t = suiteStore(kind);
  const dir = tempDir('cas-bdt-file-source-');

  async function sponsor(): Promise<string> {
    const licence = nextLicence();
    await addSponsor(
      t.store.db,
      { licenceNumber: licence, name: `Sponsor ${licence}`, routes: ['student'], autoAssign: true, allocation: 10_000 },
      new Date(),
    );
    return licence;
  }

  const deps = (extra: Partial<PipelineDeps> = {}): PipelineDeps => ({
    db: t.store.db,
    settings: { feePence: 2500, validityMonths: 6, maxFileBytes: 200 * 1024 * 1024 },
    clock: () => NOW,
    ...extra,
  });

  /** Reads `file` held in memory, or (keepOpenAbove 0) as a large file is read. */
  async function read(file: string, licence: string, large: boolean): Promise<ReceivedFile> {
    const got = await readReceivedFile(file, licence, 200 * 1024 * 1024, RECEIVED, large ? { keepOpenAbove: 0 } : {});
    expect(got.open !== undefined).toBe(large);
    return got;
  }

  const masked = (xml: string) => xml.replace(/<SubmissionId>\d+<\/SubmissionId>/g, '<SubmissionId>N</SubmissionId>');

  it.each([
    ['valid', false],
    ['invalid in places', true],
  ])('gives the same result as from memory for a file %s', async (_what, bad) => {
    const licence = await sponsor();
    const file = path.join(dir, `same-${licence}.xml`);
    writeFileSync(file, fileText(licence, `SAME-${licence}`, bad));
    const results: string[] = [];
    for (const large of [false, true]) {
      const got = await read(file, licence, large);
      try {
        // A dry run stores nothing, so both runs meet the same sponsor state.
        const processed = await processFile(deps({ dryRun: true }), got);
        // The large file's bytes were let go: everything after the safety pass came from the handle.
        expect(got.bytes === undefined).toBe(large);
        expect(processed.summary.outcome).toBe(bad ? 'REJECTED' : 'ACCEPTED');
        results.push(masked(processed.resultXml));
      } finally {
        await release(got);
      }
      expect(got.open).toBeUndefined();
    }
    if (bad) expect(results[0]).toMatch(/line="\d+" column="\d+"[^>]*>[^<]*Nationality/);
    expect(results[1]).toBe(results[0]);
  });

  it('stores a large file as it stores one held in memory', async () => {
    const licence = await sponsor();
    const file = path.join(dir, `stored-${licence}.xml`);
    writeFileSync(file, fileText(licence, `STORED-${licence}`));
    const got = await read(file, licence, true);
    const processed = await processFile(deps(), got).finally(() => release(got));
    expect(processed.summary.outcome).toBe('ACCEPTED');
    expect(processed.summary.counts.records).toBe(2_500);
    const [c] = await rowsOf<{ n: number }>(t.store.db, sql`select count(*)::int as n from cas where sponsor_licence_number = ${licence}`);
    expect(c!.n).toBe(2_500);
  });

  it('stores nothing when the file is rewritten while its records are stored: an environment fault, retried later', async () => {
    const licence = await sponsor();
    const file = path.join(dir, `changed-${licence}.xml`);
    const text = fileText(licence, `CHANGED-${licence}`);
    writeFileSync(file, text);
    const got = await read(file, licence, true);
    let rewritten = false;
    const onProgress = (fraction: number) => {
      if (rewritten || fraction >= 1) return;
      // In place (same inode and size), one record's passport changed, while the records are being stored.
      writeFileSync(file, text.replace('>F00000001<', '>F00000009<'));
      rewritten = true;
    };
    const outcome = await processFile(deps({ onProgress }), got).then(
      () => undefined,
      (err: unknown) => err,
    );
    await release(got);
    expect(rewritten).toBe(true);
    expect(outcome).toMatchObject({ code: 'ESTALE' });
    expect(classifyFault(outcome).kind).toBe('environment');
    const [c] = await rowsOf<{ n: number }>(t.store.db, sql`select count(*)::int as n from cas where sponsor_licence_number = ${licence}`);
    const [s] = await rowsOf<{ n: number }>(
      t.store.db,
      sql`select count(*)::int as n from submissions where sponsor_licence_number = ${licence}`,
    );
    expect({ cas: c!.n, submissions: s!.n }).toEqual({ cas: 0, submissions: 0 });

    // Read again (as the service's retry does), the file as it is now is stored whole.
    const again = await read(file, licence, true);
    const processed = await processFile(deps(), again).finally(() => release(again));
    expect(processed.summary.outcome).toBe('ACCEPTED');
  });
});
