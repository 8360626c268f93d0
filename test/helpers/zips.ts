/**
 * Zips for tests: well-made ones (yazl), hand-built hostile ones (every header field
 * chosen by the test), and a reader of result zips that validates what it finds
 * (container.result.xml against container-result.xsd, each entry result against result.xsd).
 */
import { deflateRawSync, crc32, createDeflateRaw } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { casXml, graduateBytes, uploadBytes } from '../../src/xml/bdt-samples.ts';
import { validateXsd } from '../../src/xml/xsd.ts';
import { emitResult } from '../../src/pipeline/emit.ts';
import { processFile, type Processed } from '../../src/pipeline/process-file.ts';
import { sha256Of } from '../../src/inbox/read-file.ts';
import { parseResult, type ParsedResult, type PipelineHarness } from './pipeline.ts';

/** A zip of these entries, made as an ordinary archiver would (deflate), optionally zip64. */
export function zipOf(entries: { name: string; data: Buffer }[], opts: { zip64?: boolean } = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries)
    zip.addBuffer(e.data, e.name, { mtime: new Date('2024-02-02T09:25:14Z'), forceZip64Format: opts.zip64 ?? false });
  zip.end();
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    zip.outputStream.on('data', (b: Buffer) => parts.push(b));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(parts)));
  });
}

/** One entry of a hand-built zip: every field the hostile cases need to lie about. */
interface RawEntry {
  name: string | Buffer;
  data: Buffer;
  /** 0 stored, 8 deflate (default), anything else claimed as is. */
  method?: number;
  /** The compressed bytes (default: `data` stored or deflated by `method`). */
  compressed?: Buffer;
  /** General purpose flags (bit 0: encrypted; bit 11: UTF-8 names, set by default). */
  flags?: number;
  /** The uncompressed size the headers state (default the true one). */
  statedSize?: number;
  crc?: number;
  /** Made by Unix with this mode (e.g. 0o120777 for a symbolic link). */
  unixMode?: number;
}

