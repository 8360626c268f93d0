/**
 * The console's `/compliance` page and the compliance gauges of `/metrics` (spec section 10).
 * Both read the figures kept in the store, brought up to date at every request: only the
 * sponsors whose CAS, reports or licence changed since the last request are computed again
 * (every sponsor on the first request of a day). A page reloaded in a loop or a frequent
 * scrape costs a look at the changes, and still shows the figures as they are.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../ops/store.ts';
import { isoDateUtc } from '../domain/dates.ts';
import type { Compliance, Rate } from '../domain/compliance.ts';
import type { Nation } from '../domain/working-days.ts';
import { currentCompliance } from '../ops/compliance.ts';
import { html, type Html } from './html.ts';
import { page } from './pages.ts';

/**
 * The figures as they are when asked. Requests run one after the other: one that arrives
 * while another is bringing the figures up to date waits for it, then finds them current
 * (or brings them up to date with what changed meanwhile) at the cost of a look.
 */
export function complianceSource(db: Db, nation: Nation, clock: () => Date): () => Promise<Compliance[]> {
  let queue: Promise<unknown> = Promise.resolve();
  let held: { version: string; rows: Compliance[] } | undefined;
  return () => {
    const next = queue.then(async () => {
      const now = await currentCompliance(db, { asOf: isoDateUtc(clock()), nation }, held);
      held = { version: now.version, rows: now.rows };
      return now.rows;
    });
    queue = next.catch(() => {}); // a failed request fails alone; the next one tries again
    return next;
  };
}

const pct = (r: Rate) => (r.rate === null ? '–' : `${(r.rate * 100).toFixed(1)}%`);
const cls = (r: Rate) => (r.state === 'pass' ? 'ok' : r.state === 'fail' ? 'bad' : r.state === 'at risk' ? 'bad' : 'muted');

function cell(r: Rate, rule: string) {
  return html`<td class="n">${pct(r)} <span class="muted">(${r.numerator}/${r.denominator})</span></td><td>${rule} ${r.threshold}%</td><td class="${cls(r)}">${r.state}</td>`;
}

/** Each sponsor's row of the table, laid out once per row (the rows of sponsors that did not change are kept). */
const rowsMade = new WeakMap<Compliance, Html>();
function rowOf(c: Compliance): Html {
  const known = rowsMade.get(c);
  if (known) return known;
  const row = html`<tr><td><a href="/submissions?sponsor=${c.sponsorLicenceNumber}">${c.sponsorLicenceNumber}</a></td>${cell(c.refusal, 'below')}${cell(c.enrolment, 'at least')}${cell(c.completion, 'at least')}<td class="n">${c.lateReports}</td><td>${c.missingReports.length ? c.missingReports.map((m) => html`${m.casNumber} <span class="muted">(due ${m.dueDate})</span><br>`) : '0'}</td></tr>`;
  rowsMade.set(c, row);
  return row;
}

/** The page last made of each set of rows: the same rows (nothing changed) are not laid out again. */
const made = new WeakMap<Compliance[], string>();

export async function compliancePage(load: () => Promise<Compliance[]>): Promise<string> {
  const rows = await load();
  const known = made.get(rows);
  if (known !== undefined) return known;
  const text = complianceTable(rows);
  made.set(rows, text);
  return text;
}

function complianceTable(rows: Compliance[]): string {
  const first = rows[0];
  return page(
    'Compliance',
    html`<p>Basic Compliance Assessment measures over the 12 months ${first ? `${first.window.from} to ${first.window.to}` : ''}; fewer than 50 cases is too few to judge. Figures are as they are now.</p>
<table><thead><tr><th rowspan="2">Sponsor</th><th colspan="3">Refusal</th><th colspan="3">Enrolment</th><th colspan="3">Completion</th><th rowspan="2">Late reports</th><th rowspan="2">Missing reports</th></tr>
<tr>${['Rate', 'Threshold', 'State', 'Rate', 'Threshold', 'State', 'Rate', 'Threshold', 'State'].map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>
${rows.map(rowOf)}
</tbody></table>`,
  );
}

const sources = new WeakMap<Registry, () => Promise<Compliance[]>>();

/** Gauges per sponsor, the licence as the only label: the three rates (absent when nothing was counted), late and missing reports. */
export function registerComplianceGauges(registry: Registry, load: () => Promise<Compliance[]>): void {
  // One set of gauges per registry; an app built again on the same registry (a restart of the
  // HTTP surface within one process) makes them read its own figures.
  const known = sources.has(registry);
  sources.set(registry, load);
  if (known) return;
  const gauge = (name: string, help: string, value: (c: Compliance) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['licence'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const c of await (sources.get(registry) ?? load)()) {
          const v = value(c);
          if (v !== null) this.set({ licence: c.sponsorLicenceNumber }, v);
        }
      },
    });
  gauge(
    'cas_bdt_compliance_refusal_rate',
    'Refused visa decisions / all decisions over the last 12 months, per sponsor',
    (c) => c.refusal.rate,
  );
  gauge(
    'cas_bdt_compliance_enrolment_rate',
    'Granted students who enrolled / granted (course started), last 12 months',
    (c) => c.enrolment.rate,
  );
  gauge(
    'cas_bdt_compliance_completion_rate',
    'Enrolled students who completed / whose course ended, last 12 months',
    (c) => c.completion.rate,
  );
  gauge('cas_bdt_compliance_late_reports', 'Student activity reports received after their due date, last 12 months', (c) => c.lateReports);
  gauge(
    'cas_bdt_compliance_missing_reports',
    'ASSIGNED CAS overdue for a NOT_ENROLLED report (listed up to 100 per sponsor)',
    (c) => c.missingReports.length,
  );
}
