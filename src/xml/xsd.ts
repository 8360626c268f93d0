/**
 * XSD validation in process: libxml2 (WebAssembly) in worker threads, against the
 * project's own schemas, nothing else ever loaded.
 *
 * A document is validated in chunks, each a small document of its own: the root's start
 * tag, the first child (the Header) and a run of the following children, so memory stays
 * bounded for a 200 MB file. The schemas allow it: the root holds a Header followed by
 * any number of records, with no identity constraint across records. Every character of
 * the root's content is in exactly one chunk; positions are mapped back to the file's
 * lines, and what the repeated start tag and Header produce is counted only once.
 */
import { transcode } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeXml } from './decode.ts';
import { scanDocument, type ScannedDocument } from './safety.ts';
import { position } from './scan.ts';
import { DocSource, MemorySource, sourceOfText } from './source.ts';
import { isCasBdtError } from '../errors.ts';
import { EnginePool, loadSchemas } from './xsd-pool.ts';
import type { EngineDetail } from './xsd-protocol.ts';

export type SchemaName =
  'upload-general' | 'upload-child' | 'graduate' | 'update' | 'report' | 'result' | 'container-result' | 'export' | 'export-v2';

export const SCHEMA_DIR: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schemas');

export function schemaPath(name: SchemaName): string {
  return path.join(SCHEMA_DIR, `${name}.xsd`);
}

const ENTRIES: Record<SchemaName, string> = {
  'upload-general': 'upload-general.xsd',
  'upload-child': 'upload-child.xsd',
  graduate: 'graduate.xsd',
  update: 'update.xsd',
  report: 'report.xsd',
  result: 'result.xsd',
  'container-result': 'container-result.xsd',
  export: 'export.xsd',
  'export-v2': 'export-v2.xsd',
};

export interface XsdViolation {
  /** 'fatal' means the document is not well-formed XML; 'error' a schema violation. */
  severity?: 'error' | 'fatal' | 'warning';
  line?: number;
  column?: number;
  message: string;
}

interface EngineOptions {
  /** Time the engine may spend on the document, in ms (default 60000). */
  timeoutMs?: number;
  /** Violations to list; all are counted (default 100). */
  maxViolations?: number;
  /** Target size of one chunk in bytes of the file (default 500,000: the engine's memory, which never shrinks, grows with the largest chunk). */
  chunkChars?: number;
}

export type EngineVerdict =
  | { kind: 'valid' }
  | { kind: 'invalid'; violations: XsdViolation[]; total: number }
  | { kind: 'not-well-formed'; violation: XsdViolation }
  | { kind: 'forbidden' }
  | { kind: 'limit'; message: string };

let pool: EnginePool | undefined;

function enginePool(): EnginePool {
  pool ??= new EnginePool(loadSchemas(SCHEMA_DIR, ENTRIES));
  return pool;
}

/**
 * Starts the engine's threads and compiles the schemas (the service does this at start;
 * otherwise the first file does). `threads`: how many to start now (default all); one
 * file's chunks are validated one at a time, so one is enough for a single file.
 */
export function startXsdEngine(threads?: number): Promise<void> {
  return enginePool().warm(threads);
}

/** Ends the engine's threads once they have been idle for `ms` (see EnginePool.retireIdle). */
export function retireIdleXsdEngine(ms: number): void {
  enginePool().retireIdle(ms);
}

/**
 * libxml2 gives schema violations a line but no column: point at the element's start tag
 * on that line (named in the message), or at the line's first character.
 */
async function addColumn(v: XsdViolation, source: DocSource): Promise<void> {
  if (v.line === undefined || v.column !== undefined) return;
  // Bounded, so that a file written on one line costs no more per violation than any other.
  const lineText = await source.lineTextAt(v.line, 100_000);
  const name = /^Element '(?:\{[^}]*\})?([^']+)'/.exec(v.message)?.[1];
  const at = name === undefined ? -1 : lineText.search(new RegExp(`<(?:[\\w.-]+:)?${name.replace(/[.-]/g, '\\$&')}(?=[\\s/>])`));
  v.column = at === -1 ? 1 : at + 1;
}

