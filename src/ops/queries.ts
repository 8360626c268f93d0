/** What operators look at (sponsors, CAS, submissions, export rows): the store's read queries the commands use. */
export {
  casHistory,
  countCas,
  findCas,
  listCas,
  type CasHistoryEntry,
  type CasView,
  type FeesView,
  type ReportEntry,
} from '../db/cas-query.ts';
export { exportRows } from '../db/export.ts';
export { getSponsor, listSponsors, sponsorView, type SponsorRow, type SponsorView } from '../db/sponsors.ts';
export { countSubmissions, getSubmission, listSubmissions, type SubmissionFilter, type SubmissionRow } from '../db/submissions.ts';
