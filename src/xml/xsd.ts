/**
 * XSD validation of raw document bytes through xsd-schema-validator (one JVM per call).
 *
 * The document is never re-encoded: the library turns strings and Buffers into UTF-8
 * text, which corrupts ISO-8859-1 files, so a file is passed by path and bytes as a
 * stream of the untouched Buffer.
 */
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import PQueue from 'p-queue';
import { validateXML } from 'xsd-schema-validator';

export type SchemaName = 'upload-general' | 'upload-child' | 'graduate' | 'result' | 'export';

export const SCHEMA_DIR: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schemas');

export function schemaPath(name: SchemaName): string {
  return path.join(SCHEMA_DIR, `${name}.xsd`);
}

export interface XsdViolation {
  /** 'fatal' means the document is not well-formed XML; 'error' a schema violation. */
  severity?: 'error' | 'fatal' | 'warning';
  line?: number;
  column?: number;
  message: string;
}

type Severity = 'error' | 'fatal' | 'warning';

interface RawMessage {
  severity: Severity;
  text: string;
  line?: number;
  column?: number;
}

interface LibFailure {
  valid: boolean;
  result: string;
  messages: string[];
}

/** Validates raw bytes (a file path or a Buffer, never re-encoded). Resolves with [] when valid. Rejects only for infrastructure faults (no Java, schema unreadable). */
export async function validateXsd(
  input: { file: string } | { bytes: Buffer },
  schema: SchemaName | { path: string },
): Promise<XsdViolation[]> {
  const xsd = typeof schema === 'string' ? schemaPath(schema) : path.resolve(schema.path);
  await assertReadable(xsd, 'XSD schema');
  if ('file' in input) await assertReadable(input.file, 'document');

  const outcome = await runValidator(input, xsd);
  if (outcome.kind === 'valid') return [];

  const lined = outcome.messages.filter((m) => m.line !== undefined);
  // A fatal parse error is reported twice: once with its position, then again (without)
  // as the exception that stopped the validator. Keep the positioned one.
  const unlined = outcome.messages.filter(
    (m) => m.line === undefined && !lined.some((l) => l.severity === 'fatal' && l.text === m.text),
  );

  if (lined.length === 0 && unlined.length === 0) {
    throw new Error(`XSD validation failed without any message (status ${outcome.result})`);
  }

  // A fatal without a position and without a positioned twin was thrown outside the
  // document parse: either while compiling the schema (our fault) or while opening the
  // document (its fault, e.g. an unsupported encoding). Tell them apart by validating a
  // trivial document against the same schema.
  if (lined.length === 0 && unlined.some((m) => m.severity === 'fatal')) {
    const probe = await runValidator({ bytes: Buffer.from('<probe/>') }, xsd);
    const schemaBroken =
      probe.kind === 'invalid' && !probe.messages.some((m) => m.line !== undefined);
    if (schemaBroken) {
      throw new Error(`XSD schema ${xsd} cannot be used: ${unlined.map((m) => m.text).join('; ')}`);
    }
  }

  return [...lined, ...unlined].map(toViolation);
}

function toViolation(m: RawMessage): XsdViolation {
  const v: XsdViolation = { severity: m.severity, message: m.text.replace(/^cvc-[\w.-]+:\s*/, '') };
  if (m.line !== undefined) v.line = m.line;
  if (m.column !== undefined) v.column = m.column;
  return v;
}

async function assertReadable(file: string, what: string): Promise<void> {
  try {
    await access(file, fsConstants.R_OK);
  } catch (err) {
    throw new Error(`${what} ${file} is not readable: ${(err as Error).message}`);
  }
}

type RunOutcome = { kind: 'valid' } | { kind: 'invalid'; result: string; messages: RawMessage[] };

async function runValidator(input: { file: string } | { bytes: Buffer }, xsd: string): Promise<RunOutcome> {
  return withSlot(async () => {
    const source = 'file' in input ? { file: path.resolve(input.file) } : new RawBytes(input.bytes);
    try {
      const res = await validateXML(source, xsd);
      if (res.valid) return { kind: 'valid' };
      return { kind: 'invalid', result: res.result, messages: parseMessages(res.messages) };
    } catch (err) {
      if (isLibFailure(err)) {
        return { kind: 'invalid', result: err.result, messages: parseMessages(err.messages) };
      }
      // No Java, spawn failure, helper compilation failure.
      throw err;
    }
  });
}

function isLibFailure(err: unknown): err is LibFailure {
  const e = err as Partial<LibFailure> | null;
  return !!e && Array.isArray(e.messages) && typeof e.result === 'string';
}

const MARKER = /(?=\[(?:error|fatal|warning)\] )/;
const MESSAGE = /^\[(error|fatal|warning)\] ([\s\S]*?)(?: \((-?\d+):(-?\d+)\))?\s*$/;

/** The library may glue several stderr lines into one item: split them again on the markers. */
function parseMessages(items: string[]): RawMessage[] {
  const out: RawMessage[] = [];
  for (const piece of items.join('').split(MARKER)) {
    const m = MESSAGE.exec(piece.trim());
    if (!m) continue;
    const msg: RawMessage = { severity: m[1] as Severity, text: (m[2] ?? '').trim() };
    const line = m[3] === undefined ? NaN : Number(m[3]);
    const column = m[4] === undefined ? NaN : Number(m[4]);
    if (line > 0) msg.line = line;
    if (line > 0 && column > 0) msg.column = column;
    out.push(msg);
  }
  return out;
}

/**
 * The untouched bytes as one chunk. The JVM may exit before reading all of its stdin
 * (a fatal error early in a large document); the resulting EPIPE on the child's stdin
 * must not become an uncaught 'error' event, so the destination gets a listener.
 */
class RawBytes extends Readable {
  private pending: Buffer | null;

  constructor(bytes: Buffer) {
    super();
    this.pending = bytes;
  }

  override _read(): void {
    const chunk = this.pending;
    this.pending = null;
    if (chunk && chunk.length > 0) this.push(chunk);
    this.push(null);
  }

  override pipe<T extends NodeJS.WritableStream>(dest: T, options?: { end?: boolean }): T {
    (dest as unknown as Writable).on('error', () => {});
    return super.pipe(dest, options);
  }
}

// Each validation is a JVM: bound how many run at once so a burst of files cannot exhaust memory.
const jvms = new PQueue({ concurrency: Math.max(1, availableParallelism()) });

function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  return jvms.add(fn, { throwOnTimeout: true });
}