/** A zip built byte by byte from `entries`: local headers, data, central directory, end record. */
export function rawZip(entries: RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = typeof e.name === 'string' ? Buffer.from(e.name, 'utf8') : e.name;
    const method = e.method ?? 8;
    const compressed = e.compressed ?? (method === 8 ? deflateRawSync(e.data) : e.data);
    const crc = e.crc ?? crc32(e.data);
    const size = e.statedSize ?? e.data.length;
    const flags = e.flags ?? 0x800;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, compressed);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.unixMode !== undefined ? (3 << 8) | 20 : 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(e.unixMode !== undefined ? (e.unixMode << 16) >>> 0 : 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + compressed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** `n` bytes of zeros deflated, made a megabyte at a time (never held whole). */
export async function deflatedZeros(n: number): Promise<Buffer> {
  const d = createDeflateRaw({ level: 9 });
  const parts: Buffer[] = [];
  d.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise((resolve) => d.on('end', resolve));
  const mb = Buffer.alloc(1 << 20);
  for (let left = n; left > 0; left -= mb.length) {
    const chunk = left >= mb.length ? mb : mb.subarray(0, left);
    if (!d.write(chunk)) await new Promise((resolve) => d.once('drain', resolve));
  }
  d.end();
  await done;
  return Buffer.concat(parts);
}

/** The three files of the Tribal-style zip: a good upload, one that breaks the schema, a graduate report. */
export function tribalEntries(licence: string, tag: string): { name: string; data: Buffer }[] {
  const good = uploadBytes({ licence, fileId: `ZIP-${tag}-1`, records: [casXml({ applicantId: `${tag}-1`, passport: `Z${tag}1` })] });
  const invalid = Buffer.from(
    uploadBytes({ licence, fileId: `ZIP-${tag}-2`, records: [casXml({ applicantId: `${tag}-2`, passport: `Z${tag}2` })] })
      .toString('latin1')
      .replace(/<TierID>Tier 4<\/TierID>/, '<TierID>Tier 4</TierID><Unexpected>x</Unexpected>'),
    'latin1',
  );
  return [
    { name: 'upload-1.xml', data: good },
    { name: 'upload-2.xml', data: invalid },
    { name: 'graduates.xml', data: graduateBytes(`GR-${tag}`, ['E4G1AB2C34D5E6']) },
  ];
}

/** Tribal Edge's name for an upload it sends. */
export const TRIBAL_NAME = 'EXP-2024-02-02-092514533.zip';

interface ContainerEntryParsed {
  '@_name': string;
  '@_submissionId'?: string;
  '@_result'?: string;
  '#text'?: string;
  Error?: { '@_code': string; '#text': string };
}

interface ParsedContainer {
  FileName: string;
  Sha256: string;
  SponsorLicenceNumber: string;
  Outcome: string;
  Entry: ContainerEntryParsed[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  removeNSPrefix: true,
  isArray: (name) => name === 'Entry',
});

/** Every entry of a zip, by name, in order. */
async function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  const out = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, s) => {
        if (err || !s) return reject(err);
        const parts: Buffer[] = [];
        s.on('data', (b: Buffer) => parts.push(b));
        s.on('error', reject);
        s.on('end', () => {
          out.set(entry.fileName, Buffer.concat(parts));
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  return out;
}

/** A result zip read and validated: the container result and each entry's result, by file name. */
export async function readResultZip(
  file: string,
): Promise<{ container: ParsedContainer; results: Map<string, ParsedResult>; names: string[] }> {
  const files = await unzip(readFileSync(file));
  const containerXml = files.get('container.result.xml');
  if (!containerXml) throw new Error(`${file} holds no container.result.xml`);
  const violations = await validateXsd({ bytes: containerXml }, 'container-result');
  if (violations.length)
    throw new Error(`container.result.xml does not validate: ${JSON.stringify(violations)}\n${containerXml.toString()}`);
  const results = new Map<string, ParsedResult>();
  for (const [name, bytes] of files) {
    if (name === 'container.result.xml') continue;
    const v = await validateXsd({ bytes }, 'result');
    if (v.length) throw new Error(`${name} does not validate: ${JSON.stringify(v)}`);
    results.set(name, parseResult(bytes.toString('utf8')));
  }
  const container = (parser.parse(containerXml.toString('utf8')) as { ContainerResult: ParsedContainer }).ContainerResult;
  container.Entry ??= [];
  return { container, results, names: [...files.keys()] };
}

/** What a hostile zip must come to: the whole zip refused with a code, or one entry refused for a reason. */
export type ZipExpect =
  { container: 'E_ZIP_CORRUPT' | 'E_ZIP_EMPTY' | 'E_ZIP_LIMIT' } | { entry: string; reason: RegExp } | { accepted: number };

export interface ZipCase {
  kind: string;
  bytes: Buffer;
  expect: ZipExpect;
}

/**
 * The hostile zips of spec section 4a for `licence` (each entry-level case also holds a
 * good upload, which must be processed as usual). `zeros`: 300 MB of zeros, deflated.
 */
export async function hostileZips(licence: string, tag: string, zeros: Buffer): Promise<ZipCase[]> {
  let n = 0;
  const good = () =>
    uploadBytes({ licence, fileId: `HZ-${tag}-${++n}`, records: [casXml({ applicantId: `${tag}-${n}`, passport: `H${tag}${n}` })] });
  const withGood = (bad: RawEntry): Buffer => rawZip([{ name: 'good.xml', data: good() }, bad]);
  const entry = (name: string, reason: RegExp, bytes: Buffer) => ({ bytes, expect: { entry: name, reason } });
  const tribal = await zipOf(tribalEntries(licence, `${tag}T`));
  const corruptCd = Buffer.from(tribal);
  corruptCd.writeUInt32LE(0xdeadbeef, corruptCd.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])));
  const oneMbZeros = Buffer.alloc(1 << 20);
  return [
    { kind: 'path traversal', ...entry('../evil.xml', /holds a path/, withGood({ name: '../evil.xml', data: good() })) },
    { kind: 'absolute name', ...entry('/etc/evil.xml', /holds a path/, withGood({ name: '/etc/evil.xml', data: good() })) },
    { kind: 'backslash path', ...entry('dir\\evil.xml', /holds a path/, withGood({ name: 'dir\\evil.xml', data: good() })) },
    { kind: 'bare ..', ...entry('..xml', /"\.\."/, withGood({ name: '..xml', data: good() })) },
    { kind: 'drive letter', ...entry('C:evil.xml', /drive letter/, withGood({ name: 'C:evil.xml', data: good() })) },
    { kind: 'control characters', ...entry('evil\\x07.xml', /control characters/, withGood({ name: 'evil\u0007.xml', data: good() })) },
    {
      kind: 'duplicate names',
      bytes: rawZip([
        { name: 'same.xml', data: good() },
        { name: 'SAME.xml', data: good() },
      ]),
      expect: { entry: 'SAME.xml', reason: /repeats an earlier entry/ },
    },
    { kind: 'nested zip by name', ...entry('inner.zip', /nested zip/, withGood({ name: 'inner.zip', data: tribal })) },
    { kind: 'nested zip named .xml', ...entry('inner.xml', /nested zip/, withGood({ name: 'inner.xml', data: tribal })) },
    { kind: 'not an .xml file', ...entry('readme.txt', /not an \.xml file/, withGood({ name: 'readme.txt', data: Buffer.from('hello') })) },
    { kind: 'encrypted entry', ...entry('secret.xml', /encrypted/, withGood({ name: 'secret.xml', data: good(), flags: 0x801 })) },
    {
      kind: 'symbolic link',
      ...entry('link.xml', /a link/, withGood({ name: 'link.xml', data: Buffer.from('/etc/passwd'), method: 0, unixMode: 0o120777 })),
    },
    {
      kind: 'unsupported method (bzip2)',
      ...entry('bz.xml', /method 12/, withGood({ name: 'bz.xml', data: good(), method: 12, compressed: Buffer.from('BZh91AY&SY') })),
    },
    {
      kind: 'a 300 MB entry of zeros',
      ...entry(
        'zeros.xml',
        /expands to 300\.0 MB; the limit/,
        withGood({ name: 'zeros.xml', data: Buffer.alloc(0), compressed: zeros, statedSize: 300 * 1024 * 1024, crc: 0 }),
      ),
    },
    {
      kind: 'an entry at 1,000x its compressed size',
      ...entry(
        'ratio.xml',
        /more than 200 times/,
        withGood({ name: 'ratio.xml', data: oneMbZeros, compressed: deflateRawSync(oneMbZeros, { level: 9 }) }),
      ),
    },
    {
      kind: 'a header that under-states the size (300 MB of zeros stated as 1 KB)',
      ...entry(
        'understated.xml',
        /another size than its headers state/,
        withGood({ name: 'understated.xml', data: Buffer.alloc(0), compressed: zeros, statedSize: 1024, crc: 0 }),
      ),
    },
    { kind: 'a wrong CRC', ...entry('crc.xml', /another CRC/, withGood({ name: 'crc.xml', data: good(), crc: 0x12345678 })) },
    {
      kind: 'corrupt deflate data',
      ...entry('bad.xml', /corrupt|another size/, withGood({ name: 'bad.xml', data: good(), compressed: Buffer.alloc(2000, 0xff) })),
    },
    {
      kind: '1,001 entries',
      bytes: rawZip(Array.from({ length: 1001 }, (_, i) => ({ name: `e${i}.xml`, data: Buffer.from('<a/>'), method: 0 }))),
      expect: { container: 'E_ZIP_LIMIT' },
    },
    { kind: 'truncated archive', bytes: tribal.subarray(0, Math.floor(tribal.length / 2)), expect: { container: 'E_ZIP_CORRUPT' } },
    { kind: 'corrupt central directory', bytes: corruptCd, expect: { container: 'E_ZIP_CORRUPT' } },
    { kind: 'no .xml entry', bytes: rawZip([{ name: 'notes.txt', data: Buffer.from('hello') }]), expect: { container: 'E_ZIP_EMPTY' } },
    { kind: 'zip64', bytes: await zipOf([{ name: 'z64.xml', data: good() }], { zip64: true }), expect: { accepted: 1 } },
  ];
}

