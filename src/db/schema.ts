/** The one drizzle schema for PGlite and PostgreSQL. Migrations in ../../drizzle are generated from it. */
import { sql } from 'drizzle-orm';
import { bigint, boolean, date, index, integer, jsonb, numeric, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { ComplianceCounts } from '../domain/compliance.ts';
import type { Fees } from '../domain/fees.ts';
import type { FileSummary } from '../domain/result.ts';
import { EXPORT_SCHEMAS } from '../domain/export.ts';
import {
  CAS_STATUSES,
  LICENCE_STATUSES,
  ROUTES,
  type CasStatus,
  type FileOutcome,
  type FileType,
  type RecordIssue,
} from '../domain/types.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const sponsors = pgTable('sponsors', {
  licenceNumber: text('licence_number').primaryKey(),
  name: text('name').notNull(),
  status: text('status', { enum: LICENCE_STATUSES }).notNull().default('active'),
  routes: text('routes', { enum: ROUTES }).array().notNull(),
  autoAssign: boolean('auto_assign').notNull().default(true),
  allocationGranted: integer('allocation_granted').notNull().default(0),
  allocationUsed: integer('allocation_used').notNull().default(0),
  /** `sponsor set --statements`: each CAS assigned gets `outbox/<CAS-NUMBER>.statement.pdf`. */
  statements: boolean('statements').notNull().default(false),
  /** The export schema the sponsor chose, as in the SMS: 2.1.1 (with Graduated) or the legacy 1.1.1. */
  exportSchema: text('export_schema', { enum: EXPORT_SCHEMAS }).notNull().default('2.1.1'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** Every grant of allocation, so `granted` can be explained. */
export const allocations = pgTable('allocations', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  sponsorLicenceNumber: text('sponsor_licence_number')
    .notNull()
    .references(() => sponsors.licenceNumber),
  amount: integer('amount').notNull(),
  grantedAt: ts('granted_at').notNull().defaultNow(),
  reason: text('reason').notNull(),
});

export const submissions = pgTable(
  'submissions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    sponsorLicenceNumber: text('sponsor_licence_number').notNull(),
    fileName: text('file_name').notNull(),
    sha256: text('sha256').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    fileType: text('file_type').$type<FileType>().notNull(),
    fileId: text('file_id'),
    outcome: text('outcome').$type<FileOutcome>().notNull(),
    replayOf: bigint('replay_of', { mode: 'number' }),
    receivedAt: ts('received_at').notNull(),
    processedAt: ts('processed_at').notNull(),
    /** The summary document of cli.md, kept so `submissions` and re-emits need no XML parsing. */
    summary: jsonb('summary').$type<FileSummary>().notNull(),
    resultXml: text('result_xml').notNull(),
    /** Where the result was written, once it was (crash recovery re-emits when null). */
    resultFile: text('result_file'),
  },
  (t) => [
    // One ACCEPTED submission per file content and per upload file id: PostgreSQL settles races.
    uniqueIndex('submissions_accepted_sha_uq')
      .on(t.sponsorLicenceNumber, t.sha256)
      .where(sql`outcome = 'ACCEPTED' and replay_of is null`),
    uniqueIndex('submissions_accepted_file_id_uq')
      .on(t.sponsorLicenceNumber, t.fileId)
      .where(sql`outcome = 'ACCEPTED' and replay_of is null and file_type in ('UPLOAD_GENERAL', 'UPLOAD_CHILD')`),
    // BulkUpdateFileId is unique among the sponsor's accepted fee update files, apart from upload ids.
    uniqueIndex('submissions_accepted_update_id_uq')
      .on(t.sponsorLicenceNumber, t.fileId)
      .where(sql`outcome = 'ACCEPTED' and replay_of is null and file_type = 'UPDATE_FEES'`),
    // BulkReportingId of a student activity report file: unique among the sponsor's accepted report files.
    uniqueIndex('submissions_accepted_report_id_uq')
      .on(t.sponsorLicenceNumber, t.fileId)
      .where(sql`outcome = 'ACCEPTED' and replay_of is null and file_type = 'REPORT'`),
    index('submissions_sponsor_idx').on(t.sponsorLicenceNumber, t.receivedAt),
    // The console's hourly chart and the overview's totals look at the last day's files.
    index('submissions_processed_idx').on(t.processedAt),
  ],
);

export const batches = pgTable(
  'batches',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    sponsorLicenceNumber: text('sponsor_licence_number')
      .notNull()
      .references(() => sponsors.licenceNumber),
    name: text('name').notNull(),
    route: text('route', { enum: ROUTES }).notNull(),
    submissionId: bigint('submission_id', { mode: 'number' }).notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('batches_sponsor_name_uq').on(t.sponsorLicenceNumber, t.name)],
);

