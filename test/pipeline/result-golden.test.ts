/**
 * The result XML, byte for byte: a fixed multi-record upload (over more than one chunk
 * of records, with warnings, errors, duplicates, amendments and an allocation that runs
 * out) processed with a fixed clock and fixed CAS number randomness gives exactly the
 * committed expected file, on both stores; its replay is the same file with Replay true.
 *
 * Only the payment reference is random by design (it is masked before comparing).
 * `UPDATE_GOLDEN=1` rewrites the expected files (review the diff before committing).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { addSponsor, grantAllocation } from '../../src/db/sponsors.ts';
import { processFile } from '../../src/pipeline/process-file.ts';
import { sha256Of } from '../../src/inbox/read-file.ts';
import { casXml, uploadBytes, type CasSpec } from '../helpers/bdt.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const LICENCE = 'GOLDEN001';
const EXPECTED_DIR = path.resolve(import.meta.dirname, '../../fixtures/results');
const RECEIVED = new Date('2026-03-02T08:15:00.000Z');
const NOW = new Date('2026-03-02T08:15:07.250Z');

/** A fixed sequence in place of crypto randomness (a linear congruential generator). */
function seededRandomInt(seed: number): (maxExclusive: number) => number {
  let s = seed >>> 0;
  return (max) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % max;
  };
}

/** The earlier file: one CAS assigned, one left work in progress, one READY_TO_GO beyond the allocation. */
function seedFile(): Buffer {
  return uploadBytes({
    licence: LICENCE,
    fileId: 'GOLDEN-SEED',
    records: [
      casXml({ applicantId: 'SEED-ASSIGNED', passport: 'S00000001' }),
      casXml({ applicantId: 'SEED-WIP', passport: 'S00000002', evidence: null }),
      casXml({ applicantId: 'SEED-READY', passport: 'S00000003' }),
    ],
  });
}

/** Record i (0-based) of the main file: a repeating mix of what real files hold. */
function mainRecord(i: number): string {
  const id = `GLD-${String(i).padStart(5, '0')}`;
  const passport = `G${String(i).padStart(8, '0')}`;
  const special: Record<number, CasSpec> = {
    0: { applicantId: 'SEED-WIP', passport: 'S00000002' }, // amends the WIP CAS, now clean
    1: { applicantId: 'SEED-READY', passport: 'S00000003', evidence: '<SELTRequired>false</SELTRequired>' }, // amends, with a warning
    2: { applicantId: 'SEED-ASSIGNED', passport: 'S00000001' }, // E_DUPLICATE_CAS
    3: { applicantId: 'A&B <Ltd> "q" \'a\'', familyName: 'Müller-Ñúñez & Søn', givenName: 'Zoë' },
    4: { applicantId: '  PADDED-ID  ', familyName: '  Okafor  ' },
    5: { applicantId: id, courseId: null, courseTitle: 'BA Fine Art & Design' },
    6: { applicantId: id, latestAcceptance: '2027-09-01' }, // E_COURSE_DATES (latest before start)
    7: { applicantId: id, dateOfBirth: '<YearMonth>2028-01</YearMonth>' }, // E_DATE_OF_BIRTH
    8: { applicantId: id, nationality: 'ZZZ', partnerCountry: 'QQQ' }, // E_COUNTRY_CODE
    9: {
      applicantId: id,
      evidence:
        '<SELTRequired>true</SELTRequired><EnglishLanguageLevelAttained>D9</EnglishLanguageLevelAttained><TestProvider>NOPE</TestProvider>',
    },
    10: { applicantId: id, hasWorkPlacement: true, workPlacementDetails: '<WorkPlacementPercentage>50</WorkPlacementPercentage>' },
    11: {
      applicantId: id,
      hasWorkPlacement: true,
      workPlacementDetails: '<WorkPlacementJustificationText>needed</WorkPlacementJustificationText>',
    },
    12: {
      applicantId: id,
      evidence:
        '<SELTRequired>true</SELTRequired><PreviousUKStudy>true</PreviousUKStudy><PreviousAcademicLevel>RQF6</PreviousAcademicLevel><CurrentPreviousCourseLevelComparison>SAME</CurrentPreviousCourseLevelComparison>',
    },
    13: { applicantId: 'GLD-00005', courseId: null, courseTitle: 'BA Fine Art & Design' }, // E_DUPLICATE_IN_FILE of 6 (no CourseID)
    1004: { applicantId: 'GLD-00020' }, // E_DUPLICATE_IN_FILE across the chunk boundary
  };
  const spec = special[i];
  if (spec) return casXml({ passport, ...spec });
  const mix: CasSpec =
    i % 10 === 3
      ? { evidence: null } // W_SELT_NOT_PROVIDED
      : i % 37 === 5
        ? { courseEnd: '2027-01-01' } // E_COURSE_DATES
        : i % 41 === 9
          ? { evidence: '<SELTRequired>false</SELTRequired><ReasonSELTNotRequired>HEI</ReasonSELTNotRequired>' }
          : {};
  return casXml({ applicantId: id, passport, familyName: i % 7 === 0 ? 'Müller' : 'Okafor', ...mix });
}

