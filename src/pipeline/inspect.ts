/**
 * The file-level steps that need no database: decoding, safety, well-formedness, type and
 * XSD validation. Expected failures come back as FileErrors, never as exceptions.
 */
import { isZip, zipLooksUnfinished } from '../inbox/zip-reader.ts';
import type { FileError, FileType, Route } from '../domain/types.ts';
import { FILE_KINDS, KNOWN_FILE_TYPES, type KnownFileType } from '../domain/file-kinds.ts';
import { decodeXml, type Encoding } from '../xml/decode.ts';
import { parseRecordXml } from '../xml/record-reader.ts';
import { scanDocument, type ScannedDocument } from '../xml/safety.ts';
import { readableSchemaErrors } from '../xml/schema-messages.ts';
import { position, type ElementSpan, type RootInfo } from '../xml/scan.ts';
import { DocSource, FileSource, MemorySource, type TextEncoding } from '../xml/source.ts';
import { startXsdEngine, validateScanned, type EngineVerdict, type SchemaName } from '../xml/xsd.ts';
import { timed } from '../timings.ts';

/** Each kind's root, schema and route, from the registry (src/domain/file-kinds.ts). */
const TYPES: { ns: string; local: string; type: KnownFileType; schema: SchemaName; route?: Route | undefined }[] = KNOWN_FILE_TYPES.map(
  (type) => {
    const k = FILE_KINDS[type];
    return { ns: k.root.ns, local: k.root.local, type, schema: k.schema, route: k.route };
  },
);

/** The header's fields; undefined where the file does not give one. */
export interface Header {
  fileId?: string | undefined;
  schemaId?: string | undefined;
  tierId?: string | undefined;
  category?: string | undefined;
  sponsorLicenceNumber?: string | undefined;
}

export interface Inspected {
  /** The document's text, read a slice at a time (from memory, or from the open file for a large one). */
  source: DocSource;
  root: RootInfo;
  /** The root's child elements in document order (Header first, then the records). */
  children: ElementSpan[];
  fileType: KnownFileType;
  route?: Route | undefined;
  header: Header;
  /**
   * The XSD verdict. With `deferSchema` the file comes back while its validation still
   * runs (in the engine threads), so that records can be read and stored meanwhile: nothing
   * may be committed before this settles ok.
   */
  schema?: Promise<SchemaCheck>;
  /** True once the verdict is known to be a failure, so that storing can stop early. */
  schemaFailed?: () => boolean;
}

export type SchemaCheck = { ok: true } | { ok: false; errors: FileError[]; fileType: FileType; fileId?: string | undefined };

export type Inspection =
  | { ok: true; file: Inspected }
  | { ok: false; errors: FileError[]; fileType: FileType; fileId?: string | undefined; notWellFormed: boolean };

/** The engine step (injectable for tests); the pipeline uses validateScanned. */
export type XsdValidator = typeof validateScanned;

interface InspectOptions {
  validate?: XsdValidator | undefined;
  /** Longest XSD validation (default 60000 ms). */
  timeoutMs?: number | undefined;
  /** Return as soon as the file's type and header are known, the schema verdict in `file.schema` (default false). */
  deferSchema?: boolean;
  /**
   * The open file the bytes were read from: when given, everything after the safety pass
   * reads the document from it, so that the caller may let the bytes go (a UTF-16 file,
   * transcoded, is read from memory all the same). It must stay open and unchanged until
   * the file is done with.
   */
  fd?: number | undefined;
}

/** E_SCHEMA entries listed per file; the rest are counted in one more entry. */
export const MAX_SCHEMA_ERRORS = 100;

const fail = (errors: FileError[], fileType: FileType = 'UNKNOWN', fileId?: string): Inspection => ({
  ok: false,
  errors,
  fileType,
  fileId,
  notWellFormed: errors.some((e) => e.code === 'E_NOT_WELL_FORMED'),
});

