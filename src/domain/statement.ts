/**
 * A CAS statement's content (spec section 11), apart from how it is laid out: every field of
 * the stored record, grouped in the order the section lists, with the history and notes.
 * src/pdf/ lays it out; the same content is what the tests compare as text.
 */
import { describeFeeChange, describeFees, type FeesInPounds } from './fees.ts';
import { human } from './lifecycle.ts';
import type { CasStatus, RecordIssue, Route } from './types.ts';

/** Everything a statement shows, as the store holds it. */
export interface StatementInput {
  id: number;
  casNumber: string | null;
  status: CasStatus;
  route: Route;
  batch: string;
  sponsorLicenceNumber: string;
  sponsorName: string;
  /** Every BDT field of the record, as read (nested objects, arrays for repeated elements). */
  data: Record<string, unknown>;
  warnings: RecordIssue[];
  /** The current fees (after fee updates). */
  fees: FeesInPounds;
  /** Whether the fees were updated after the upload. */
  feesUpdated: boolean;
  assignedAt: string | null;
  expiresOn: string | null;
  usedOn: string | null;
  graduatedOn: string | null;
  createdAt: string;
  history: StatementEvent[];
}

export interface StatementEvent {
  from: CasStatus | null;
  to: CasStatus | 'DELETED';
  at: string;
  reason: string;
  event?: 'FEES_UPDATED' | 'NOTE';
  fees?: { before: FeesInPounds; after: FeesInPounds };
  note?: string;
}

export interface StatementSection {
  heading: string;
  rows: [label: string, value: string][];
}

export interface StatementContent {
  /** Unassigned: no CAS number anywhere, DRAFT on every page. */
  draft: boolean;
  title: string;
  /** The document's fixed date: the CAS's last change, so the same CAS gives the same bytes. */
  date: Date;
  sections: StatementSection[];
  /** Draft only: what keeps it from READY TO GO (its warnings), or that nothing does. */
  warnings: string[];
  notes: { at: string; text: string }[];
  history: { at: string; what: string; reason: string }[];
}

const SECTIONS = [
  'Student',
  'Course',
  'Evidence used to obtain the offer',
  'English language',
  'ATAS',
  'Fees, payments, accommodation and boarding',
  'Previous UK study and progression',
  'Other details',
] as const;
type SectionName = (typeof SECTIONS)[number];

/** The section of one field, by its path in the record (`CourseDetails/MainSiteOfStudy/City`). */
function sectionOf(path: string): SectionName {
  const [top = '', leaf = ''] = [path.split('/')[0], path.split('/').pop()];
  if (top === 'ApplicantData') return 'Student';
  if (top === 'CourseDetails' || top === 'NonSponsorEducationInstitutionData' || top === 'WorkPlacementDetails') return 'Course';
  if (top === 'FinancialAndAccommodationDetails') return 'Fees, payments, accommodation and boarding';
  if (/ATAS|DeanCertificate/i.test(leaf)) return 'ATAS';
  if (/DocumentsUsedToObtainOffer/.test(leaf)) return 'Evidence used to obtain the offer';
  if (/SELT|EnglishLanguage|TestProvider/.test(leaf)) return 'English language';
  if (/PreviousUKStudy|AcademicLevel|Comparison|Progression/.test(leaf)) return 'Previous UK study and progression';
  return 'Other details';
}

/** Groups of the record whose name a field's label leaves out. */
const PLAIN_GROUPS = new Set(['ApplicantData', 'CourseDetails', 'Documentation', 'EvidenceDetails', 'FinancialAndAccommodationDetails']);

const LABELS: Record<string, string> = {
  ApplicantPassportOrTravelDocumentNumber: 'Passport or travel document number',
  AccomodationProvided: 'Accommodation provided',
  CourseFeeIncludesAccomodationCosts: 'Course fee includes accommodation costs',
  CourseCurriculumTitle: 'Course title',
  CourseID: 'Course ID',
  ApplicantID: 'Applicant ID',
  ApplicationID: 'Application ID',
  UCAS_UKPASS_Id: 'UCAS/UKPASS ID',
  FullDate: '',
  YearMonth: '',
  Year: '',
  CourseIsFullTime: 'Full time',
  CourseRequiresATAS: 'Course requires ATAS',
  SELTRequired: 'SELT required',
  ReasonSELTNotRequired: 'Reason no SELT is needed',
  PreviousUKStudy: 'Previous UK study',
};

/** `CourseHoursPerWeek` -> `Course hours per week`; `SELTSpeakingLevel` -> `SELT speaking level`. */
function words(key: string): string {
  if (key in LABELS) return LABELS[key]!;
  const spaced = key
    .replace(/_/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2');
  return spaced
    .split(' ')
    .map((w, i) => (i > 0 && /^[A-Z][a-z]+$/.test(w) ? w.toLowerCase() : w))
    .join(' ');
}

function labelOf(path: string[]): string {
  const parts = path.map(words).filter((w) => w !== '');
  const [first = '', ...rest] = parts;
  return [first, ...rest.map((w) => (/^[A-Z][a-z]/.test(w) && !/^[A-Z]{2}/.test(w) ? w[0]!.toLowerCase() + w.slice(1) : w))].join(': ');
}

function valueOf(leaf: string, value: string): string {
  if (value === 'true') return 'Yes';
  if (value === 'false') return 'No';
  if (leaf === 'Gender') return value === '1' ? 'Male (1)' : value === '2' ? 'Female (2)' : value;
  return value;
}

/** Every leaf of the record with its path, in document order; repeated elements are numbered. */
function leaves(node: unknown, path: string[], out: { path: string[]; value: string }[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => leaves(item, [...path.slice(0, -1), `${path[path.length - 1] ?? ''} ${i + 1}`], out));
    return;
  }
  if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) leaves(v, [...path, k], out);
    return;
  }
  if (node === undefined || node === null) return;
  const value = String(node);
  if (value !== '') out.push({ path, value });
}