/** One per assignment (a file's, or an operator's): its CAS count is what the console charts. */
export const payments = pgTable(
  'payments',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    reference: text('reference').notNull().unique(),
    sponsorLicenceNumber: text('sponsor_licence_number')
      .notNull()
      .references(() => sponsors.licenceNumber),
    casCount: integer('cas_count').notNull(),
    amount: numeric('amount', { precision: 14, scale: 2 }).notNull(),
    currency: text('currency').notNull().default('GBP'),
    submissionId: bigint('submission_id', { mode: 'number' }),
    reason: text('reason').notNull(),
    paidAt: ts('paid_at').notNull(),
  },
  (t) => [index('payments_paid_at_idx').on(t.paidAt)],
);

export const cas = pgTable(
  'cas',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    sponsorLicenceNumber: text('sponsor_licence_number')
      .notNull()
      .references(() => sponsors.licenceNumber),
    route: text('route', { enum: ROUTES }).notNull(),
    batchId: bigint('batch_id', { mode: 'number' }).notNull(),
    submissionId: bigint('submission_id', { mode: 'number' }).notNull(),
    recordIndex: integer('record_index').notNull(),
    status: text('status', { enum: CAS_STATUSES }).notNull(),
    /** The duplicate key of spec section 5 (applicant, start date, course). */
    recordKey: text('record_key').notNull(),
    applicantId: text('applicant_id').notNull(),
    familyName: text('family_name').notNull(),
    givenName: text('given_name'),
    nationality: text('nationality').notNull(),
    passportNumber: text('passport_number').notNull(),
    dateOfBirth: text('date_of_birth').notNull(),
    courseTitle: text('course_title').notNull(),
    courseId: text('course_id'),
    courseStartDate: date('course_start_date', { mode: 'string' }).notNull(),
    expectedCourseEndDate: date('expected_course_end_date', { mode: 'string' }).notNull(),
    /** Every BDT field of the record, trimmed, as read. */
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    warnings: jsonb('warnings').$type<RecordIssue[]>().notNull(),
    casNumber: text('cas_number'),
    assignedAt: ts('assigned_at'),
    expiresOn: date('expires_on', { mode: 'string' }),
    usedOn: date('used_on', { mode: 'string' }),
    graduatedOn: date('graduated_on', { mode: 'string' }),
    /**
     * The fees as last updated after assignment (fee update file or `cas fees`), in pence:
     * `{course, coursePaid, accommodationPaid, boardingPaid}`. Null: as uploaded (in `data`).
     */
    fees: jsonb('fees').$type<Fees>(),
    /** The visa decision on the application made with this (USED) CAS, and its date (`cas decide`). */
    decision: text('decision').$type<'granted' | 'refused'>(),
    decidedOn: date('decided_on', { mode: 'string' }),
    paymentId: bigint('payment_id', { mode: 'number' }),
    statusChangedAt: ts('status_changed_at').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('cas_number_uq').on(t.casNumber),
    // A key may be live once per sponsor: a second file amends or is refused, never duplicates.
    uniqueIndex('cas_live_key_uq')
      .on(t.sponsorLicenceNumber, t.recordKey)
      .where(sql`status in ('WORK_IN_PROGRESS', 'READY_TO_GO', 'ASSIGNED', 'USED')`),
    index('cas_sponsor_status_idx').on(t.sponsorLicenceNumber, t.status),
    index('cas_person_idx').on(t.passportNumber, t.nationality),
    index('cas_batch_idx').on(t.batchId),
    index('cas_sponsor_decided_idx').on(t.sponsorLicenceNumber, t.decidedOn),
  ],
);