function mainFile(): Buffer {
  const records: string[] = [];
  for (let i = 0; i < 1_060; i++) records.push(mainRecord(i));
  return uploadBytes({ licence: LICENCE, fileId: 'GOLDEN-MAIN', records });
}

const maskPayment = (xml: string) => xml.replace(/reference="PAY-(\d{8})-[A-Z0-9]+"/g, 'reference="PAY-$1-RANDOM"');

function compare(name: string, actual: string): void {
  const file = path.join(EXPECTED_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`${file} is missing; run with UPDATE_GOLDEN=1 to create it`);
    writeFileSync(file, actual);
  }
  // Not toBe: a 300 KB diff printed in full helps nobody; the first difference does.
  const expected = readFileSync(file, 'utf8');
  if (actual !== expected) {
    let at = 0;
    while (at < actual.length && actual[at] === expected[at]) at++;
    const line = expected.slice(0, at).split('\n').length;
    expect.fail(
      `${name} differs from line ${line}:\n  expected ${JSON.stringify(expected.slice(at - 40, at + 80))}\n  actual   ${JSON.stringify(actual.slice(at - 40, at + 80))}`,
    );
  }
}

describe.each(STORE_KINDS)('result XML byte for byte on %s', (kind) => {
  const t = suiteStore(kind);

  beforeAll(async () => {
    await addSponsor(
      t.store.db,
      { licenceNumber: LICENCE, name: 'Golden University', routes: ['student'], autoAssign: true, allocation: 1 },
      RECEIVED,
    );
  });

  const run = (bytes: Buffer, fileName: string, seed: number) =>
    processFile(
      {
        db: t.store.db,
        settings: { feePence: 2500, validityMonths: 6, maxFileBytes: 200 * 1024 * 1024, randomInt: seededRandomInt(seed) },
        clock: () => NOW,
      },
      { sponsorLicenceNumber: LICENCE, fileName, bytes, size: bytes.length, sha256: sha256Of(bytes), receivedAt: RECEIVED },
    );

  it('gives the committed result for a seed file, a large mixed file and its replay', async () => {
    const seed = await run(seedFile(), 'golden-seed.xml', 1);
    compare('golden-seed.result.xml', maskPayment(seed.resultXml));

    // Enough allocation for most of the main file, not all of it.
    await grantAllocation(t.store.db, LICENCE, 880, RECEIVED);
    const main = mainFile();
    const processed = await run(main, 'golden-main.xml', 2);
    compare('golden-main.result.xml', maskPayment(processed.resultXml));

    const again = await run(main, 'golden-main-again.xml', 3);
    expect(maskPayment(again.resultXml)).toBe(maskPayment(processed.resultXml).replace('<Replay>false</Replay>', '<Replay>true</Replay>'));
  });
});