const feeRows = (f: FeesInPounds): [string, string][] => [['Fees now (GBP)', describeFees(f)]];

const dayOf = (iso: string) => iso.slice(0, 10);
const timeOf = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

function eventWhat(e: StatementEvent): string {
  if (e.event === 'FEES_UPDATED') return `Fees updated${e.fees ? `: ${describeFeeChange(e.fees.before, e.fees.after)}` : ''}`;
  if (e.event === 'NOTE') return 'Note';
  return e.from
    ? `${human(e.from)} -> ${e.to === 'DELETED' ? 'DELETED' : human(e.to)}`
    : `Created ${e.to === 'DELETED' ? '' : human(e.to)}`;
}

/** What keeps an unassigned CAS from READY TO GO: its warnings while WORK IN PROGRESS. */
function readiness(s: StatementInput): string[] {
  if (s.status === 'READY_TO_GO') return ['Nothing: it is READY TO GO and can be assigned.'];
  if (s.status !== 'WORK_IN_PROGRESS') return [`It is ${human(s.status)}: it can no longer be assigned.`];
  const held = s.warnings.map((w) => `- ${w.code}${w.field ? ` (${w.field})` : ''}: ${w.message}`);
  return held.length ? held : ['It is WORK IN PROGRESS: a new upload of the record makes it READY TO GO.'];
}

/** The statement of one CAS: a draft when no CAS number was assigned. */
export function statementContent(s: StatementInput): StatementContent {
  const draft = s.casNumber === null;
  const bySection = new Map<SectionName, [string, string][]>(SECTIONS.map((n) => [n, []]));
  const found: { path: string[]; value: string }[] = [];
  leaves(s.data, [], found);
  for (const f of found) {
    const section = sectionOf(f.path.map((p) => p.replace(/ \d+$/, '')).join('/'));
    // The record's groups are not repeated in the rows: `CourseDetails/CourseID` is `Course ID`.
    const inner = f.path.length > 1 && PLAIN_GROUPS.has(f.path[0]!) ? f.path.slice(1) : f.path;
    bySection.get(section)!.push([labelOf(inner), valueOf(f.path[f.path.length - 1]!, f.value)]);
  }
  if (s.feesUpdated) bySection.get('Fees, payments, accommodation and boarding')!.push(...feeRows(s.fees));

  const casRows: [string, string][] = [
    ...(draft ? [] : ([['CAS number', s.casNumber!]] as [string, string][])),
    ['Status', human(s.status)],
    ['Route', s.route === 'child' ? 'Child' : 'Student'],
    ['Batch (BulkUploadFileId)', s.batch],
    ['Created', timeOf(s.createdAt)],
  ];
  const dates: [string, string][] = [
    ...(s.assignedAt ? ([['Assigned', dayOf(s.assignedAt)]] as [string, string][]) : []),
    ...(s.expiresOn ? ([['Expires', s.expiresOn]] as [string, string][]) : []),
    ...(s.usedOn ? ([['Used', s.usedOn]] as [string, string][]) : []),
    ...(s.graduatedOn ? ([['Graduated', s.graduatedOn]] as [string, string][]) : []),
  ];
  if (dates.length === 0) dates.push(['Assigned', 'not assigned']);

  const sections: StatementSection[] = [
    { heading: 'CAS', rows: casRows },
    {
      heading: 'Sponsor',
      rows: [
        ['Name', s.sponsorName],
        ['Licence number', s.sponsorLicenceNumber],
      ],
    },
    ...SECTIONS.map((heading) => ({ heading, rows: bySection.get(heading)! })).filter(
      (sec) => sec.rows.length > 0 || sec.heading !== 'Other details',
    ),
    { heading: 'Assigned and expiry dates', rows: dates },
  ];
  for (const sec of sections) if (sec.rows.length === 0) sec.rows.push(['', 'none given']);

  const last = s.history.reduce((at, e) => (e.at > at ? e.at : at), s.createdAt);
  return {
    draft,
    title: draft ? 'CAS statement (DRAFT)' : `CAS statement ${s.casNumber}`,
    date: new Date(last),
    sections,
    warnings: draft ? readiness(s) : [],
    notes: s.history.filter((e) => e.event === 'NOTE' && e.note !== undefined).map((e) => ({ at: timeOf(e.at), text: e.note! })),
    history: s.history.filter((e) => e.event !== 'NOTE').map((e) => ({ at: timeOf(e.at), what: eventWhat(e), reason: e.reason })),
  };
}
