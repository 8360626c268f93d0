/**
 * The batch oracle (test/conformance/java/BatchValidator.java, one JVM for the whole
 * corpus) must judge as xsd-schema-validator does, the Xerces-backed package named as the
 * conformance oracle: a sample of valid and invalid documents goes through both.
 * Needs Java and ../shared/reference; skips otherwise.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateXML } from 'xsd-schema-validator';
import { askOracle, oracleDocs } from './oracle.ts';
import { hasJava, HAS_REFERENCE, referenceSchemas } from './support.ts';

const LIVE = HAS_REFERENCE && hasJava();

describe.skipIf(!LIVE)('the batch oracle and xsd-schema-validator', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-faithful-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('give the same verdict on a sample of the corpus', async () => {
    const uploads = LIVE ? oracleDocs().docs.filter((d) => d.schema !== 'graduate') : [];
    const batch = await askOracle(uploads);
    const valid = uploads.filter((d) => batch.get(d.id)?.verdict === 'valid').slice(0, 3);
    const invalid = uploads.filter((d) => batch.get(d.id)?.verdict === 'invalid').slice(0, 5);
    expect(valid.length).toBeGreaterThan(0);
    expect(invalid.length).toBeGreaterThan(0);
    const ref = await referenceSchemas();
    try {
      for (const [i, d] of [...valid, ...invalid].entries()) {
        const file = path.join(tmp, `${i}.xml`);
        writeFileSync(file, d.bytes);
        // The package rejects for an invalid document and resolves for a valid one.
        const verdict = await validateXML({ file }, ref[d.schema as 'upload-general' | 'upload-child']).then(
          (r) => (r.valid ? 'valid' : 'invalid'),
          () => 'invalid',
        );
        expect(verdict, d.id).toBe(batch.get(d.id)!.verdict);
      }
    } finally {
      await ref.dispose();
    }
  }, 300_000);
});
