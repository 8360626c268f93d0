/**
 * Writes fixtures/conformance: the core conformance cases applied to personalised copies
 * of the Home Office examples (other file ids, names, applicant ids and passport numbers),
 * with the verdict the reference schema gives each one in expected.json. The corpus lets
 * fixtures.test.ts check the project's schemas where the reference is not available.
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
    await Promise.all(
      CORE_CASES.map(async (c, i) => {
        const file = `${String(i + 1).padStart(3, '0')}-${c.id}.xml`;
        const bytes = buildCase(c, bases);
        if (referenceFiles.some((r) => r.equals(bytes))) throw new Error(`${file} would be a copy of a reference file`);
        const project = await run(() => judge(bytes, c.schema));
        const refSchema = c.schema === 'graduate' ? undefined : ref[c.schema];
        // Graduate files have no reference schema: their verdict is the catalogue's.
        const verdict = refSchema ? (await run(() => judge(bytes, { path: refSchema }))).verdict : c.expect;
        if (project.verdict !== verdict) {
          disagreements.push(`${file}: reference ${verdict}, project ${project.verdict} ${briefly(project.violations)}`);
        }
        await writeFile(path.join(CONFORMANCE_FIXTURES, file), bytes);
        expected[file] = { schema: c.schema, verdict };
      }),
    );
    const sorted = Object.fromEntries(Object.entries(expected).sort(([a], [b]) => a.localeCompare(b)));
    await writeFile(path.join(CONFORMANCE_FIXTURES, 'expected.json'), JSON.stringify(sorted, null, 2) + '\n');
    console.log(`wrote ${Object.keys(sorted).length} fixtures to ${CONFORMANCE_FIXTURES}`);
    if (disagreements.length > 0) {
      console.error(`the project's schemas disagree with the reference on:\n  ${disagreements.join('\n  ')}`);
      process.exitCode = 1;
    }
  } finally {
    await ref.dispose();
  }
}

await main();