export const casEvents = pgTable(
  'cas_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    casId: bigint('cas_id', { mode: 'number' }).notNull(),
    fromStatus: text('from_status').$type<CasStatus>(),
    /** A CAS status, or DELETED for the last event of a deleted CAS. */
    toStatus: text('to_status').$type<CasStatus | 'DELETED'>().notNull(),
    at: ts('at').notNull(),
    reason: text('reason').notNull(),
    submissionId: bigint('submission_id', { mode: 'number' }),
    /**
     * STATUS_CHANGED, or an event that leaves the status as it is (from = to): FEES_UPDATED
     * (details: the old and new fees), NOTE (details: the sponsor's text), DECISION
     * (details: the decision, its date, and the one it corrected), REPORT (details: the
     * student activity report, as in cas_reports).
     */
    kind: text('kind').$type<'STATUS_CHANGED' | 'FEES_UPDATED' | 'NOTE' | 'DECISION' | 'REPORT'>().notNull().default('STATUS_CHANGED'),
    details: jsonb('details').$type<{ before: Fees; after: Fees } | { text: string } | Record<string, unknown>>(),
    /**
     * The id of the transaction that wrote the event (xid8 as a number). Export deliveries
     * cover the events of transactions below a snapshot's xmin: every such transaction has
     * ended, so none can still add an event to a range already delivered.
     */
    tx: bigint('tx', { mode: 'number' })
      .notNull()
      .default(sql`(pg_current_xact_id()::text)::bigint`),
  },
  (t) => [
    index('cas_events_cas_idx').on(t.casId, t.id),
    // Deltas: the events of a range of transactions (deliveries), or after a time (export --changed-since).
    index('cas_events_tx_idx').on(t.tx),
    index('cas_events_at_idx').on(t.at),
  ],
);

/**
 * Student activity reports (spec section 9): one row per accepted report, also written as a
 * REPORT event in the CAS's history. `fields` holds the block's dates, reason and course
 * title; `notes` the sponsor's notes (personal data: stored and shown, never logged).
 */
export const casReports = pgTable(
  'cas_reports',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    casId: bigint('cas_id', { mode: 'number' }).notNull(),
    sponsorLicenceNumber: text('sponsor_licence_number').notNull(),
    kind: text('kind').notNull(),
    triggerDate: date('trigger_date', { mode: 'string' }).notNull(),
    fields: jsonb('fields').$type<Record<string, string>>().notNull(),
    notes: text('notes'),
    dueDate: date('due_date', { mode: 'string' }).notNull(),
    receivedAt: ts('received_at').notNull(),
    late: boolean('late').notNull(),
    submissionId: bigint('submission_id', { mode: 'number' }),
  },
  (t) => [index('cas_reports_cas_idx').on(t.casId, t.kind), index('cas_reports_sponsor_idx').on(t.sponsorLicenceNumber, t.kind)],
);

export const graduateReports = pgTable(
  'graduate_reports',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    casId: bigint('cas_id', { mode: 'number' }).notNull(),
    submissionId: bigint('submission_id', { mode: 'number' }).notNull(),
    graduatedOn: date('graduated_on', { mode: 'string' }).notNull(),
    reportedAt: ts('reported_at').notNull(),
    /** The writing transaction's id, as for cas_events: a graduation changes the export (Graduated). */
    tx: bigint('tx', { mode: 'number' })
      .notNull()
      .default(sql`(pg_current_xact_id()::text)::bigint`),
  },
  (t) => [
    uniqueIndex('graduate_reports_cas_uq').on(t.casId),
    index('graduate_reports_tx_idx').on(t.tx),
    index('graduate_reports_at_idx').on(t.reportedAt),
  ],
);

/**
 * Export deliveries (`watch --export-every`): one row per delta written into a sponsor's
 * outbox. A delivery covers the CAS whose history was written by transactions with ids in
 * [fromTx, toTx); the next one starts at this one's toTx. `pending` (with the name and
 * sha256 of the file about to be written) is committed before the file is written and
 * `done` after, so a delivery cut short is finished (the same range) by whichever
 * instance looks next, and its file is written once.
 */
export const exportDeliveries = pgTable(
  'export_deliveries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    sponsorLicenceNumber: text('sponsor_licence_number')
      .notNull()
      .references(() => sponsors.licenceNumber),
    state: text('state').$type<'pending' | 'done'>().notNull(),
    fileName: text('file_name').notNull(),
    /**
     * The sha256 of the file about to be written under `fileName`, recorded before the
     * write: after a stop, a file of that name is this delivery's only if its content matches.
     */
    sha256: text('sha256'),
    /** The delta's start: the previous delivery's time (null for a sponsor's first, complete export). */
    changedSince: ts('changed_since'),
    fromTx: bigint('from_tx', { mode: 'number' }).notNull(),
    toTx: bigint('to_tx', { mode: 'number' }).notNull(),
    /** GeneratedAt of the file. */
    deliveredAt: ts('delivered_at').notNull(),
    /** CAS in the file (set when done). */
    casCount: integer('cas_count'),
    /** The last history event the delivery covers (its id), when it covers any. */
    lastEventId: bigint('last_event_id', { mode: 'number' }),
    /** The instance writing it (its liveness lock), and how long it may before another takes over. */
    owner: integer('owner').notNull(),
    leaseUntil: ts('lease_until').notNull(),
  },
  (t) => [
    index('export_deliveries_sponsor_idx').on(t.sponsorLicenceNumber, t.id),
    // At most one delivery of a sponsor in progress: a second instance's insert fails.
    uniqueIndex('export_deliveries_pending_uq')
      .on(t.sponsorLicenceNumber)
      .where(sql`state = 'pending'`),
    // Each delivery starts where the previous one ended: two that start at the same point cannot both exist.
    uniqueIndex('export_deliveries_from_uq').on(t.sponsorLicenceNumber, t.fromTx),
  ],
);

