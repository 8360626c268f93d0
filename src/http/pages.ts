/**
 * The console's pages: server-rendered, read-only, no script. Personal data (names,
 * ApplicantIDs) is shown here and nowhere else; every value goes through `html`.
 */
import type { Db } from '../ops/store.ts';
import {
  casCountsByStatus,
  casHistory,
  casIdsByNumber,
  casInStatus,
  findCas,
  getSponsor,
  getSubmission,
  inputFate,
  listSponsors,
  recentSubmissions,
  searchCas,
  sponsorView,
  type CasHistoryEntry,
  type CasListItem,
  type HourBucket,
  type InputFate,
  type SubmissionListItem,
} from '../ops/queries.ts';
import { describeFeeChange, describeFees } from '../domain/fees.ts';
import { everyRecordRefused } from '../domain/result.ts';
import { CAS_STATUSES, type CasStatus } from '../domain/types.ts';
import type { FileSummary, RecordResult } from '../domain/result.ts';
import { fileKind } from '../domain/file-kinds.ts';
import { throughputChart } from './chart.ts';
import { html, plural, query, raw, type Html } from './html.ts';
import type { LiveState } from './metrics.ts';
import { readResultPage, RESULT_PAGE_SIZE } from '../xml/result-reader.ts';

const STYLE = raw(`
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f6f4}
header{background:#1d3b53;color:#fff;padding:.6em 1.2em;display:flex;gap:2em;align-items:baseline;flex-wrap:wrap}
header a{color:#fff}header strong{font-size:1.15em}
main{padding:1em 1.2em;max-width:1200px}
table{border-collapse:collapse;background:#fff;margin:.5em 0 1.5em;width:100%}
th,td{border:1px solid #d0d0cc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#ecece8}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ACCEPTED{color:#1a6b2a;font-weight:600}.REJECTED{color:#a4161a;font-weight:600}
.bad{color:#a4161a}.ok{color:#1a6b2a}.PARTIAL{color:#8a5300;font-weight:600}
.bar{display:inline-block;width:140px;height:.8em;background:#dde3e8;vertical-align:middle;margin-right:.4em}
.bar span{display:block;height:100%;background:#2f6690}
.chart svg .files,.key.files{fill:#2f6690;background:#2f6690}.chart svg .cas,.key.cas{fill:#e0a526;background:#e0a526}
.chart svg .grid{stroke:#ddd}.chart svg .axis{font-size:11px;fill:#555}
.key{display:inline-block;width:.9em;height:.9em;vertical-align:middle}
.chart{background:#fff;border:1px solid #d0d0cc;margin:0 0 1.5em;padding:.5em}
ol.timeline{list-style:none;padding-left:1em;border-left:3px solid #2f6690}
ol.timeline li{margin:.4em 0 .8em;position:relative}
.note{white-space:pre-wrap}
ol.timeline li::before{content:"";position:absolute;left:-1.45em;top:.35em;width:.7em;height:.7em;border-radius:50%;background:#2f6690}
dl.summary{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;background:#fff;padding:.8em;border:1px solid #d0d0cc}
dl.summary dt{font-weight:600}
ul.issues{margin:0;padding-left:1.1em}
form.search input[type=search]{width:22em;padding:.3em}
.muted{color:#666}
`);

