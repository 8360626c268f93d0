/**
 * Shared helpers of the conformance suite: where the Home Office reference lives, the
 * reference schemas to compare against, bounded parallel validation and small text
 * surgery on XML documents (mutations are made on the text so that everything else in
 * the document stays byte-for-byte as the example had it).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import PQueue from 'p-queue';
import { validateXsd, type SchemaName, type XsdViolation } from '../../src/xml/xsd.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The Home Office reference (never part of the repository); CONFORMANCE_REFERENCE_DIR points elsewhere. */
export const REFERENCE_DIR = path.resolve(
  process.env.CONFORMANCE_REFERENCE_DIR ?? path.join(REPO_ROOT, '../shared/reference/homeoffice-bdt-v2.1'),
);
const REFERENCE_COMMON_XSD = path.join(REFERENCE_DIR, 'BulkDataCommon-v2.1.xsd');
const REFERENCE_GENERAL_XSD = path.join(REFERENCE_DIR, 'BulkDataCASUpload-General-v2.1.xsd');
export const HAS_REFERENCE = existsSync(REFERENCE_COMMON_XSD) && existsSync(REFERENCE_GENERAL_XSD);

export const CONFORMANCE_FIXTURES = path.join(REPO_ROOT, 'fixtures/conformance');

/** The project's own schema files (what the product validates against). */
const projectSchemaPath = (name: SchemaName): string => path.join(REPO_ROOT, 'schemas', `${name}.xsd`);

/**
 * Java (with javac) is only the test-time oracle: the live comparisons need it, nothing
 * else in the suite does. CONFORMANCE_NO_JAVA=1 behaves as if it were absent.
 */
export function hasJava(): boolean {
  javaFound ??=
    process.env.CONFORMANCE_NO_JAVA !== '1' &&
    ['java', 'javac'].every((cmd) => spawnSync(cmd, ['-version'], { stdio: 'ignore', timeout: 30_000 }).status === 0);
  return javaFound;
}
let javaFound: boolean | undefined;

const UPLOAD_NS = 'http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-upload-200910';
const COMMON_NS = 'http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-common-200910';

export type Verdict = 'valid' | 'invalid';

/** The reference's schemas by project schema name. The child root is not published by the Home Office, so a wrapper declares it over the reference common schema. */
interface ReferenceSchemas {
  'upload-general': string;
  'upload-child': string;
  dispose(): Promise<void>;
}

export async function referenceSchemas(): Promise<ReferenceSchemas> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cas-bdt-ref-'));
  const child = path.join(dir, 'reference-child-wrapper.xsd');
  await writeFile(
    child,
    `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:cmn="${COMMON_NS}"
           targetNamespace="${UPLOAD_NS}" elementFormDefault="qualified">
  <xs:import namespace="${COMMON_NS}" schemaLocation="${pathToFileURL(REFERENCE_COMMON_XSD).href}"/>
  <xs:element name="BulkFileUploadChildRootElement" type="cmn:BulkFileUploadChildStructure"/>
</xs:schema>
`,
  );
  return {
    'upload-general': REFERENCE_GENERAL_XSD,
    'upload-child': child,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs at most `n` tasks at once (each validation is a JVM). */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  const queue = new PQueue({ concurrency: n });
  return <T>(task: () => Promise<T>) => queue.add(task, { throwOnTimeout: true });
}

export interface Judgement {
  verdict: Verdict;
  violations: XsdViolation[];
}

/** The product's verdict: validateXsd (whatever engine src/xml/xsd.ts runs) on the project's schema. */
export async function judge(bytes: Buffer, schema: SchemaName): Promise<Judgement> {
  const violations = await validateXsd({ bytes }, schema);
  return { verdict: violations.length === 0 ? 'valid' : 'invalid', violations };
}

const BATCH_SOURCE = path.join(REPO_ROOT, 'test/conformance/java/BatchValidator.java');

/** Compiles the batch validator once per source version (javac is part of the JDK the validator needs). */
function batchValidatorClasspath(): string {
  const source = readFileSync(BATCH_SOURCE);
  const dir = path.join(os.tmpdir(), `cas-bdt-batch-validator-${createHash('sha256').update(source).digest('hex').slice(0, 12)}`);
  if (existsSync(path.join(dir, 'BatchValidator.class'))) return dir;
  const building = `${dir}.${process.pid}`;
  execFileSync('javac', ['-d', building, BATCH_SOURCE]);
  try {
    renameSync(building, dir);
  } catch {
    // Another worker compiled it first.
  }
  return dir;
}

/**
 * The Java oracle (never the product): judges many documents in one JVM (test/conformance/java/BatchValidator.java validates
 * exactly as the product's validator does, minus a JVM start per document).
 */
