/**
 * The BDT file kinds, each declared once (spec section 4, step 5): its root element and
 * namespace, its schema, its header (file id element, whether it names the licence), and
 * its words in results, the CLI, logs and the console. Every other module reads this
 * table; its type lists every kind, so a kind left out is a compile error, and no code
 * path treats an unknown kind as an upload. The store step of each kind is in
 * `src/pipeline/store-steps.ts` (it needs the database), the samples for `demo` in
 * `src/xml/bdt-samples.ts`. "Adding a file kind" in the README says what a new one takes.
 */
import type { Counts, FileType, Route } from './types.ts';

/** Every kind the pipeline knows (UNKNOWN is what a file of none of them gets). */
export type KnownFileType = Exclude<FileType, 'UNKNOWN'>;

const UPLOAD_NS = 'http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-upload-200910';
const GRADUATE_NS = 'http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-reporting-graduated-202102';
/** The fee update file (provisional: schemas/update.xsd). */
const UPDATE_NS = 'http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-update-200910';
/** The student activity report file (provisional: schemas/report.xsd). */
const REPORT_NS = 'http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-reporting-200910';

export interface FileKind {
  /** What the kind is, in words ("a graduate notification"). */
  title: string;
  root: { ns: string; local: string };
  /** The project's XSD (schemas/NAME.xsd). */
  schema: 'upload-general' | 'upload-child' | 'graduate' | 'update' | 'report';
  /** Upload kinds: the route the sponsor must be licensed for (and SchemaID and Category must name). */
  route?: Route;
  /** The header element holding the file id. */
  fileIdElement: string;
  /**
   * Accepted files whose ids may not repeat one another (E_DUPLICATE_FILE_ID); absent when
   * a kind's ids may repeat. Kinds sharing a group share one namespace of ids.
   */
  fileIdGroup?: 'uploads' | 'updates' | 'reports';
  /** The header names the sponsor's licence (E_SPONSOR_MISMATCH when it is not the inbox's). */
  headerNamesLicence: boolean;
  /** The counts carry `updated` (results.md: update files only). */
  countsUpdated: boolean;
  /** The console's heading of the record column. */
  recordColumn: string;
  /** What the records came to, in words (`process`, `submissions`). */
  countsWords(c: Counts): string;
  /** What the records would come to, in words (`validate`). */
  dryRunWords(c: Counts): string;
  /** The counts the log line of a processed file carries. */
  logCounts(c: Counts): Record<string, number>;
}

const uploadWords = (c: Counts) =>
  `${c.created} created, ${c.amended} amended, ${c.rejected} rejected; ${c.assigned} assigned, ${c.readyToGo} ready to go, ${c.workInProgress} work in progress`;
const uploadDryRun = (c: Counts) =>
  `${c.created} would be created, ${c.amended} amended, ${c.rejected} rejected; ` +
  `${c.assigned} would be assigned, ${c.readyToGo} ready to go, ${c.workInProgress} work in progress`;
const uploadLog = (c: Counts) => ({
  created: c.created,
  amended: c.amended,
  assigned: c.assigned,
  readyToGo: c.readyToGo,
  workInProgress: c.workInProgress,
});
const upload = { fileIdElement: 'BulkUploadFileId', fileIdGroup: 'uploads', headerNamesLicence: true, countsUpdated: false } as const;

export const FILE_KINDS: { readonly [K in KnownFileType]: FileKind } = {
  UPLOAD_GENERAL: {
    ...upload,
    title: 'a BDT upload (Student route)',
    root: { ns: UPLOAD_NS, local: 'BulkFileUploadGeneralRootElement' },
    schema: 'upload-general',
    route: 'student',
    recordColumn: 'ApplicantID',
    countsWords: uploadWords,
    dryRunWords: uploadDryRun,
    logCounts: uploadLog,
  },
  UPLOAD_CHILD: {
    ...upload,
    title: 'a BDT upload (Child Student route)',
    root: { ns: UPLOAD_NS, local: 'BulkFileUploadChildRootElement' },
    schema: 'upload-child',
    route: 'child',
    recordColumn: 'ApplicantID',
    countsWords: uploadWords,
    dryRunWords: uploadDryRun,
    logCounts: uploadLog,
  },
  GRADUATE_REPORT: {
    title: 'a graduate notification',
    root: { ns: GRADUATE_NS, local: 'BulkReportingRootElement' },
    schema: 'graduate',
    fileIdElement: 'BulkReportingId',
    headerNamesLicence: false,
    countsUpdated: false,
    recordColumn: 'CAS reported',
    countsWords: (c) => `${c.reported} reported, ${c.rejected} rejected`,
    dryRunWords: (c) => `${c.reported} would be reported, ${c.rejected} rejected`,
    logCounts: (c) => ({ reported: c.reported }),
  },
  UPDATE_FEES: {
    title: 'a fee update',
    root: { ns: UPDATE_NS, local: 'BulkFileUpdateRootElement' },
    schema: 'update',
    fileIdElement: 'BulkUpdateFileId',
    fileIdGroup: 'updates',
    headerNamesLicence: true,
    countsUpdated: true,
    recordColumn: 'CAS updated',
    countsWords: (c) => `${c.updated ?? 0} updated, ${c.rejected} rejected`,
    dryRunWords: (c) => `${c.updated ?? 0} would be updated, ${c.rejected} rejected`,
    logCounts: (c) => ({ updated: c.updated ?? 0 }),
  },
  REPORT: {
    title: 'a student activity report',
    root: { ns: REPORT_NS, local: 'BulkReportingRootElement' },
    schema: 'report',
    fileIdElement: 'BulkReportingId',
    fileIdGroup: 'reports',
    headerNamesLicence: true,
    countsUpdated: false,
    recordColumn: 'CAS reported',
    countsWords: (c) => `${c.reported} reported, ${c.rejected} rejected`,
    dryRunWords: (c) => `${c.reported} would be reported, ${c.rejected} rejected`,
    logCounts: (c) => ({ reported: c.reported }),
  },
};

export const KNOWN_FILE_TYPES = Object.keys(FILE_KINDS) as KnownFileType[];

/** The kind of a stored file type; undefined for UNKNOWN (a file refused before its kind was known). */
export function fileKind(type: FileType): FileKind | undefined {
  return type === 'UNKNOWN' ? undefined : FILE_KINDS[type];
}

/** The kinds whose file ids share `group`. */
export const kindsInGroup = (group: NonNullable<FileKind['fileIdGroup']>): KnownFileType[] =>
  KNOWN_FILE_TYPES.filter((t) => FILE_KINDS[t].fileIdGroup === group);
