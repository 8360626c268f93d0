/**
 * Records the conformance oracle's verdicts in fixtures/conformance/oracle.json: every
 * catalogue case of cases.ts and every committed fixture, judged by Xerces on the Home
 * Office reference schema (one JVM for the lot), graduate files by the catalogue.
 * Needs Java (java and javac) and the reference (../shared/reference, or
 * CONFORMANCE_REFERENCE_DIR).
 *
 *   npm run conformance:oracle        (npx tsx test/conformance/record-oracle.ts)
 *
 * It also reports, and exits 1 for, any case where the oracle says something other than
 * what the catalogue or expected.json documents, and any document that would be a
 * byte-identical copy of a reference file if it were committed (none is: only hashes
 * and verdicts are written).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ALL_CASES } from './cases.ts';
import { ORACLE_FILE, askOracle, catalogueDocs, fixtureDocs, readOracle, writeOracle, type OracleEntry } from './oracle.ts';
import { hasJava, HAS_REFERENCE, REFERENCE_DIR, judgeAll } from './support.ts';

async function main(): Promise<void> {
  if (!HAS_REFERENCE) throw new Error(`the Home Office reference is needed at ${REFERENCE_DIR} (or set CONFORMANCE_REFERENCE_DIR)`);
  if (!hasJava()) throw new Error('java and javac are needed on PATH: the oracle is Xerces');

  const started = Date.now();
  const catalogue = catalogueDocs();
  const fixtures = fixtureDocs();
  if (catalogue.length !== ALL_CASES.length) throw new Error('catalogue and cases.ts disagree');
  const docs = [...catalogue, ...fixtures];

  // The committed fixtures must never be copies of the reference files.
  const referenceFiles = [
    ...readdirSync(REFERENCE_DIR).map((f) => path.join(REFERENCE_DIR, f)),
    ...readdirSync(path.join(REFERENCE_DIR, 'examples')).map((f) => path.join(REFERENCE_DIR, 'examples', f)),
  ]
    .filter((f) => /\.(xml|xsd)$/i.test(f))
    .map((f) => readFileSync(f));
  for (const d of fixtures) {
    if (referenceFiles.some((r) => r.equals(d.bytes))) throw new Error(`${d.id} is a copy of a reference file`);
  }

  const verdicts = await askOracle(docs);

  // Graduate verdicts come from the catalogue; Xerces on the project's graduate schema must agree with it.
  const graduate = docs.filter((d) => d.schema === 'graduate');
  const graduateXerces = await judgeAll(graduate.map((d) => ({ bytes: d.bytes, schema: 'graduate' as const })));

  const problems: string[] = [];
  for (const d of docs) {
    const v = verdicts.get(d.id)!;
    if (v.verdict !== d.documented) {
      problems.push(
        `${d.id}: the oracle says ${v.verdict}, ${d.id.startsWith('fixtures/') ? 'expected.json' : 'cases.ts'} documents ${d.documented} ${v.because ?? ''}`,
      );
    }
  }
  graduate.forEach((d, i) => {
    if (graduateXerces[i]!.verdict !== d.documented) {
      problems.push(`${d.id}: Xerces on schemas/graduate.xsd says ${graduateXerces[i]!.verdict}, the catalogue documents ${d.documented}`);
    }
  });

  const before = readOracle()?.cases ?? {};
  const entries: Record<string, OracleEntry> = Object.fromEntries(verdicts);
  const changed = Object.keys(entries).filter(
    (id) => !before[id] || before[id].verdict !== entries[id]!.verdict || before[id].sha256 !== entries[id]!.sha256,
  );
  const dropped = Object.keys(before).filter((id) => !entries[id]);
  await writeOracle(entries);

  const n = (v: string) => Object.values(entries).filter((e) => e.verdict === v).length;
  console.log(
    `wrote ${Object.keys(entries).length} verdicts (${n('valid')} valid, ${n('invalid')} invalid; ` +
      `${catalogue.length} catalogue cases, ${fixtures.length} fixtures) to ${path.relative(process.cwd(), ORACLE_FILE)} ` +
      `in ${((Date.now() - started) / 1000).toFixed(1)}s; ${changed.length} new or changed, ${dropped.length} dropped`,
  );
  for (const id of changed.slice(0, 20)) console.log(`  changed: ${id}`);
  for (const id of dropped.slice(0, 20)) console.log(`  dropped: ${id}`);
  if (problems.length > 0) {
    console.error(`the oracle disagrees with the documented verdicts on ${problems.length} document(s):\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

await main();
