/** What operators look at (sponsors, CAS, submissions, export rows): the store's read queries the commands use. */
export { casHistory, findCas, listCas, type CasHistoryEntry, type CasView, type FeesView } from '../db/cas-query.ts';
export { exportRows } from '../db/export.ts';
export { getSponsor, listSponsors, sponsorView, type SponsorRow, type SponsorView } from '../db/sponsors.ts';
export { getSubmission, listSubmissions } from '../db/submissions.ts';
