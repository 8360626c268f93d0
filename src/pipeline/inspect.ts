/**
 * The file-level steps that need no database: decoding, safety, well-formedness, type and
 * XSD validation. Expected failures come back as FileErrors, never as exceptions.
 */
import { XMLValidator } from 'fast-xml-parser';
import type { FileError, FileType, Route } from '../domain/types.ts';
import { decodeXml } from '../xml/decode.ts';
import { parseRecordXml } from '../xml/record-reader.ts';
import { childElements, findDoctype, lineColumnAt, scanRoot, type RootInfo } from '../xml/scan.ts';
import { validateXsd, type SchemaName, type XsdViolation } from '../xml/xsd.ts';

export const UPLOAD_NS = 'http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-upload-200910';
export const GRADUATE_NS = 'http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-reporting-graduated-202102';

const TYPES: { ns: string; local: string; type: Exclude<FileType, 'UNKNOWN'>; schema: SchemaName; route?: Route }[] = [
  { ns: UPLOAD_NS, local: 'BulkFileUploadGeneralRootElement', type: 'UPLOAD_GENERAL', schema: 'upload-general', route: 'student' },
  { ns: UPLOAD_NS, local: 'BulkFileUploadChildRootElement', type: 'UPLOAD_CHILD', schema: 'upload-child', route: 'child' },
  { ns: GRADUATE_NS, local: 'BulkReportingRootElement', type: 'GRADUATE_REPORT', schema: 'graduate' },
];

export interface Header {
  fileId?: string;
  schemaId?: string;
  tierId?: string;
  category?: string;
  sponsorLicenceNumber?: string;
}

export interface Inspected {
  text: string;
  root: RootInfo;
  fileType: Exclude<FileType, 'UNKNOWN'>;
  route?: Route;
  header: Header;
}

export type Inspection =
  | { ok: true; file: Inspected }
  | { ok: false; errors: FileError[]; fileType: FileType; fileId?: string; notWellFormed: boolean };

export type XsdValidator = (input: { bytes: Buffer }, schema: SchemaName) => Promise<XsdViolation[]>;

const fail = (errors: FileError[], fileType: FileType = 'UNKNOWN', fileId?: string): Inspection => ({
  ok: false,
  errors,
  fileType,
  ...(fileId !== undefined ? { fileId } : {}),
  notWellFormed: errors.some((e) => e.code === 'E_NOT_WELL_FORMED'),
});

function readHeader(text: string, root: RootInfo): Header {
  for (const child of childElements(text, root)) {
    const node = parseRecordXml(text.slice(child.start, child.end));
    const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
    if (child.local === 'Header') {
      return {
        fileId: s(node.BulkUploadFileId),
        schemaId: s(node.SchemaID),
        tierId: s(node.TierID),
        category: s(node.Category),
        sponsorLicenceNumber: s(node.SponsorLicenceNumber),
      };
    }
    if (child.local === 'BulkReportingFileHeader') return { fileId: s(node.BulkReportingId) };
    return {};
  }
  return {};
}

/**
 * The validator reports a file that ends inside open elements at the opening tag (or
 * line 1); a sponsor's IT team needs to hear that the file ends early, and where.
 */
function notWellFormed(text: string, err: { code: string; msg: string; line: number; col: number }): FileError {
  const open = /^Unclosed tag '([^']*)'/.exec(err.msg)?.[1] ?? (/^Invalid '\[(.*)\]' found/s.exec(err.msg)?.[1]?.replace(/["\s]/g, '').replaceAll(',', ', '));
  if (open !== undefined) {
    return {
      code: 'E_NOT_WELL_FORMED',
      message: `the file ends before element(s) ${open} are closed (is it truncated?)`,
      ...lineColumnAt(text, text.length),
    };
  }
  return { code: 'E_NOT_WELL_FORMED', message: `the file is not well-formed XML: ${err.msg}`, line: err.line, column: err.col };
}

/** Best effort, for the result of a file rejected before its header could be trusted. */
function tryHeader(text: string, root: RootInfo): Header {
  try {
    return readHeader(text, root);
  } catch {
    return {};
  }
}

/**
 * True when the file fails the cheap early steps (encoding, well-formedness) in a way a
 * writer that has not finished would cause. The watcher defers such recent files.
 */
export function looksUnfinished(bytes: Buffer): boolean {
  if (bytes.length === 0) return true;
  const decoded = decodeXml(bytes);
  if (!decoded.ok) return true;
  if (findDoctype(decoded.text) !== -1) return false;
  return decoded.text.trim() === '' || XMLValidator.validate(decoded.text) !== true || !scanRoot(decoded.text);
}

/** Steps 3 to 6 of the pipeline (decode, safety, well-formedness, type, schema). */
export async function inspectFile(bytes: Buffer, validate: XsdValidator = (i, s) => validateXsd(i, s)): Promise<Inspection> {
  const decoded = decodeXml(bytes);
  if (!decoded.ok) return fail([decoded.error]);
  const { text } = decoded;

  const doctype = findDoctype(text);
  if (doctype !== -1) {
    return fail([
      {
        code: 'E_DOCTYPE_FORBIDDEN',
        message: 'the file has a DOCTYPE or ENTITY declaration; these are never accepted (no DTDs, no entities)',
        ...lineColumnAt(text, doctype),
      },
    ]);
  }
  if (text.trim() === '') return fail([{ code: 'E_NOT_WELL_FORMED', message: 'the file holds no XML (it is empty or only white space)' }]);
  const wf = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (wf !== true) return fail([notWellFormed(text, wf.err)]);
  const root = scanRoot(text);
  if (!root) return fail([{ code: 'E_NOT_WELL_FORMED', message: 'the file has no root element' }]);

  const kind = TYPES.find((t) => t.local === root.local && t.ns === root.namespace);
  if (!kind) {
    const ns = root.namespace ? `{${root.namespace}}` : '(no namespace)';
    return fail([
      {
        code: 'E_UNKNOWN_FILE_TYPE',
        message: `root element ${ns}${root.local} is not a BDT upload (BulkFileUploadGeneralRootElement, BulkFileUploadChildRootElement) nor a graduate notification (BulkReportingRootElement) in its namespace`,
        ...lineColumnAt(text, root.start),
      },
    ]);
  }

  const violations = await validate({ bytes }, kind.schema);
  if (violations.length > 0) {
    const fatal = violations.some((v) => v.severity === 'fatal');
    const fileId = tryHeader(text, root).fileId;
    return fail(
      violations.map((v) => ({
        code: fatal ? 'E_NOT_WELL_FORMED' : 'E_SCHEMA',
        message: v.message,
        ...(v.line !== undefined ? { line: v.line } : {}),
        ...(v.column !== undefined ? { column: v.column } : {}),
      })),
      kind.type,
      fileId,
    );
  }

  return {
    ok: true,
    file: { text, root, fileType: kind.type, ...(kind.route ? { route: kind.route } : {}), header: readHeader(text, root) },
  };
}