async function readHeader(doc: DocSource, children: ElementSpan[]): Promise<Header> {
  const child = children[0];
  if (!child) return {};
  // A reader of its own: the verdict's handler may read the header while the pipeline does.
  const source = doc.fork();
  await source.load(child.start, child.end);
  const node = parseRecordXml(source.slice(child.start, child.end));
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  if (child.local === 'Header') {
    return {
      // An upload's Header, or a fee update's.
      fileId: s(node.BulkUploadFileId) ?? s(node.BulkUpdateFileId),
      schemaId: s(node.SchemaID),
      tierId: s(node.TierID),
      category: s(node.Category),
      sponsorLicenceNumber: s(node.SponsorLicenceNumber),
    };
  }
  // A graduate notification's header (the id only), or a student activity report's (id and licence).
  if (child.local === 'BulkReportingFileHeader') {
    return { fileId: s(node.BulkReportingId), sponsorLicenceNumber: s(node.SponsorLicenceNumber) };
  }
  return {};
}

/** Best effort, for the result of a file rejected before its header could be trusted. */
async function tryHeader(source: DocSource, children: ElementSpan[]): Promise<Header> {
  try {
    return await readHeader(source, children);
  } catch {
    return {};
  }
}

interface Scanned {
  ok: true;
  /** The document in memory (the bytes given to prepare, or their UTF-16 transcoding). */
  source: MemorySource;
  doc: ScannedDocument;
  encoding: Encoding;
  textEncoding: TextEncoding;
  bomLength: number;
  transcoded: boolean;
}

type Prepared = Scanned | { ok: false; error: FileError; mislabelled?: true };

/**
 * Decoding and the safety pass, done once per file: the watcher's early look
 * (looksUnfinished) and the pipeline (inspectFile) receive the same Buffer and share the work.
 */
const prepared = new WeakMap<Buffer, Prepared>();

function prepare(bytes: Buffer): Prepared {
  const known = prepared.get(bytes);
  if (known) return known;
  const p = prepareUncached(bytes);
  prepared.set(bytes, p);
  return p;
}

/** True when the text holds nothing but white space (as String.prototype.trim sees it). */
function blank(bytes: Buffer, encoding: TextEncoding): boolean {
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i]!;
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) i++;
    else if (c < 0x80) return false;
    // Other white space (no-break space, byte-order marks...) is rare: that part is decoded to tell.
    else return bytes.toString(encoding, i).trim() === '';
  }
  return true;
}

function prepareUncached(bytes: Buffer): Prepared {
  const decoded = timed('decode', () => decodeXml(bytes));
  if (!decoded.ok) return decoded;
  const body = decoded.bytes;
  if (blank(body, decoded.textEncoding))
    return { ok: false, error: { code: 'E_NOT_WELL_FORMED', message: 'the file holds no XML (it is empty or only white space)' } };
  const source = new MemorySource(body, decoded.textEncoding);
  const scan = timed('safety pass', () => scanDocument({ bytes: body, encoding: decoded.textEncoding, source }));
  if (!scan.ok) return scan;
  const { encoding, textEncoding, bomLength, transcoded } = decoded;
  return { ok: true, source, doc: scan.doc, encoding, textEncoding, bomLength, transcoded };
}

/**
 * True when the file fails the cheap early steps (encoding, well-formedness) in a way a
 * writer that has not finished would cause. The watcher defers such recent files.
 */
export function looksUnfinished(bytes: Buffer): boolean {
  if (bytes.length === 0) return true;
  // A zip is written front to back: its central directory, last, is what says it is whole.
  if (isZip(bytes)) return zipLooksUnfinished(bytes);
  const p = prepare(bytes);
  // A mislabelled file (UTF-8 or Windows-1252 declared ISO-8859-1) is judged on bytes already there.
  return !p.ok && !p.mislabelled && (p.error.code === 'E_ENCODING' || p.error.code === 'E_NOT_WELL_FORMED');
}

/**
 * Decoding and the safety pass of a file that inspectFile will be given later (the same
 * Buffer: it shares the work), then the engine threads started: for a command that waits
 * on something else meanwhile (`process` while its store opens). A zip is left alone.
 */
export function scanAhead(bytes: Buffer): void {
  if (isZip(bytes)) return;
  if (prepare(bytes).ok) startXsdEngine(1).catch(() => {});
}

/** Namespaces in engine messages are noise to a reader: the element's name says enough. */
const readable = (message: string) => message.replace(/\{[^{}]*\}(?=\w)/g, '');

/** The document an engine verdict is about, for readable schema messages. */
type Source = { source: DocSource; doc: ScannedDocument; encoding: Encoding };