export function page(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · cas-bdt</title><style>${STYLE}</style></head>
<body><header><strong>cas-bdt</strong><nav><a href="/">Overview</a> · <a href="/submissions">Submissions</a> · <a href="/cas">CAS search</a> · <a href="/exports">Exports</a> · <a href="/compliance">Compliance</a> · <a href="/healthz">Health</a> · <a href="/metrics">Metrics</a></nav></header>
<main><h1>${title}</h1>${body}</main></body></html>`.text;
}

/** The 401 page: how the owner gets in (no data, no hint of the token). */
export function signInPage(wrongKey: boolean): string {
  return page(
    'The console needs its key',
    html`${wrongKey ? html`<p class="bad">That key is not this console's.</p>` : ''}
<p>This console shows personal data, so it asks for the key that <code>cas-bdt watch</code> keeps in its token file
(<code>console-token</code> in its data directory, readable by the service's user only).</p>
<p>On the server, as the service's user, run</p>
<pre><code>cas-bdt console</code></pre>
<p>(with the service's settings, for example <code>sudo -u cas-bdt cas-bdt --data /var/lib/cas-bdt console</code>)
and open the link it prints. Scripts send the key as <code>Authorization: Bearer &lt;key&gt;</code>.
<a href="/healthz">/healthz</a> and <a href="/metrics">/metrics</a> need no key.</p>`,
  );
}

const time = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString().replace('T', ' ').slice(0, 19) + 'Z' : '');

function countsText(s: SubmissionListItem | FileSummary): string {
  const c = s.counts;
  if (!c) return '';
  const parts = [plural(c.records, 'record')];
  if (c.assigned) parts.push(`${c.assigned} assigned`);
  if (c.readyToGo) parts.push(`${c.readyToGo} ready to go`);
  if (c.workInProgress) parts.push(`${c.workInProgress} work in progress`);
  if (c.reported) parts.push(`${c.reported} reported`);
  if (c.updated) parts.push(`${c.updated} updated`);
  if (c.rejected) parts.push(`${c.rejected} rejected`);
  return parts.join(', ');
}

/**
 * A file's outcome as a table cell or a value: an ACCEPTED file whose records were all
 * refused is not shown green like a clean one, one with some refused is told apart too.
 */
function outcomeText(s: { outcome: string; counts?: FileSummary['counts'] | null }): { css: string; text: string } {
  if (everyRecordRefused(s)) return { css: 'REJECTED', text: 'ACCEPTED, every record refused' };
  if (s.outcome === 'ACCEPTED' && s.counts?.rejected)
    return { css: 'PARTIAL', text: `ACCEPTED, ${s.counts.rejected} of ${plural(s.counts.records, 'record')} refused` };
  return { css: s.outcome, text: s.outcome };
}

function submissionsTable(rows: SubmissionListItem[], withSponsor = true): Html {
  if (!rows.length) return html`<p class="muted">No files received yet.</p>`;
  return html`<table><thead><tr><th>#</th><th>Processed (UTC)</th>${withSponsor ? html`<th>Sponsor</th>` : ''}<th>File</th><th>Type</th><th>Outcome</th><th>Counts</th><th>Errors</th></tr></thead><tbody>
${rows.map(
  (s) =>
    html`<tr><td><a href="/submissions/${s.id}">${s.id}</a></td><td>${time(s.processedAt)}</td>${withSponsor ? html`<td>${s.sponsorLicenceNumber}</td>` : ''}<td><a href="/submissions/${s.id}">${s.fileName}</a>${s.replay ? html` <span class="muted">(replay)</span>` : ''}</td><td>${s.fileType}</td><td class="${outcomeText(s).css}">${outcomeText(s).text}</td><td>${countsText(s)}</td><td>${s.errorCodes.join(', ')}</td></tr>`,
)}
</tbody></table>`;
}

/** `hours`: the chart's figures, which the server reuses for a while (see reuse.ts). */
export async function overviewPage(db: Db, live: LiveState, hours: () => Promise<HourBucket[]>): Promise<string> {
  const [sponsors, recent, buckets] = await Promise.all([listSponsors(db), recentSubmissions(db, { limit: 10 }), hours()]);
  const unhealthy = new Map(live.unhealthySponsors().map((u) => [u.licence, u.reasons]));
  const stats = live.stats();
  const sponsorRows = sponsors.map((row) => {
    const s = sponsorView(row);
    const { granted, used, unused } = s.allocation;
    const pct = granted > 0 ? Math.min(100, Math.round((used / granted) * 100)) : 0;
    const problems = unhealthy.get(s.licenceNumber);
    return html`<tr><td><a href="/sponsors/${s.licenceNumber}">${s.licenceNumber}</a></td><td>${s.name}</td><td>${s.status}</td><td>${s.routes.join(', ')}</td>
<td>${problems ? html`<span class="bad">unhealthy: ${problems.join('; ')}</span>` : html`<span class="ok">ok</span>`}</td>
<td class="n">${granted}</td><td class="n">${used}</td><td class="n">${unused}</td><td><span class="bar" title="${used} of ${granted} used"><span style="width:${pct}%"></span></span>${pct}% used</td></tr>`;
  });
  return page(
    'Overview',
    html`<p>Inbox files: ${stats.running} in progress, ${stats.ready} ready, ${stats.waiting} waiting.</p>
<h2>Sponsors</h2>
${sponsors.length ? html`<table><thead><tr><th>Licence</th><th>Name</th><th>Status</th><th>Routes</th><th>Folders</th><th>Granted</th><th>Used</th><th>Unused</th><th>Allocation</th></tr></thead><tbody>${sponsorRows}</tbody></table>` : html`<p class="muted">No sponsors yet (add one with <code>cas-bdt sponsor add</code>).</p>`}
<h2>Last 24 hours</h2>
${throughputChart(buckets)}
<h2>Recent submissions</h2>
${submissionsTable(recent)}
<p><a href="/submissions">All submissions</a></p>`,
  );
}

export const PAGE_SIZE = 50;

export async function submissionsPage(db: Db, opts: { before?: number | undefined; licence?: string | undefined }): Promise<string> {
  const rows = await recentSubmissions(db, { limit: PAGE_SIZE + 1, ...opts });
  const more = rows.length > PAGE_SIZE;
  const shown = rows.slice(0, PAGE_SIZE);
  const last = shown.at(-1);
  return page(
    opts.licence ? `Submissions of ${opts.licence}` : 'Submissions',
    html`${submissionsTable(shown, !opts.licence)}
<p>${opts.before !== undefined ? html`<a href="/submissions${query({ sponsor: opts.licence })}">Newest</a> · ` : ''}${more && last ? html`<a href="/submissions${query({ sponsor: opts.licence, before: last.id })}">Older</a>` : html`<span class="muted">No older submissions.</span>`}</p>`,
  );
}

/** The CAS number a record shows: the one it was given, or the one a report or fee update names. */
const numberOf = (r: RecordResult): string | undefined => r.casNumber ?? r.reportedCasNumber;

/** `pageNo`: which page of the records (1-based, RESULT_PAGE_SIZE records each). */
export async function submissionPage(db: Db, id: number, pageNo = 1): Promise<string | undefined> {
  const sub = await getSubmission(db, id);
  if (!sub) return undefined;
  const summary = sub.summary;
  const result = readResultPage(sub.resultXml, (pageNo - 1) * RESULT_PAGE_SIZE);
  const records = result.records;
  // A record's CAS number links to that CAS when the store holds it (a graduate report or a
  // fee update can name numbers it does not), and is plain text otherwise.
  const [fate, casIds] = await Promise.all([
    inputFate(db, sub.id),
    casIdsByNumber(
      db,
      records.flatMap((r) => {
        const n = numberOf(r);
        return n ? [n] : [];
      }),
    ),
  ]);
  const pages = Math.max(1, Math.ceil(result.total / RESULT_PAGE_SIZE));
  const current = Math.floor(result.from / RESULT_PAGE_SIZE) + 1;
  const link = (n: number, label: string) => html`<a href="/submissions/${sub.id}${query({ page: n > 1 ? n : undefined })}">${label}</a>`;
  const pager =
    pages > 1
      ? html`<p class="pager">Records ${result.from + 1} to ${result.from + records.length} of ${result.total}.
${current > 1 ? html`${link(1, 'First')} · ${link(current - 1, 'Previous')}` : ''}${current > 1 && current < pages ? ' · ' : ''}${current < pages ? html`${link(current + 1, 'Next')} · ${link(pages, 'Last')}` : ''}</p>`
      : '';
  return page(
    `Submission ${sub.id}`,
    html`<dl class="summary">
<dt>File</dt><dd>${sub.fileName}</dd>
<dt>Sponsor</dt><dd><a href="/sponsors/${sub.sponsorLicenceNumber}">${sub.sponsorLicenceNumber}</a></dd>
<dt>Type</dt><dd>${sub.fileType}</dd>
<dt>Outcome</dt><dd class="${outcomeText(summary).css}">${outcomeText(summary).text}${summary.replay ? ' (replay of an earlier identical file)' : ''}</dd>
<dt>Received</dt><dd>${time(sub.receivedAt)}</dd>
<dt>Processed</dt><dd>${time(sub.processedAt)}</dd>
<dt>Counts</dt><dd>${countsText(summary)}</dd>
<dt>Result file</dt><dd>${sub.resultFile ? sub.resultFile.split('/').pop() : 'not written yet'}</dd>
<dt>Input</dt><dd>${fateText(fate)}</dd>
<dt>SHA-256</dt><dd><code>${sub.sha256}</code></dd>
${result.payment ? html`<dt>Payment</dt><dd>${result.payment.reference}: ${result.payment.casCount} CAS, ${result.payment.amount} ${result.payment.currency}</dd>` : ''}
</dl>
${
  result.fileErrors.length
    ? html`<h2>File errors</h2><table><thead><tr><th>Code</th><th>Line</th><th>Column</th><th>Message</th></tr></thead><tbody>
${result.fileErrors.map((e) => html`<tr><td>${e.code}</td><td class="n">${e.line ?? ''}</td><td class="n">${e.column ?? ''}</td><td>${e.message}</td></tr>`)}</tbody></table>`
    : ''
}
${
  records.length
    ? html`<h2>Records</h2>${pager}<table><thead><tr><th>#</th><th>${fileKind(sub.fileType)?.recordColumn ?? 'Record'}</th><th>Outcome</th><th>Status</th><th>CAS number</th><th>Expires</th><th>Issues</th></tr></thead><tbody>
${records.map(
  (
    r,
  ) => html`<tr><td class="n">${r.index}</td><td>${r.applicantId ?? numberOf(r) ?? ''}</td><td class="${r.outcome === 'REJECTED' ? 'REJECTED' : ''}">${r.outcome}</td><td>${r.status ?? ''}</td>
<td>${casLink(numberOf(r), casIds)}</td><td>${r.expiryDate ?? ''}</td>
<td>${r.issues.length ? html`<ul class="issues">${r.issues.map((i) => html`<li><strong>${i.severity} ${i.code}</strong>${i.field ? html` <code>${i.field}</code>` : ''}: ${i.message}</li>`)}</ul>` : ''}</td></tr>`,
)}</tbody></table>${pager}`
    : ''
}
${
  summary.container?.entries
    ? html`<h2>Files in the zip</h2><table><thead><tr><th>Entry</th><th>Submission</th><th>Outcome</th></tr></thead><tbody>
${summary.container.entries.map((e) =>
  e.submissionId !== undefined
    ? html`<tr><td>${e.name}</td><td><a href="/submissions/${e.submissionId}">${e.submissionId}</a></td><td class="${e.outcome ?? ''}">${e.outcome ?? ''}</td></tr>`
    : html`<tr><td>${e.name}</td><td></td><td class="REJECTED">E_ZIP_ENTRY: ${e.error ?? ''}</td></tr>`,
)}</tbody></table>`
    : ''
}
<p><a href="/submissions${query({ sponsor: sub.sponsorLicenceNumber })}">Other submissions of ${sub.sponsorLicenceNumber}</a></p>`,
  );
}

export async function casSearchPage(db: Db, q: string): Promise<string> {
  const term = q.trim();
  const hits = term ? await searchCas(db, term) : [];
  return page(
    'CAS search',
    html`<form class="search" method="get" action="/cas"><label for="q">CAS number or ApplicantID</label>
<input type="search" id="q" name="q" value="${term}" maxlength="100" autofocus> <button type="submit">Search</button></form>
${
  term
    ? hits.length
      ? html`<p>${hits.length} CAS found for <strong>${term}</strong>.</p><table><thead><tr><th>CAS number</th><th>Status</th><th>Sponsor</th><th>ApplicantID</th><th>Name</th><th>Course</th></tr></thead><tbody>
${hits.map((c) => html`<tr><td><a href="/cas/${c.id}">${c.casNumber ?? '(not assigned)'}</a></td><td>${c.status}</td><td>${c.sponsorLicenceNumber}</td><td>${c.applicantId}</td><td>${c.familyName}${c.givenName ? `, ${c.givenName}` : ''}</td><td>${c.courseTitle}</td></tr>`)}</tbody></table>`
      : html`<p>No CAS found for <strong>${term}</strong>.</p>`
    : ''
}`,
  );
}

export async function casPage(db: Db, id: number): Promise<string | undefined> {
  const c = await findCas(db, { id });
  if (!c) return undefined;
  const history = await casHistory(db, id);
  return page(
    c.casNumber ? `CAS ${c.casNumber}` : `CAS (id ${c.id}, not assigned)`,
    html`<dl class="summary">
<dt>Status</dt><dd>${c.status}</dd>
<dt>Sponsor</dt><dd><a href="/sponsors/${c.sponsorLicenceNumber}">${c.sponsorLicenceNumber}</a></dd><dt>Route</dt><dd>${c.route}</dd>
<dt>ApplicantID</dt><dd>${c.applicantId}</dd>
<dt>Name</dt><dd>${c.familyName}${c.givenName ? `, ${c.givenName}` : ''}</dd>
<dt>Nationality</dt><dd>${c.nationality}</dd>
<dt>Course</dt><dd>${c.courseTitle}${c.courseId ? ` (${c.courseId})` : ''}, ${c.courseStartDate} to ${c.expectedCourseEndDate}</dd>
<dt>Batch</dt><dd>${c.batch}</dd>
${c.assignedAt ? html`<dt>Assigned</dt><dd>${time(c.assignedAt)}</dd>` : ''}
${c.expiresAt ? html`<dt>Expires</dt><dd>${c.expiresAt}</dd>` : ''}
${c.usedAt ? html`<dt>Used</dt><dd>${c.usedAt}</dd>` : ''}
${c.graduatedAt ? html`<dt>Graduated</dt><dd>${c.graduatedAt}</dd>` : ''}
${c.decision ? html`<dt>Visa decision</dt><dd>${c.decision} on ${c.decidedOn ?? ''}</dd>` : ''}
<dt>Fees (GBP)</dt><dd>${describeFees(c.fees)}</dd>
</dl>
<p><a href="/cas/${c.id}/statement.pdf">${c.casNumber ? 'Statement (PDF)' : 'Draft statement (PDF)'}</a></p>
<h2>History</h2>
<ol class="timeline">${history.map((e) => html`<li><time datetime="${e.at}">${time(e.at)}</time>: <strong>${eventTitle(e)}</strong>${eventText(e)}<br><span class="muted">${reasonText(e.reason)}</span></li>`)}</ol>`,
  );
}

function eventTitle(e: CasHistoryEntry): string {
  if (e.event === 'FEES_UPDATED') return 'Fees updated';
  if (e.event === 'NOTE') return 'Note';
  if (e.event === 'DECISION') return 'Visa decision';
  if (e.event === 'REPORT') return `Report ${e.report?.kind ?? ''}`;
  return `${e.from ?? 'new'} → ${e.to}`;
}

/** A fee update's amounts, a note's text (shown as written, line breaks kept). */
function eventText(e: CasHistoryEntry): Html | string {
  if (e.fees) return `: ${describeFeeChange(e.fees.before, e.fees.after)}`;
  if (e.note !== undefined) return html`<br><span class="note">${e.note}</span>`;
  if (e.decision) {
    const was = e.decision.replaced ? ` (was ${e.decision.replaced.decision} on ${e.decision.replaced.decidedOn})` : '';
    return `: ${e.decision.decision} on ${e.decision.decidedOn}${was}`;
  }
  if (e.report) {
    const r = e.report;
    const fields = Object.entries(r.fields)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    return html`: ${fields}; due ${r.dueDate}${r.late ? ' (late)' : ''}${r.notes ? html`<br><span class="note">${r.notes}</span>` : ''}`;
  }
  return '';
}

/** `... submission 12` links to the submission; anything else is shown as it is. */
function reasonText(reason: string): Html | string {
  const m = /^(.*)submission (\d+)$/.exec(reason);
  return m ? html`${m[1]}<a href="/submissions/${m[2]}">submission ${m[2]}</a>` : reason;
}

/** A CAS number as a link to its CAS, or as text (with why) when the store has no such CAS. */
function casLink(casNumber: string | undefined, ids: Map<string, number>): Html | string {
  if (!casNumber) return '';
  const id = ids.get(casNumber);
  return id === undefined ? html`${casNumber} <span class="muted">(no such CAS here)</span>` : html`<a href="/cas/${id}">${casNumber}</a>`;
}

/** Where a submission's input went, in words. */
function fateText(fate: InputFate): string {
  switch (fate.kind) {
    case 'moved': {
      const parts = fate.to.split('/');
      return `moved to ${parts.at(-2) ?? ''}/${parts.at(-1) ?? ''}`;
    }
    case 'not-moved':
      return 'not moved: it had left the inbox before the service could move it';
    case 'moving':
      return 'still in the inbox: the service is finishing it';
    case 'not-watched':
      return 'not moved: it was given to cas-bdt process, which leaves its inputs where they are';
  }
}

/** What each status asks of the sponsor, when it asks anything. */
const ACTION: Partial<Record<CasStatus, string>> = {
  READY_TO_GO: 'complete and waiting for a CAS number: assign them (cas-bdt assign --sponsor LICENCE --batch NAME), allocation permitting',
  WORK_IN_PROGRESS: 'incomplete (see each record’s warnings): send the record again, complete, in a new file',
};

const casName = (c: Pick<CasListItem, 'familyName' | 'givenName'>) => `${c.familyName}${c.givenName ? `, ${c.givenName}` : ''}`;

function casTable(rows: CasListItem[]): Html {
  return html`<table><thead><tr><th>CAS</th><th>Status</th><th>ApplicantID</th><th>Name</th><th>Course</th><th>Start</th><th>Batch</th><th>Expires</th></tr></thead><tbody>
${rows.map((c) => html`<tr><td><a href="/cas/${c.id}">${c.casNumber ?? `id ${c.id} (no number yet)`}</a></td><td>${c.status}</td><td>${c.applicantId}</td><td>${casName(c)}</td><td>${c.courseTitle}</td><td>${c.courseStartDate}</td><td>${c.batch}</td><td>${c.expiresOn ?? ''}</td></tr>`)}</tbody></table>`;
}

const statusLink = (licence: string, status: CasStatus, label: string) =>
  html`<a href="/sponsors/${licence}/cas${query({ status })}">${label}</a>`;

/** Rows a sponsor's page shows of each status that needs action (the rest is one click away). */
const ACTION_ROWS = 50;

/** One sponsor: its allocation, the CAS that need action, and its CAS counted by status. */
export async function sponsorPage(db: Db, licence: string): Promise<string | undefined> {
  const row = await getSponsor(db, licence);
  if (!row) return undefined;
  const s = sponsorView(row);
  const [counts, ready, wip] = await Promise.all([
    casCountsByStatus(db, licence),
    casInStatus(db, { licence, status: 'READY_TO_GO', limit: ACTION_ROWS }),
    casInStatus(db, { licence, status: 'WORK_IN_PROGRESS', limit: ACTION_ROWS }),
  ]);
  const needing = (status: CasStatus, rows: CasListItem[]) => {
    const n = counts[status];
    const label = status.replaceAll('_', ' ').toLowerCase();
    if (n === 0) return html`<h3>${label[0]!.toUpperCase() + label.slice(1)}: none</h3>`;
    return html`<h3>${label[0]!.toUpperCase() + label.slice(1)}: ${n} CAS</h3><p>${ACTION[status]}</p>${casTable(rows)}${
      n > rows.length ? html`<p>${statusLink(licence, status, `All ${n} CAS ${label}`)}</p>` : ''
    }`;
  };
  return page(
    `Sponsor ${s.licenceNumber}`,
    html`<dl class="summary">
<dt>Name</dt><dd>${s.name}</dd>
<dt>Status</dt><dd>${s.status}</dd>
<dt>Routes</dt><dd>${s.routes.join(', ')}</dd>
<dt>Auto-assign</dt><dd>${s.autoAssign ? 'yes' : 'no'}</dd>
<dt>Allocation</dt><dd>granted ${s.allocation.granted}, used ${s.allocation.used}, unused ${s.allocation.unused}</dd>
</dl>
<h2>CAS that need action</h2>
${needing('READY_TO_GO', ready)}
${needing('WORK_IN_PROGRESS', wip)}
<h2>CAS by status</h2>
<table><thead><tr><th>Status</th><th>CAS</th></tr></thead><tbody>
${CAS_STATUSES.map((st) => html`<tr><td>${counts[st] ? statusLink(licence, st, st) : st}</td><td class="n">${counts[st]}</td></tr>`)}</tbody></table>
<p><a href="/submissions${query({ sponsor: licence })}">Files received from ${licence}</a></p>`,
  );
}

/** A sponsor's CAS in one status, newest first, a page at a time. */
export async function casStatusPage(
  db: Db,
  opts: { licence: string; status: CasStatus; before?: number | undefined },
): Promise<string | undefined> {
  const row = await getSponsor(db, opts.licence);
  if (!row) return undefined;
  const rows = await casInStatus(db, { ...opts, limit: PAGE_SIZE + 1 });
  const shown = rows.slice(0, PAGE_SIZE);
  const last = shown.at(-1);
  const here = (extra: Record<string, string | number | undefined>) =>
    `/sponsors/${opts.licence}/cas${query({ status: opts.status, ...extra })}`;
  return page(
    `CAS of ${opts.licence}: ${opts.status.replaceAll('_', ' ')}`,
    html`<p>${CAS_STATUSES.map((st, i) => html`${i ? ' · ' : ''}${st === opts.status ? html`<strong>${st}</strong>` : statusLink(opts.licence, st, st)}`)}</p>
${ACTION[opts.status] ? html`<p>${ACTION[opts.status]}</p>` : ''}
${shown.length ? casTable(shown) : html`<p class="muted">No CAS of ${opts.licence} ${opts.before !== undefined ? 'further back ' : ''}in this status.</p>`}
<p>${opts.before !== undefined ? html`<a href="${here({})}">Newest</a> · ` : ''}${rows.length > PAGE_SIZE && last ? html`<a href="${here({ before: last.id })}">Older</a>` : html`<span class="muted">No older CAS.</span>`} · <a href="/sponsors/${opts.licence}">Sponsor ${opts.licence}</a></p>`,
  );
}
