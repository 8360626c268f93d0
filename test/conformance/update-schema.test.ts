/**
 * The fee update schema (schemas/update.xsd, provisional: no Home Office schema exists)
 * against its own corpus, fixtures/update/conformance: every file gets the verdict
 * expected.json gives it from the product's validator, and, where Java is installed, from
 * Xerces on the same schema, so that the in-process engine and the reference engine agree
 * on the project's own contract. Then the pipeline's view: a schema-valid update file with
 * its root in another namespace is not an update file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectFile } from '../../src/pipeline/inspect.ts';
import { corpusChecks, corpusOf } from './corpus-suite.ts';
import { REPO_ROOT } from './support.ts';

const DIR = 'fixtures/update/conformance';
const { files } = corpusOf(DIR);

describe(`fixtures/update/conformance (${files.length} documents)`, () => {
  corpusChecks(DIR, 'update', { valid: 5, invalid: 20 });

  it('the base document fixtures/update/basic.xml is an update file the pipeline types as UPDATE_FEES', async () => {
    const inspected = await inspectFile(readFileSync(path.join(REPO_ROOT, 'fixtures/update/basic.xml')));
    expect(inspected.ok && inspected.file.fileType).toBe('UPDATE_FEES');
    expect(inspected.ok && inspected.file.header).toMatchObject({ fileId: 'FEES-2027-09', sponsorLicenceNumber: 'QHDGHB91X' });
  });

  it('an update root in another namespace is E_UNKNOWN_FILE_TYPE, not a schema error', async () => {
    const other = readFileSync(path.join(REPO_ROOT, 'fixtures/update/basic.xml'), 'utf8').replace(
      'bulk-cas-update-200910',
      'bulk-cas-update-209912',
    );
    const inspected = await inspectFile(Buffer.from(other));
    expect(inspected.ok).toBe(false);
    expect(!inspected.ok && inspected.errors.map((e) => e.code)).toEqual(['E_UNKNOWN_FILE_TYPE']);
  });
});
