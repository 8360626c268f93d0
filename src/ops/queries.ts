/**
 * What operators look at (sponsors, CAS, submissions, export rows, deliveries, the console's
 * health and throughput): the store's read queries, for the two readers above ops/, the CLI
 * and the console (http/), which reach db/ only through ops/ (eslint.config.js).
 */
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
export {
  casCountsByStatus,
  casIdsByNumber,
  casInStatus,
  hourlyThroughput,
  inputFate,
  pingStore,
  recentSubmissions,
  searchCas,
  type CasListItem,
  type HourBucket,
  type InputFate,
  type SubmissionListItem,
} from '../db/console.ts';
export { listDeliveries } from '../db/deliveries.ts';
export { pendingStatementsBatch } from '../db/statements.ts';