const newlines = (s: string) => {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
};

interface Chunk {
  /** The chunk as UTF-8, in a buffer of its own (moved to the engine's thread). */
  bytes: Uint8Array;
  /** Engine lines before this one repeat the start tag and Header: not counted again. */
  fromLine: number;
  /** Where the counted part starts: its engine line and the file's line and column. */
  engineLine: number;
  fileLine: number;
  fileColumn: number;
}

/** `parts` encoded as UTF-8 into one buffer of its own, with no intermediate string. */
function utf8Of(...parts: (string | Uint8Array)[]): Uint8Array {
  const out = Buffer.allocUnsafeSlow(parts.reduce((n, p) => n + (typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : p.byteLength), 0));
  let at = 0;
  for (const p of parts) {
    if (typeof p === 'string') at += out.write(p, at, 'utf8');
    else {
      out.set(p, at);
      at += p.byteLength;
    }
  }
  return out;
}

/**
 * Bytes [from, to) of the document for the engine, as UTF-8: the file's own bytes when they
 * can go as they are (a UTF-8 body, already checked valid, or ISO-8859-1 transcoded at
 * once), not decoded to a string and encoded again. A span with a CR goes as text with its
 * line ends normalised, so that the engine counts its lines as the source does.
 */
function bodyOf(source: DocSource, from: number, to: number): string | Uint8Array {
  const bytes = source.bytes(from, to);
  if (bytes.includes(0x0d)) return source.text(bytes);
  return source.encoding === 'utf8' ? bytes : transcode(bytes, 'latin1', 'utf8');
}

/** The document as chunks of whole children of the root (one chunk for a small file); `target` in bytes. */
async function* chunksOf(source: DocSource, doc: ScannedDocument, target: number): AsyncGenerator<Chunk> {
  const { root, children } = doc;
  const start = await source.lineColumnAt(root.start);
  await source.load(root.start, root.contentStart);
  const head = source.slice(root.start, root.contentStart);
  if (root.end === root.contentStart) {
    // An empty root (`<r/>`): the start tag is the whole document.
    yield { bytes: utf8Of(head), fromLine: 1, engineLine: 1, fileLine: start.line, fileColumn: start.column };
    return;
  }
  const close = `</${root.qname}>`;
  const first = children[0];
  if (first) await source.load(first.start, first.end);
  const header = first ? source.slice(first.start, first.end) : '';
  // Each chunk repeats the start tag and Header; chunks at least twice their size keep that linear.
  const size = Math.max(target, 2 * (root.contentStart - root.start + (first ? first.end - first.start : 0)));
  let from = root.contentStart;
  let k = 0;
  let isFirst = true;
  while (from < root.end || isFirst) {
    let to = root.end;
    while (k < children.length) {
      const end = children[k]!.end;
      k++;
      if (end - from >= size && k < children.length) {
        to = end;
        break;
      }
    }
    // Where the chunk starts first: the cursor walks over the previous chunk's bytes, still loaded.
    const at = isFirst ? start : await source.lineColumnAt(from);
    await source.load(from, to);
    const body = bodyOf(source, from, to);
    if (isFirst) {
      yield { bytes: utf8Of(head, body, close), fromLine: 1, engineLine: 1, fileLine: start.line, fileColumn: start.column };
    } else {
      const prefix = `${head}\n${header}\n`;
      const engineLine = newlines(prefix) + 1;
      yield { bytes: utf8Of(prefix, body, close), fromLine: engineLine, engineLine, fileLine: at.line, fileColumn: at.column };
    }
    isFirst = false;
    from = to;
  }
}

function mapDetail(d: EngineDetail, c: Chunk, severity: 'error' | 'fatal'): XsdViolation {
  const v: XsdViolation = { severity, message: d.message };
  if (d.line < c.engineLine) return v;
  v.line = c.fileLine + (d.line - c.engineLine);
  if (d.column > 0) v.column = d.line === c.engineLine ? d.column + c.fileColumn - 1 : d.column;
  return v;
}

