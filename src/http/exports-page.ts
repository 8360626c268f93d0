/** The console's export deliveries (`watch --export-every`): newest first, per sponsor or all. */
import type { Db } from '../ops/store.ts';
import { listDeliveries } from '../ops/queries.ts';
import { html, query } from './html.ts';
import { page, PAGE_SIZE } from './pages.ts';

const time = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) + 'Z' : '');

export async function exportsPage(db: Db, opts: { licence?: string | undefined; offset?: number | undefined }): Promise<string> {
  const offset = opts.offset ?? 0;
  const rows = await listDeliveries(db, { licence: opts.licence, limit: PAGE_SIZE + 1, offset });
  const more = rows.length > PAGE_SIZE;
  const shown = rows.slice(0, PAGE_SIZE);
  const table = shown.length
    ? html`<table><thead><tr><th>Delivered (UTC)</th>${opts.licence ? '' : html`<th>Sponsor</th>`}<th>File</th><th>CAS</th><th>Last event</th><th>Changes since</th></tr></thead><tbody>
${shown.map(
  (r) =>
    html`<tr><td>${time(r.deliveredAt)}</td>${opts.licence ? '' : html`<td><a href="/exports${query({ sponsor: r.sponsorLicenceNumber })}">${r.sponsorLicenceNumber}</a></td>`}<td>${r.file}${r.state === 'pending' ? html` <span class="muted">(being written)</span>` : ''}</td><td class="n">${r.casCount ?? ''}</td><td class="n">${r.lastEventId ?? ''}</td><td>${r.changedSince ? time(r.changedSince) : html`<span class="muted">everything (first delivery)</span>`}</td></tr>`,
)}
</tbody></table>`
    : html`<p class="muted">No export deliveries yet: <code>cas-bdt watch --export-every DURATION</code> writes them into each sponsor's outbox.</p>`;
  return page(
    opts.licence ? `Export deliveries to ${opts.licence}` : 'Export deliveries',
    html`${table}
<p>${offset > 0 ? html`<a href="/exports${query({ sponsor: opts.licence })}">Newest</a> · ` : ''}${more ? html`<a href="/exports${query({ sponsor: opts.licence, offset: offset + PAGE_SIZE })}">Older</a>` : html`<span class="muted">No older deliveries.</span>`}</p>`,
  );
}