interface ZipRun {
  processed: Processed;
  resultFile: string;
  /** The plain result of a zip refused as a whole. */
  plain?: ParsedResult;
  /** The result zip of a zip whose entries were processed. */
  zip?: Awaited<ReturnType<typeof readResultZip>>;
}

/** Runs the pipeline on zip bytes and reads (and validates) what it wrote. */
export async function runZip(h: PipelineHarness, bytes: Buffer, name: string, licence: string): Promise<ZipRun> {
  const processed = await processFile(
    { db: h.store.db, settings: h.settings, ...(h.now ? { clock: () => h.now! } : {}) },
    { sponsorLicenceNumber: licence, fileName: name, bytes, size: bytes.length, sha256: sha256Of(bytes), receivedAt: new Date() },
  );
  const resultFile = await emitResult(h.store.db, h.outDir, {
    submissionId: processed.submissionId,
    fileName: name,
    resultXml: processed.resultXml,
    summary: processed.summary,
    ...(processed.files ? { files: processed.files } : {}),
  });
  if (resultFile.endsWith('.zip')) return { processed, resultFile, zip: await readResultZip(resultFile) };
  const violations = await validateXsd({ file: resultFile }, 'result');
  if (violations.length) throw new Error(`result does not validate: ${JSON.stringify(violations)}`);
  return { processed, resultFile, plain: parseResult(readFileSync(resultFile, 'utf8')) };
}

