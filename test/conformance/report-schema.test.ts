/**
 * The student activity report schema (schemas/report.xsd, provisional: no Home Office
 * schema exists) against its own corpus, fixtures/report/conformance: a valid file of each
 * of the seven kinds, and invalid ones (wrong order, missing fields, bad dates, notes too
 * long, an unknown CASReport or block). Every file gets the verdict expected.json gives it
 * from the product's validator, and, where Java is installed, from Xerces on the same
 * schema. Then the pipeline's view: a valid file is typed REPORT with its header read.
 */
import { describe, expect, it } from 'vitest';
import { inspectFile } from '../../src/pipeline/inspect.ts';
import { corpusChecks, corpusOf } from './corpus-suite.ts';

const DIR = 'fixtures/report/conformance';
const { files, bytes } = corpusOf(DIR);

describe(`fixtures/report/conformance (${files.length} documents)`, () => {
  corpusChecks(DIR, 'report', { valid: 7, invalid: 15 });

  it('a valid report file is typed REPORT, its header read; in the graduate namespace it is a graduate notification', async () => {
    const inspected = await inspectFile(bytes('008-all-kinds.xml'));
    expect(inspected.ok && inspected.file.fileType).toBe('REPORT');
    expect(inspected.ok && inspected.file.header).toMatchObject({ fileId: 'REPORTS-2027-01', sponsorLicenceNumber: 'QHDGHB91X' });
    const graduate = await inspectFile(
      Buffer.from(
        bytes('001-not-enrolled.xml').toString('utf8').replace('bulk-cas-reporting-200910', 'bulk-cas-reporting-graduated-202102'),
      ),
    );
    // Typed as a graduate notification, whose schema it then fails.
    expect(graduate.ok ? graduate.file.fileType : [graduate.fileType, [...new Set(graduate.errors.map((e) => e.code))]]).toEqual([
      'GRADUATE_REPORT',
      ['E_SCHEMA'],
    ]);
  });
});
