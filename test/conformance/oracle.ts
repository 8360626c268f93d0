/**
 * The recorded conformance oracle: for every catalogue case (cases.ts) and every
 * committed fixture (fixtures/conformance) the verdict of the Home Office reference
 * schema validated by Java's Xerces, with the sha256 of the document it was given, in
 * fixtures/conformance/oracle.json. record-oracle.ts writes it (Java and the reference
 * needed); oracle.test.ts checks the product's validator against it (neither needed).
 *
 * Graduate files have no Home Office schema: their verdict is the catalogue's (for
 * fixtures, expected.json's, which generate-fixtures.ts took from the catalogue), as the
 * differential suite has always judged them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ALL_CASES, buildCase, referenceBases, type Case } from './cases.ts';
import {
  CONFORMANCE_FIXTURES,
  HAS_REFERENCE,
  briefly,
  judge,
  judgeAll,
  limiter,
  referenceSchemas,
  type Judgement,
  type Verdict,
} from './support.ts';

export const ORACLE_FILE = path.join(CONFORMANCE_FIXTURES, 'oracle.json');
export const REGENERATE =
  'run npm run conformance:oracle (Java and the Home Office reference needed) and commit fixtures/conformance/oracle.json';

export type DocSchema = Case['schema'];

/** Who gave the verdict: Xerces on the Home Office reference, or the project's own contract (graduate files). */
export type OracleSource = 'reference-xerces' | 'catalogue';

export interface OracleEntry {
  schema: DocSchema;
  verdict: Verdict;
  sha256: string;
  oracle: OracleSource;
  /** The oracle's first message for an invalid document (a hint when the engine disagrees). */
  because?: string;
}

interface OracleFile {
  about: string;
  cases: Record<string, OracleEntry>;
}

/** One document of the oracle corpus, built. */
export interface OracleDoc {
  /** `catalogue/<case id>` or `fixtures/<file name>`. */
  id: string;
  group: string;
  schema: DocSchema;
  bytes: Buffer;
  /** What the catalogue or expected.json documents (the oracle may say otherwise: that is reported). */
  documented: Verdict;
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

interface ExpectedEntry {
  schema: DocSchema;
  verdict: Verdict;
}

export function expectedFixtures(): Record<string, ExpectedEntry> {
  return JSON.parse(readFileSync(path.join(CONFORMANCE_FIXTURES, 'expected.json'), 'utf8')) as Record<string, ExpectedEntry>;
}

/** The committed corpus: needs nothing outside the repository. */
export function fixtureDocs(): OracleDoc[] {
  const expected = expectedFixtures();
  const onDisk = readdirSync(CONFORMANCE_FIXTURES).filter((f) => f.endsWith('.xml'));
  for (const f of onDisk) if (!expected[f]) throw new Error(`fixtures/conformance/${f} has no entry in expected.json`);
  return Object.keys(expected)
    .sort()
    .map((f) => ({
      id: `fixtures/${f}`,
      group: 'fixtures',
      schema: expected[f]!.schema,
      bytes: readFileSync(path.join(CONFORMANCE_FIXTURES, f)),
      documented: expected[f]!.verdict,
    }));
}

/** Every catalogue case, built from the Home Office examples (the reference must be present). */
export function catalogueDocs(): OracleDoc[] {
  const bases = referenceBases();
  return ALL_CASES.map((c) => ({
    id: `catalogue/${c.id}`,
    group: c.group,
    schema: c.schema,
    bytes: buildCase(c, bases),
    documented: c.expect,
  }));
}

/** The whole corpus that can be built here, and what could not be (with why). */
export function oracleDocs(): { docs: OracleDoc[]; skipped: string | undefined } {
  if (!HAS_REFERENCE) {
    return {
      docs: fixtureDocs(),
      skipped: `the ${ALL_CASES.length} catalogue cases are built from the Home Office reference examples, which are not here`,
    };
  }
  return { docs: [...catalogueDocs(), ...fixtureDocs()], skipped: undefined };
}

export function readOracle(): OracleFile | undefined {
  if (!existsSync(ORACLE_FILE)) return undefined;
  return JSON.parse(readFileSync(ORACLE_FILE, 'utf8')) as OracleFile;
}

export async function writeOracle(entries: Record<string, OracleEntry>): Promise<void> {
  const sorted = Object.fromEntries(Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const file: OracleFile = {
    about:
      'Verdicts of the conformance oracle (Xerces on the Home Office reference schema v2.1; graduate files: the catalogue) ' +
      'for every case of test/conformance/cases.ts and every file of fixtures/conformance, with the sha256 of the document judged. ' +
      'Written by npm run conformance:oracle; checked against the product validator by test/conformance/oracle.test.ts.',
    cases: sorted,
  };
  await writeFile(ORACLE_FILE, JSON.stringify(file, null, 2) + '\n');
}

const firstMessage = (j: Judgement): string | undefined => {
  const v = j.violations[0];
  if (!v) return undefined;
  const m = `${v.line ?? '?'}:${v.column ?? '?'} ${v.message}`;
  return m.length > 200 ? `${m.slice(0, 197)}...` : m;
};

/**
 * Asks the live oracle: upload documents go through Xerces (one JVM for all of them) on
 * the reference schemas; graduate documents get their documented verdict.
 */
export async function askOracle(docs: OracleDoc[]): Promise<Map<string, OracleEntry>> {
  const ref = await referenceSchemas();
  try {
    const upload = docs.filter((d) => d.schema !== 'graduate');
    const judged = await judgeAll(
      upload.map((d) => ({ bytes: d.bytes, schema: { path: ref[d.schema as 'upload-general' | 'upload-child'] } })),
    );
    const out = new Map<string, OracleEntry>();
    upload.forEach((d, i) => {
      const j = judged[i]!;
      const because = firstMessage(j);
      out.set(d.id, {
        schema: d.schema,
        verdict: j.verdict,
        sha256: sha256(d.bytes),
        oracle: 'reference-xerces',
        ...(because ? { because } : {}),
      });
    });
    for (const d of docs.filter((x) => x.schema === 'graduate')) {
      out.set(d.id, { schema: d.schema, verdict: d.documented, sha256: sha256(d.bytes), oracle: 'catalogue' });
    }
    return out;
  } finally {
    await ref.dispose();
  }
}

/** What the product's validator (src/xml/xsd.ts, whatever its engine) says of each document; an Error when it threw. */
export async function judgeWithProduct(
  docs: OracleDoc[],
  concurrency = Math.max(2, availableParallelism()),
): Promise<Map<string, Judgement | Error>> {
  const run = limiter(concurrency);
  const out = new Map<string, Judgement | Error>();
  await Promise.all(
    docs.map((d) =>
      run(async () => {
        try {
          out.set(d.id, await judge(d.bytes, d.schema));
        } catch (err) {
          out.set(d.id, err instanceof Error ? err : new Error(String(err)));
        }
      }),
    ),
  );
  return out;
}

/** Engine vs oracle for one document: undefined when they agree, else a line saying how they differ. */
export function disagreement(d: OracleDoc, oracle: OracleEntry, product: Judgement | Error | undefined): string | undefined {
  if (product === undefined) return `${d.id}: not validated`;
  if (product instanceof Error) return `${d.id}: the validator threw: ${product.message}`;
  if (product.verdict === oracle.verdict) return undefined;
  return (
    `${d.id} (${d.schema}): the product says ${product.verdict}, the oracle (${oracle.oracle}) says ${oracle.verdict}` +
    (product.violations.length ? ` [product: ${briefly(product.violations)}]` : '') +
    (oracle.because ? ` [oracle: ${oracle.because}]` : '')
  );
}