/** Checks a run against what its case expects; returns a description of the mismatch, or undefined. */
export function mismatch(
  run: { plain?: ParsedResult; zip?: Awaited<ReturnType<typeof readResultZip>> },
  expected: ZipExpect,
): string | undefined {
  if ('container' in expected) {
    const codes = run.plain?.FileErrors?.Error.map((e) => e['@_code']) ?? [];
    return codes.length === 1 && codes[0] === expected.container
      ? undefined
      : `expected ${expected.container}, got ${codes.join(',') || 'a result zip'}`;
  }
  const entries = run.zip?.container.Entry;
  if (!entries) return `expected a result zip, got ${run.plain?.FileErrors?.Error.map((e) => `${e['@_code']}: ${e['#text']}`).join(',')}`;
  if ('accepted' in expected) {
    const ok = entries.filter((e) => e['#text'] === 'ACCEPTED').length;
    return ok === expected.accepted && run.zip!.container.Outcome === 'ACCEPTED'
      ? undefined
      : `expected ${expected.accepted} accepted, got ${JSON.stringify(entries)}`;
  }
  const bad = entries.find((e) => e['@_name'] === expected.entry);
  if (!bad?.Error || bad.Error['@_code'] !== 'E_ZIP_ENTRY' || !expected.reason.test(bad.Error['#text']))
    return `expected ${expected.entry} refused (${expected.reason}), got ${JSON.stringify(entries)}`;
  const others = entries.filter((e) => e !== bad);
  if (others.some((e) => e.Error === undefined && e['#text'] !== 'ACCEPTED'))
    return `the good entry was not accepted: ${JSON.stringify(entries)}`;
  if (bad['@_submissionId'] !== undefined || run.zip!.names.some((n) => n.startsWith(expected.entry.replace(/\.xml$/, '') + '.'))) {
    if (expected.entry !== 'SAME.xml') return `the refused entry has a submission or a result file: ${JSON.stringify(bad)}`;
  }
  return run.zip!.container.Outcome === 'REJECTED' ? undefined : 'the container should be REJECTED';
}
