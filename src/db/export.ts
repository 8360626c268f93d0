/** The export's content: every CAS the sponsor ever assigned, with its current status. */
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import { isoDateUtc } from '../domain/dates.ts';
import type { ExportRow } from '../domain/export.ts';
import { currentFees } from '../domain/fees.ts';
import type { Db } from './client.ts';
import { cas } from './schema.ts';

/** Ordered by CAS number (code-point order, whatever the database's collation). */
export async function exportRows(db: Db, licence: string): Promise<ExportRow[]> {
  const rows = await db
    .select({
      casNumber: cas.casNumber,
      applicantId: cas.applicantId,
      familyName: cas.familyName,
      courseId: cas.courseId,
      courseTitle: cas.courseTitle,
      courseStartDate: cas.courseStartDate,
      status: cas.status,
      statusChangedAt: cas.statusChangedAt,
      assignedAt: cas.assignedAt,
      expiresOn: cas.expiresOn,
      graduatedOn: cas.graduatedOn,
      feesUpdated: cas.fees,
      feesUploaded: sql<unknown>`${cas.data} -> 'FinancialAndAccommodationDetails'`,
    })
    .from(cas)
    .where(and(eq(cas.sponsorLicenceNumber, licence), isNotNull(cas.casNumber)));
  return rows
    .map((r) => ({
      casNumber: r.casNumber!,
      applicantId: r.applicantId,
      familyName: r.familyName,
      courseId: r.courseId,
      courseTitle: r.courseTitle,
      courseStartDate: r.courseStartDate,
      status: r.status,
      statusDate: isoDateUtc(r.statusChangedAt),
      assignedDate: isoDateUtc(r.assignedAt!),
      expiryDate: r.expiresOn!,
      graduated: r.graduatedOn !== null,
      fees: currentFees(r.feesUpdated, { FinancialAndAccommodationDetails: r.feesUploaded }),
    }))
    .sort((a, b) => (a.casNumber < b.casNumber ? -1 : a.casNumber > b.casNumber ? 1 : 0));
}