async function engineErrors(verdict: Exclude<EngineVerdict, { kind: 'valid' }>, source: Source): Promise<FileError[]> {
  switch (verdict.kind) {
    case 'forbidden':
      return [{ code: 'E_DOCTYPE_FORBIDDEN', message: 'the file has a DTD; DTDs and entities are never accepted' }];
    case 'limit':
      return [{ code: 'E_LIMIT', message: verdict.message }];
    case 'not-well-formed': {
      const v = verdict.violation;
      return [{ code: 'E_NOT_WELL_FORMED', message: `the file is not well-formed XML: ${readable(v.message)}`, ...position(v) }];
    }
    case 'invalid': {
      const shown = verdict.violations.slice(0, MAX_SCHEMA_ERRORS);
      const listed = await readableSchemaErrors(shown, source.source, source.doc, { encoding: source.encoding });
      const more = verdict.total - shown.length;
      if (more > 0) {
        listed.push({
          code: 'E_SCHEMA',
          message: `${more} more schema violation(s) were found (${verdict.total} in all); only the first ${listed.length} are listed`,
        });
      }
      return listed;
    }
  }
}

/** Steps 3 to 6 of the pipeline (decode, safety, well-formedness, type, schema). */
export async function inspectFile(bytes: Buffer, opts: InspectOptions = {}): Promise<Inspection> {
  // The engine threads start (and compile the schemas) while the file is decoded and scanned;
  // for a large file only once it is scanned, so that its memory does not add to the bytes'.
  if (!opts.validate && opts.fd === undefined) startXsdEngine(1).catch(() => {});
  const scanned = prepare(bytes);
  if (!scanned.ok) return fail([scanned.error]);
  const { doc } = scanned;
  const source: DocSource =
    opts.fd !== undefined && !scanned.transcoded
      ? new FileSource(opts.fd, scanned.bomLength, scanned.source.byteLength, scanned.textEncoding)
      : scanned.source;
  const p: Source = { source, doc, encoding: scanned.encoding };
  const validate = opts.validate ?? validateScanned;
  const engineOpts = { timeoutMs: opts.timeoutMs ?? 60_000, maxViolations: MAX_SCHEMA_ERRORS };
  const { root, children } = doc;

  const kind = TYPES.find((t) => t.local === root.local && t.ns === root.namespace);
  if (!kind) {
    // The type is judged after well-formedness: let the engine parse the file first.
    const parsed = await validate(source, doc, null, engineOpts);
    if (parsed.kind !== 'valid') return fail(await engineErrors(parsed, p));
    const ns = root.namespace ? `{${root.namespace}}` : '(no namespace)';
    return fail([
      {
        code: 'E_UNKNOWN_FILE_TYPE',
        message: `root element ${ns}${root.local} is none of the BDT file kinds: ${KNOWN_FILE_TYPES.map((t) => `${FILE_KINDS[t].title} (${FILE_KINDS[t].root.local})`).join(', ')}, each in its namespace`,
        ...(await source.fork().lineColumnAt(root.start)),
      },
    ]);
  }

  const checking: Promise<SchemaCheck> = timed('xsd validation', () => validate(source, doc, kind.schema, engineOpts)).then(
    async (verdict) => {
      if (verdict.kind === 'valid') return { ok: true };
      const errors = await engineErrors(verdict, p);
      const fileId = errors[0]?.code === 'E_SCHEMA' ? (await tryHeader(source, children)).fileId : undefined;
      return { ok: false, errors, fileType: kind.type, fileId };
    },
  );
  const known = (c: SchemaCheck) => (c.ok ? undefined : fail(c.errors, c.fileType, c.fileId));
  const base = { source, root, children, fileType: kind.type, route: kind.route };
  if (!opts.deferSchema) {
    const c = await checking;
    return (
      known(c) ?? { ok: true, file: { ...base, header: await readHeader(source, children), schema: checking, schemaFailed: () => false } }
    );
  }

  let failed = false;
  checking.then(
    (c) => (failed = !c.ok),
    () => (failed = true),
  );
  let header: Header;
  try {
    header = await readHeader(source, children);
  } catch (err) {
    // A header the engine has not yet passed: its verdict explains the failure.
    const c = await checking;
    if (!c.ok) return known(c)!;
    throw err;
  }
  return { ok: true, file: { ...base, header, schema: checking, schemaFailed: () => failed } };
}
