/**
 * Writes fixtures/conformance: the core conformance cases applied to personalised copies
 * of the Home Office examples (other file ids, names, applicant ids and passport numbers),
 * with the verdict the reference schema gives each one in expected.json. The corpus lets
 * oracle.test.ts check the product where the reference is not available (after
 * `npm run conformance:oracle` has recorded their verdicts in oracle.json).
 *
 *   npx tsx test/conformance/generate-fixtures.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CORE_CASES, buildCase, personalisedBases } from './cases.ts';
import {
  CONFORMANCE_FIXTURES,
  HAS_REFERENCE,
  REFERENCE_DIR,
  briefly,
  judge,
  judgeAll,
  limiter,
  referenceSchemas,
  type Verdict,
} from './support.ts';

export interface ExpectedEntry {
  schema: 'upload-general' | 'upload-child' | 'graduate';
  verdict: Verdict;
}

async function main(): Promise<void> {
  if (!HAS_REFERENCE) throw new Error(`the Home Office reference is needed at ${REFERENCE_DIR}`);
  const referenceFiles = [
    ...readdirSync(REFERENCE_DIR).map((f) => path.join(REFERENCE_DIR, f)),
    ...readdirSync(path.join(REFERENCE_DIR, 'examples')).map((f) => path.join(REFERENCE_DIR, 'examples', f)),
  ]
    .filter((f) => /\.(xml|xsd)$/.test(f))
    .map((f) => readFileSync(f));

  const ref = await referenceSchemas();
  const bases = personalisedBases();
  const run = limiter(2);
  try {
    await mkdir(CONFORMANCE_FIXTURES, { recursive: true });
    for (const f of await readdir(CONFORMANCE_FIXTURES)) {
      if (f.endsWith('.xml') || f === 'expected.json') await rm(path.join(CONFORMANCE_FIXTURES, f));
    }

    const expected: Record<string, ExpectedEntry> = {};
    const disagreements: string[] = [];
    const built = CORE_CASES.map((c, i) => ({ c, file: `${String(i + 1).padStart(3, '0')}-${c.id}.xml`, bytes: buildCase(c, bases) }));
    for (const b of built) {
      if (referenceFiles.some((r) => r.equals(b.bytes))) throw new Error(`${b.file} would be a copy of a reference file`);
    }
    // The oracle is Xerces on the reference (one JVM); graduate files have no reference schema: their verdict is the catalogue's.
    const upload = built.filter((b) => b.c.schema !== 'graduate');
    const judged = await judgeAll(
      upload.map((b) => ({ bytes: b.bytes, schema: { path: ref[b.c.schema as 'upload-general' | 'upload-child'] } })),
    );
    const referenceVerdict = new Map(upload.map((b, i) => [b.file, judged[i]!.verdict]));
    await Promise.all(
      built.map(async ({ c, file, bytes }) => {
        const verdict: Verdict = referenceVerdict.get(file) ?? c.expect;
        const project = await run(() => judge(bytes, c.schema));
        if (project.verdict !== verdict) {
          disagreements.push(`${file}: reference ${verdict}, project ${project.verdict} ${briefly(project.violations)}`);
        }
        await writeFile(path.join(CONFORMANCE_FIXTURES, file), bytes);
        expected[file] = { schema: c.schema, verdict };
      }),
    );
    const sorted = Object.fromEntries(Object.entries(expected).sort(([a], [b]) => a.localeCompare(b)));
    await writeFile(path.join(CONFORMANCE_FIXTURES, 'expected.json'), JSON.stringify(sorted, null, 2) + '\n');
    console.log(`wrote ${Object.keys(sorted).length} fixtures to ${CONFORMANCE_FIXTURES}; now run npm run conformance:oracle`);
    if (disagreements.length > 0) {
      console.error(`the project's schemas disagree with the reference on:\n  ${disagreements.join('\n  ')}`);
      process.exitCode = 1;
    }
  } finally {
    await ref.dispose();
  }
}

await main();