/**
 * Validates a scanned document against a project schema (or, with `schema` null, checks
 * only that the engine can parse it). Expected outcomes are data; rejects only when the
 * engine cannot run at all (an infrastructure fault).
 */
export async function validateScanned(
  input: string | DocSource,
  doc: ScannedDocument,
  schema: SchemaName | null,
  opts: EngineOptions = {},
): Promise<EngineVerdict> {
  const maxViolations = opts.maxViolations ?? 100;
  let budgetMs = opts.timeoutMs ?? 60_000;
  const violations: XsdViolation[] = [];
  let total = 0;
  const engine = enginePool();
  const source = typeof input === 'string' ? sourceOfText(input) : input;
  const chunks = chunksOf(source.fork(), doc, opts.chunkChars ?? 500_000);
  // Each chunk is cut while the engine validates the one before: its thread is not kept
  // waiting on this one, busy with the records meanwhile.
  let next = chunks.next();
  try {
    for (let step = await next; !step.done; step = await next) {
      const chunk = step.value;
      next = chunks.next();
      next.catch(() => {});
      const started = performance.now();
      let reply;
      try {
        reply = await engine.run(
          { schema, text: chunk.bytes, fromLine: chunk.fromLine, maxDetails: Math.max(0, maxViolations - violations.length) },
          budgetMs,
        );
      } catch (err) {
        if (!isCasBdtError(err, 'engine-limit')) throw err;
        const seconds = Math.round((opts.timeoutMs ?? 60_000) / 1000);
        return {
          kind: 'limit',
          message:
            err.message === 'timeout'
              ? `XSD validation took longer than the limit of ${seconds} s and was stopped`
              : `XSD validation could not finish: ${err.message}`,
        };
      }
      budgetMs -= performance.now() - started;
      if (reply.kind === 'forbidden') return { kind: 'forbidden' };
      if (reply.kind === 'fatal') return { kind: 'not-well-formed', violation: mapDetail(reply.detail, chunk, 'fatal') };
      if (reply.kind === 'invalid') {
        total += reply.total;
        for (const d of reply.details) violations.push(mapDetail(d, chunk, 'error'));
      }
    }
  } finally {
    // Stopped early (not well-formed, a limit): the chunk cut ahead is dropped.
    await chunks.return(undefined);
  }
  const lines = source.fork();
  for (const v of violations) await addColumn(v, lines);
  return total === 0 ? { kind: 'valid' } : { kind: 'invalid', violations, total };
}

/**
 * Validates raw bytes (a file path or a Buffer) as the pipeline does: decoded, checked by
 * the safety pass, then by the engine. Resolves with every violation ([] when valid);
 * refusals before the engine come back as one 'fatal' violation.
 */
export async function validateXsd(
  input: { file: string } | { bytes: Buffer },
  schema: SchemaName,
  opts: EngineOptions = {},
): Promise<XsdViolation[]> {
  const bytes = 'file' in input ? await readFile(input.file) : input.bytes;
  const decoded = decodeXml(bytes);
  if (!decoded.ok) return [{ severity: 'fatal', message: decoded.error.message, ...position(decoded.error) }];
  const source = new MemorySource(decoded.bytes, decoded.textEncoding);
  const scan = scanDocument({ bytes: decoded.bytes, encoding: decoded.textEncoding, source });
  if (!scan.ok) return [{ severity: 'fatal', message: scan.error.message, ...position(scan.error) }];
  const verdict = await validateScanned(source, scan.doc, schema, { maxViolations: Number.MAX_SAFE_INTEGER, ...opts });
  switch (verdict.kind) {
    case 'valid':
      return [];
    case 'invalid':
      return verdict.violations;
    case 'not-well-formed':
      return [verdict.violation];
    case 'forbidden':
      return [{ severity: 'fatal', message: 'the document has a DTD, which is never accepted' }];
    case 'limit':
      return [{ severity: 'fatal', message: verdict.message }];
  }
}
