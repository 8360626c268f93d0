/**
 * Reads one record element (an upload `CAS` or a graduate `BulkReportingCASData`) into
 * the domain shape. The record has already passed XSD validation, so a required element
 * that is missing here is a bug, and throws.
 */
import { XMLParser, type X2jOptions } from 'fast-xml-parser';
import { FEE_ELEMENTS, FEE_KEYS, parsePounds, type FeeChange } from '../domain/fees.ts';
import { isReportKind, type ReportInput, type ReportKind } from '../domain/reports.ts';
import type { CasRecord, GraduateRecord, PartialDate, XmlObject, XmlValue } from '../domain/types.ts';
import { localName } from './scan.ts';
import { referencedChar, unescapeXml } from './xml-safe.ts';

/**
 * The fast-xml-parser options for every record and header: text stays text, prefixes and
 * attributes are dropped, elements that may repeat are always arrays.
 */
const RECORD_PARSER_OPTIONS: Partial<X2jOptions> = Object.freeze({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name: string) => name === 'AddressLine' || name === 'CAS' || name === 'BulkReportingCASData' || name === 'CASUpdate',
});

const parser = new XMLParser(RECORD_PARSER_OPTIONS);

const PREDEFINED: Record<string, string> = { '<': '&lt;', '&': '&amp;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * With `htmlEntities: false` the parser decodes only the five predefined entities and
 * leaves character references such as `&#233;` as literal text. They are legal XML, so
 * they are resolved here, outside CDATA sections and comments, before parsing. A
 * reference to a markup character becomes its predefined entity, which the parser then
 * decodes once; `&amp;#233;` is untouched (it is `&amp;` followed by text).
 */
function resolveCharacterReferences(xml: string): string {
  if (!xml.includes('&#')) return xml;
  return xml.replace(
    /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|&#(?:x([0-9A-Fa-f]+)|([0-9]+));/g,
    (match, hex: string | undefined, dec: string | undefined) => {
      if (hex === undefined && dec === undefined) return match;
      const ch = referencedChar((hex ?? dec)!, hex !== undefined);
      return ch === undefined ? match : (PREDEFINED[ch] ?? ch);
    },
  );
}

function isObject(v: XmlValue | undefined): v is XmlObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Trims every text value (CDATA content is not trimmed by the parser). */
function deepTrim(v: XmlValue): XmlValue {
  if (typeof v === 'string') return v.trim();
  if (Array.isArray(v)) return v.map(deepTrim);
  const out: XmlObject = {};
  for (const [k, child] of Object.entries(v)) out[k] = deepTrim(child);
  return out;
}

const ALWAYS_ARRAY = new Set(['AddressLine', 'CAS', 'BulkReportingCASData', 'CASUpdate']);
const isNameEnd = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x2f || c === 0x3e;

interface Open {
  name: string;
  children: XmlObject | undefined;
  /** Where the element's content starts (its text, when it turns out to have no children). */
  textStart: number;
}

function addChild(parent: Open, name: string, value: XmlValue): void {
  parent.children ??= {};
  const have = parent.children[name];
  if (have === undefined) parent.children[name] = ALWAYS_ARRAY.has(name) ? [value] : value;
  else if (Array.isArray(have)) have.push(value);
  else parent.children[name] = [have, value];
}

/** Only XML white space from `from` to `to` (anything else between elements is left to the general parser). */
function isBlank(xml: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = xml.charCodeAt(k);
    if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/**
 * The common case of `parseRecordXml`, several times faster than the general parser: a
 * record of elements, text, the predefined entities and attributes (ignored), which the
 * XSD engine has already found well-formed. Gives exactly what the general parser gives
 * for such text; anything else (comments, CDATA, processing instructions, text mixed with
 * elements) returns undefined and is left to the general parser.
 */
function parseSimpleRecord(text: string): XmlObject | undefined {
  if (text.includes('<!') || text.includes('<?')) return undefined;
  // Line ends as the general parser (and XML) normalise them.
  const xml = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  const root: Open = { name: '', children: undefined, textStart: 0 };
  const stack: Open[] = [root];
  let i = xml.indexOf('<');
  if (i === -1 || !isBlank(xml, 0, i)) return undefined;
  while (i !== -1) {
    const top = stack[stack.length - 1]!;
    if (xml.charCodeAt(i + 1) === 0x2f) {
      // End tag: the element's value is its children, or its text.
      const gt = xml.indexOf('>', i);
      const closing = stack.pop()!;
      const parent = stack[stack.length - 1];
      if (gt === -1 || !parent) return undefined;
      addChild(parent, closing.name, closing.children ?? unescapeXml(xml.slice(closing.textStart, i)).trim());
      i = gt;
    } else {
      // A first child: what came before it in its parent must be white space.
      if (top.children === undefined && top !== root && !isBlank(xml, top.textStart, i)) return undefined;
      let end = i + 1;
      while (end < xml.length && !isNameEnd(xml.charCodeAt(end))) end++;
      const name = localName(xml.slice(i + 1, end));
      // The tag's end, past attribute values (which may hold '>').
      let close = end;
      for (;;) {
        const c = xml.charCodeAt(close);
        if (c === 0x3e) break;
        if (c === 0x22 || c === 0x27) {
          const q = xml.indexOf(c === 0x22 ? '"' : "'", close + 1);
          if (q === -1) return undefined;
          close = q + 1;
        } else if (close >= xml.length) {
          return undefined;
        } else {
          close++;
        }
      }
      if (xml.charCodeAt(close - 1) === 0x2f) addChild(top, name, '');
      else stack.push({ name, children: undefined, textStart: close + 1 });
      i = close;
    }
    const lt = xml.indexOf('<', i + 1);
    // Text after a child element, or outside the record, must be white space.
    const current = stack[stack.length - 1]!;
    if ((current.children !== undefined || current === root) && !isBlank(xml, i + 1, lt === -1 ? xml.length : lt)) return undefined;
    i = lt;
  }
  if (stack.length !== 1 || !root.children) return undefined;
  return root.children;
}

/**
 * Parses the exact text of one record element (`<CAS>...</CAS>`, `<cmn:CAS>...`, or a
 * `BulkReportingCASData`) and returns that element's content, text trimmed. Namespace
 * prefixes are dropped, so a prefix declared only on the file's root does no harm.
 */
export function parseRecordXml(xml: string): XmlObject {
  const resolved = resolveCharacterReferences(xml);
  const simple = parseSimpleRecord(resolved);
  if (!simple) return contentOf(parser.parse(resolved));
  const content = contentOf(simple, false);
  TRIMMED.add(content);
  return content;
}

/** Record contents whose text is already trimmed (the fast path trims as it reads): not copied again. */
const TRIMMED = new WeakSet<XmlObject>();

/** parseRecordXml by the general parser only (the reference the fast path is tested against). */
export function parseRecordXmlGeneral(xml: string): XmlObject {
  return contentOf(parser.parse(resolveCharacterReferences(xml)));
}

function contentOf(doc: unknown, trim = true): XmlObject {
  if (!isObject(doc as XmlValue)) throw new Error('Record XML has no element');
  const names = Object.keys(doc as XmlObject);
  if (names.length !== 1) {
    throw new Error(`Record XML must hold exactly one element, found ${names.length} (${names.join(', ')})`);
  }
  let content = (doc as XmlObject)[names[0] as string] as XmlValue;
  if (Array.isArray(content)) {
    if (content.length !== 1) throw new Error(`Record XML must hold exactly one ${names[0]} element`);
    content = content[0] as XmlValue;
  }
  if (content === '') return {};
  if (!isObject(content)) throw new Error(`Record element ${names[0]} has text but no child elements`);
  if (!trim) return content;
  const trimmed = deepTrim(content) as XmlObject;
  TRIMMED.add(trimmed);
  return trimmed;
}

// ---------------------------------------------------------------------------------------
// Navigation helpers: paths are '/'-separated element names relative to the record.

const PATHS = new Map<string, string[]>();

function get(node: XmlObject, path: string): XmlValue | undefined {
  let names = PATHS.get(path);
  if (!names) PATHS.set(path, (names = path.split('/')));
  let cur: XmlValue | undefined = node;
  for (const name of names) {
    if (Array.isArray(cur)) cur = cur[0];
    if (!isObject(cur)) return undefined;
    cur = cur[name];
  }
  return cur;
}

/** The trimmed text of an optional element; absent or empty reads as undefined. */
function optText(node: XmlObject, path: string): string | undefined {
  let v = get(node, path);
  if (Array.isArray(v)) v = v[0];
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function reqText(node: XmlObject, path: string, index: number): string {
  const v = optText(node, path);
  if (v === undefined) throw new Error(`Record ${index}: required element ${path} is missing or empty`);
  return v;
}

/** An optional element with children; an empty element (`<X></X>`, `<X/>`) reads as undefined. */
function optObject(node: XmlObject, path: string): XmlObject | undefined {
  let v = get(node, path);
  if (Array.isArray(v)) v = v[0];
  if (!isObject(v) || Object.keys(v).length === 0) return undefined;
  return v;
}

/** xs:boolean: `true|false|1|0`. */
function parseBool(value: string, path: string, index: number): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new Error(`Record ${index}: ${path} is not an xs:boolean`);
}

function optBool(node: XmlObject, path: string, index: number): boolean | undefined {
  const v = optText(node, path);
  return v === undefined ? undefined : parseBool(v, path, index);
}

/** xs:date may carry a time zone (`2013-12-26Z`, `2013-12-26+01:00`); course dates ignore it. */
function dateOnly(value: string): string {
  const m = /^(-?\d{4,}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?$/.exec(value);
  return m ? (m[1] as string) : value;
}

function reqDate(node: XmlObject, path: string, index: number): string {
  return dateOnly(reqText(node, path, index));
}

function optDate(node: XmlObject, path: string): string | undefined {
  const v = optText(node, path);
  return v === undefined ? undefined : dateOnly(v);
}

function readDateOfBirth(node: XmlObject, index: number): PartialDate {
  const base = 'ApplicantData/DateOfBirth';
  const full = optText(node, `${base}/FullDate`);
  if (full !== undefined) return { kind: 'full', value: dateOnly(full) };
  const yearMonth = optText(node, `${base}/YearMonth`);
  if (yearMonth !== undefined) return { kind: 'yearMonth', value: yearMonth };
  const year = optText(node, `${base}/Year`);
  if (year !== undefined) return { kind: 'year', value: year };
  throw new Error(`Record ${index}: ${base} has no FullDate, YearMonth or Year`);
}

/** The address elements that hold a Country, as paths relative to the CAS element. */
export const ADDRESS_COUNTRY_PATHS: readonly string[] = Object.freeze([
  'NonSponsorEducationInstitutionData/PartnerInstitutionDetails/AddressDetails/Country',
  'NonSponsorEducationInstitutionData/OverseasHigherEducationInstitutionDetails/Address/Country',
  'CourseDetails/WorkPlacementAddress/Country',
  'WorkPlacementDetails/WorkPlacementAddress/Country',
]);

/** xs:integer, possibly signed or zero-padded (`+050`). */
function optInteger(node: XmlObject, path: string, index: number): number | undefined {
  const v = optText(node, path);
  if (v === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw new Error(`Record ${index}: ${path} is not an xs:integer`);
  return Number(v);
}

// ---------------------------------------------------------------------------------------

/** One upload `CAS` element's content (from `parseRecordXml`) as a domain record. */
export function readCasRecord(node: XmlObject, index: number): CasRecord {
  const raw = TRIMMED.has(node) ? node : (deepTrim(node) as XmlObject);

  const rec: CasRecord = {
    index,
    applicantId: reqText(raw, 'ApplicantData/ApplicantID', index),
    familyName: reqText(raw, 'ApplicantData/FamilyName', index),
    nationality: reqText(raw, 'ApplicantData/Nationality', index),
    countryOfBirth: reqText(raw, 'ApplicantData/CountryOfBirth', index),
    dateOfBirth: readDateOfBirth(raw, index),
    passportNumber: reqText(raw, 'ApplicantData/ApplicantPassportOrTravelDocumentNumber', index),
    courseTitle: reqText(raw, 'CourseDetails/CourseCurriculumTitle', index),
    courseStartDate: reqDate(raw, 'CourseDetails/CourseStartDate', index),
    expectedCourseEndDate: reqDate(raw, 'CourseDetails/ExpectedCourseEndDate', index),
    addressCountries: [],
    applicantHasWorkPlacement: parseBool(
      reqText(raw, 'CourseDetails/ApplicantHasWorkPlacement', index),
      'CourseDetails/ApplicantHasWorkPlacement',
      index,
    ),
    raw,
  };

  const givenName = optText(raw, 'ApplicantData/GivenName');
  if (givenName !== undefined) rec.givenName = givenName;
  const courseId = optText(raw, 'CourseDetails/CourseID');
  if (courseId !== undefined) rec.courseId = courseId;
  const latest = optDate(raw, 'CourseDetails/LatestDateForAcceptanceOnCourse');
  if (latest !== undefined) rec.latestAcceptanceDate = latest;

  for (const field of ADDRESS_COUNTRY_PATHS) {
    const value = optText(raw, field);
    if (value !== undefined) rec.addressCountries.push({ field, value });
  }

  const wp = optObject(raw, 'WorkPlacementDetails');
  if (wp) {
    const percentage = optInteger(wp, 'WorkPlacementPercentage', index);
    rec.workPlacement = {
      hasJustification: optText(wp, 'WorkPlacementJustificationText') !== undefined,
      ...(percentage !== undefined ? { percentage } : {}),
    };
  }

  const ev = optObject(raw, 'EvidenceDetails');
  if (ev) {
    const evidence: NonNullable<CasRecord['evidence']> = {
      hasProgressionJustification: optText(ev, 'ProgressionJustification') !== undefined,
    };
    const seltRequired = optBool(ev, 'SELTRequired', index);
    if (seltRequired !== undefined) evidence.seltRequired = seltRequired;
    const previousUkStudy = optBool(ev, 'PreviousUKStudy', index);
    if (previousUkStudy !== undefined) evidence.previousUkStudy = previousUkStudy;
    const texts = [
      ['reasonSeltNotRequired', 'ReasonSELTNotRequired'],
      ['englishLanguageLevel', 'EnglishLanguageLevelAttained'],
      ['testProvider', 'TestProvider'],
      ['previousAcademicLevel', 'PreviousAcademicLevel'],
      ['comparison', 'CurrentPreviousCourseLevelComparison'],
    ] as const;
    for (const [key, name] of texts) {
      const v = optText(ev, name);
      if (v !== undefined) evidence[key] = v;
    }
    rec.evidence = evidence;
  }

  return rec;
}

/** One graduate `BulkReportingCASData` element's content as a domain record. */
export function readGraduateRecord(node: XmlObject, index: number): GraduateRecord {
  const raw = deepTrim(node) as XmlObject;
  return {
    index,
    report: reqText(raw, 'CASReport', index),
    casNumber: reqText(raw, 'BulkReportingCASGraduation/CASNumber', index),
  };
}

/** The block element of each student activity report kind (schemas/report.xsd). */
export const REPORT_BLOCKS: Record<ReportKind, string> = {
  NOT_ENROLLED: 'BulkReportingCASNonEnrolment',
  STOPPED_ATTENDING: 'BulkReportingCASNonAttendance',
  WITHDRAWN: 'BulkReportingCASWithdrawal',
  SUSPENDED: 'BulkReportingCASSuspension',
  RESUMED: 'BulkReportingCASResumption',
  COMPLETED_EARLY: 'BulkReportingCASEarlyCompletion',
  COURSE_CHANGED: 'BulkReportingCASCourseChange',
};

/**
 * One student activity report `BulkReportingCASData`: its CASReport, and the block that
 * follows read as a ReportInput (every child between CASNumber and Notes is a field). A
 * block of another kind than CASReport names (the schema cannot say so) is `mismatch`.
 */
export function readActivityReport(
  node: XmlObject,
  index: number,
): { index: number; report: string; casNumber: string; mismatch?: string; input?: ReportInput } {
  const raw = TRIMMED.has(node) ? node : (deepTrim(node) as XmlObject);
  const report = reqText(raw, 'CASReport', index);
  const block = Object.keys(raw).find((k) => k !== 'CASReport') ?? '';
  const body = raw[block];
  const content = (Array.isArray(body) ? body[0] : body) as XmlObject | undefined;
  const casNumber = content && isObject(content) ? (optText(content, 'CASNumber') ?? '') : '';
  if (!isReportKind(report) || REPORT_BLOCKS[report] !== block || !content || !isObject(content))
    return { index, report, casNumber, mismatch: block };
  const fields: Record<string, string> = {};
  for (const name of Object.keys(content)) {
    if (name === 'CASNumber' || name === 'Notes') continue;
    const v = optText(content, name);
    if (v !== undefined) fields[name] = v;
  }
  const notes = optText(content, 'Notes');
  return { index, report, casNumber, input: { casNumber, kind: report, fields, notes } };
}

/** One fee update `CASUpdate` element: the CAS number and the amounts it gives, in pence. */
interface FeeUpdateRecord {
  index: number;
  casNumber: string;
  change: FeeChange;
}

export function readFeeUpdateRecord(node: XmlObject, index: number): FeeUpdateRecord {
  const raw = TRIMMED.has(node) ? node : (deepTrim(node) as XmlObject);
  const change: FeeChange = {};
  for (const key of FEE_KEYS) {
    const text = optText(raw, FEE_ELEMENTS[key]);
    if (text === undefined) continue;
    const pence = parsePounds(text);
    if (pence === undefined) throw new Error(`Record ${index}: ${FEE_ELEMENTS[key]} is not an amount in pounds`);
    change[key] = pence;
  }
  if (change.course === undefined) throw new Error(`Record ${index}: required element ${FEE_ELEMENTS.course} is missing or empty`);
  return { index, casNumber: reqText(raw, 'CASNumber', index), change };
}