/**
 * The watch service's hold on an inbox file, so that several instances sharing one
 * database and one folder tree process each file exactly once and a restarted instance
 * finishes what a killed one left. `claimed` -> `stored` (the submission is committed, in
 * the same transaction) -> `done` (result written and input moved). A claim whose owner
 * is gone (its liveness lock is free) or whose lease ran out is taken over.
 */
export const fileClaims = pgTable(
  'file_claims',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    sponsorLicenceNumber: text('sponsor_licence_number').notNull(),
    fileName: text('file_name').notNull(),
    sha256: text('sha256').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    /** The owning instance's key (its liveness advisory lock). */
    owner: integer('owner').notNull(),
    leaseUntil: ts('lease_until').notNull(),
    state: text('state').$type<'claimed' | 'stored' | 'done'>().notNull(),
    submissionId: bigint('submission_id', { mode: 'number' }),
    /** Where the input is being moved; set before the rename so a restart can tell. */
    movedTo: text('moved_to'),
    /**
     * A zip's entries stored so far, by position in its central directory (spec section 4a):
     * after a crash the zip is processed again and these keep their one submission each.
     */
    entries: jsonb('entries').$type<Record<string, { sha256: string; submissionId: number }>>(),
    claimedAt: ts('claimed_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('file_claims_active_uq')
      .on(t.sponsorLicenceNumber, t.fileName, t.sha256)
      .where(sql`state <> 'done'`),
    index('file_claims_open_idx')
      .on(t.state, t.owner)
      .where(sql`state <> 'done'`),
    // The console's submission page says where that file's input went.
    index('file_claims_submission_idx').on(t.submissionId),
  ],
);

/**
 * CAS statements owed to a sponsor's outbox (`sponsor set --statements`): a row is added in
 * the transaction that assigns the CAS and removed once the PDF is in the outbox, so a kill
 * in between ends, on the next start, with the statement written once.
 */
export const pendingStatements = pgTable('pending_statements', {
  casId: bigint('cas_id', { mode: 'number' }).primaryKey(),
  sponsorLicenceNumber: text('sponsor_licence_number').notNull(),
  casNumber: text('cas_number').notNull(),
  queuedAt: ts('queued_at').notNull(),
});

/**
 * What may have moved a sponsor's compliance figures (spec section 10): one row per statement
 * that inserts, updates or deletes rows of cas, cas_reports or sponsors, and per sponsor it
 * touched, written by triggers on those tables (migration 0010), so no writer can forget it.
 * `tx` as for cas_events: the figures stored in compliance_state are current for every
 * change visible in their snapshot, and are brought up to date from the rows that are not.
 */
export const complianceChanges = pgTable(
  'compliance_changes',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    sponsorLicenceNumber: text('sponsor_licence_number').notNull(),
    tx: bigint('tx', { mode: 'number' })
      .notNull()
      .default(sql`(pg_current_xact_id()::text)::bigint`),
  },
  (t) => [index('compliance_changes_tx_idx').on(t.tx)],
);

/** The compliance figures last computed (one row), with the day they are for and the snapshot they were computed in. */
export const complianceState = pgTable('compliance_state', {
  id: integer('id').primaryKey(),
  asOf: date('as_of', { mode: 'string' }).notNull(),
  /** Whose bank holidays the missing reports' due dates skip. */
  nation: text('nation').notNull(),
  /** pg_current_snapshot() as text. */
  snapshot: text('snapshot').notNull(),
});

/** Per sponsor, the counts behind its rates and its missing reports (without due dates), as of compliance_state. */
export const complianceFigures = pgTable('compliance_figures', {
  sponsorLicenceNumber: text('sponsor_licence_number').primaryKey(),
  counts: jsonb('counts').$type<ComplianceCounts>().notNull(),
  missing: jsonb('missing').$type<{ casNumber: string; courseStartDate: string }[]>().notNull(),
});

export const schema = {
  sponsors,
  allocations,
  submissions,
  batches,
  payments,
  cas,
  casEvents,
  casReports,
  graduateReports,
  fileClaims,
  pendingStatements,
  exportDeliveries,
  complianceChanges,
  complianceState,
  complianceFigures,
};