export async function judgeAll(items: { bytes: Buffer; schema: SchemaName | { path: string } }[]): Promise<Judgement[]> {
  if (!hasJava()) throw new Error('the conformance oracle needs java and javac on PATH');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cas-bdt-judge-'));
  try {
    const lines: string[] = [];
    for (const [i, item] of items.entries()) {
      const file = path.join(dir, `${i}.xml`);
      await writeFile(file, item.bytes);
      lines.push(`${typeof item.schema === 'string' ? projectSchemaPath(item.schema) : path.resolve(item.schema.path)}\t${file}`);
    }
    const child = spawn('java', ['-cp', batchValidatorClasspath(), 'BatchValidator'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stdin.end(`${lines.join('\n')}\n`);
    const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', resolve));
    if (code !== 0) throw new Error(`batch validator exited with ${code}`);
    const results: Judgement[] = [];
    let current: XsdViolation[] | undefined;
    for (const line of out.split('\n')) {
      if (line.startsWith('DOC ')) current = [];
      else if (line === 'END' && current) {
        results.push({ verdict: current.length === 0 ? 'valid' : 'invalid', violations: current });
        current = undefined;
      } else if (line.startsWith('ERR ') && current) {
        const m = /^ERR (\w+) (-?\d+) (-?\d+) (.*)$/.exec(line)!;
        const v: XsdViolation = { severity: m[1] as NonNullable<XsdViolation['severity']>, message: m[4]!.replace(/^cvc-[\w.-]+:\s*/, '') };
        if (Number(m[2]) > 0) v.line = Number(m[2]);
        if (Number(m[3]) > 0) v.column = Number(m[3]);
        current.push(v);
      }
    }
    if (results.length !== items.length) throw new Error(`batch validator answered ${results.length} of ${items.length} documents`);
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function briefly(violations: XsdViolation[]): string {
  return violations
    .slice(0, 3)
    .map((v) => `${v.line ?? '?'}:${v.column ?? '?'} ${v.message}`)
    .join(' | ');
}

// ---------------------------------------------------------------------------
// Text surgery. Documents are handled as ISO-8859-1 decoded strings (one char per
// byte), which round-trips every byte of the Home Office files.

/** Matches one element by local or qualified name, with its content, or its empty form. */
function elementPattern(name: string): RegExp {
  const n = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`<${n}(?:\\s[^>]*)?/>|<${n}(?:\\s[^>]*)?>[\\s\\S]*?</${n}>`, 'g');
}

interface Found {
  start: number;
  end: number;
  text: string;
}

function find(doc: string, name: string, nth: number): Found {
  const re = elementPattern(name);
  let m: RegExpExecArray | null;
  let i = 0;
  while ((m = re.exec(doc)) !== null) {
    if (i === nth) return { start: m.index, end: m.index + m[0].length, text: m[0] };
    i++;
  }
  throw new Error(`mutation target <${name}> #${nth} not found`);
}

export function getElement(doc: string, name: string, nth = 0): string {
  return find(doc, name, nth).text;
}

export function count(doc: string, name: string): number {
  return [...doc.matchAll(elementPattern(name))].length;
}

/** Replaces the text content of the nth element `name` (raw XML: escape yourself). */
export function setText(doc: string, name: string, value: string, nth = 0): string {
  const f = find(doc, name, nth);
  const open = /^<[^>]*?(\/?)>/.exec(f.text)![0].replace(/\s*\/>$/, '>');
  const close = `</${name}>`;
  return doc.slice(0, f.start) + open + value + close + doc.slice(f.end);
}

/** Removes the nth element `name` and the indentation before it. */
export function remove(doc: string, name: string, nth = 0): string {
  const f = find(doc, name, nth);
  let start = f.start;
  while (start > 0 && (doc[start - 1] === ' ' || doc[start - 1] === '\t')) start--;
  return doc.slice(0, start) + doc.slice(f.end);
}

export function insertAfter(doc: string, name: string, xml: string, nth = 0): string {
  const f = find(doc, name, nth);
  return doc.slice(0, f.end) + xml + doc.slice(f.end);
}

export function insertBefore(doc: string, name: string, xml: string, nth = 0): string {
  const f = find(doc, name, nth);
  return doc.slice(0, f.start) + xml + doc.slice(f.start);
}

/** Adds raw markup just inside the start tag of the nth element `name`. */
export function prependInside(doc: string, name: string, xml: string, nth = 0): string {
  const f = find(doc, name, nth);
  const openEnd = f.text.indexOf('>') + 1;
  return doc.slice(0, f.start + openEnd) + xml + doc.slice(f.start + openEnd);
}

/** Adds attributes to the start tag of the nth element `name`. */
export function addAttributes(doc: string, name: string, attrs: string, nth = 0): string {
  const at = find(doc, name, nth).start + 1 + name.length;
  return doc.slice(0, at) + ' ' + attrs + doc.slice(at);
}

/** Moves the nth element `name` to just after element `after` (its first occurrence at or after the original position unless `afterNth` is given). */
export function moveAfter(doc: string, name: string, after: string, nth = 0, afterNth = 0): string {
  const moved = getElement(doc, name, nth);
  const without = remove(doc, name, nth);
  return insertAfter(without, after, moved, afterNth);
}

/** Swaps the nth elements `a` and `b` (siblings; `a` first in the document). */
export function swap(doc: string, a: string, b: string, nthA = 0, nthB = 0): string {
  const fa = find(doc, a, nthA);
  const fb = find(doc, b, nthB);
  if (fa.start > fb.start) throw new Error(`swap: <${a}> must come before <${b}>`);
  return doc.slice(0, fa.start) + fb.text + doc.slice(fa.end, fb.start) + fa.text + doc.slice(fb.end);
}

/** Renames every start and end tag of `from` (qualified names as written). */
export function renameTag(doc: string, from: string, to: string): string {
  const n = from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return doc.replace(new RegExp(`<(/?)${n}(?=[\\s/>])`, 'g'), `<$1${to}`);
}

export function repeat(n: number, unit = 'A'): string {
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

/** The document as bytes in the encoding its declaration names (ISO-8859-1 unless told). */
export function latin1(doc: string): Buffer {
  for (let i = 0; i < doc.length; i++) {
    if (doc.charCodeAt(i) > 0xff)
      throw new Error(`character U+${doc.charCodeAt(i).toString(16)} cannot be written as ISO-8859-1; use a character reference`);
  }
  return Buffer.from(doc, 'latin1');
}
