/** Files and CAS assigned per hour as an inline SVG bar chart (no script, readable as text too). */
import type { HourBucket } from '../ops/queries.ts';
import { html, plural, type Html } from './html.ts';

export function throughputChart(buckets: HourBucket[]): Html {
  const W = 760;
  const H = 220;
  const left = 40;
  const bottom = 30;
  const top = 10;
  const plotH = H - bottom - top;
  const max = Math.max(1, ...buckets.map((b) => Math.max(b.files, b.casAssigned)));
  // A round scale: 1, 2, 5, 10, 20, 50, ...
  const step = [1, 2, 5].map((m) => m * 10 ** Math.floor(Math.log10(max))).find((s) => s * 4 >= max) ?? 10 ** Math.ceil(Math.log10(max));
  const scaleMax = Math.ceil(max / step) * step;
  const slot = (W - left - 10) / Math.max(1, buckets.length);
  const bar = Math.max(2, slot / 2 - 2);
  const y = (v: number) => top + plotH - (v / scaleMax) * plotH;
  const ticks = Array.from({ length: Math.round(scaleMax / step) + 1 }, (_, i) => i * step);
  const totalFiles = buckets.reduce((a, b) => a + b.files, 0);
  const totalCas = buckets.reduce((a, b) => a + b.casAssigned, 0);
  return html`<figure class="chart">
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="chart-title chart-desc">
<title id="chart-title">Files processed and CAS assigned per hour, last 24 hours</title>
<desc id="chart-desc">${plural(totalFiles, 'file')} processed and ${totalCas} CAS assigned in the last 24 hours.</desc>
${ticks.map(
  (t) =>
    html`<line x1="${left}" x2="${W - 10}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="grid"/><text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" class="axis">${t}</text>`,
)}
${buckets.map((b, i) => {
  const x = left + i * slot + 1;
  const hour = b.hour.toISOString().slice(11, 13);
  return html`<g><title>${b.hour.toISOString().slice(0, 13)}:00Z: ${plural(b.files, 'file')}, ${b.casAssigned} CAS assigned</title>
<rect x="${x.toFixed(1)}" y="${y(b.files).toFixed(1)}" width="${bar.toFixed(1)}" height="${(top + plotH - y(b.files)).toFixed(1)}" class="files"/>
<rect x="${(x + bar + 1).toFixed(1)}" y="${y(b.casAssigned).toFixed(1)}" width="${bar.toFixed(1)}" height="${(top + plotH - y(b.casAssigned)).toFixed(1)}" class="cas"/>
${i % 3 === 0 ? html`<text x="${(x + bar).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle" class="axis">${hour}h</text>` : ''}</g>`;
})}
</svg>
<figcaption><span class="key files"></span> files processed (${totalFiles}) <span class="key cas"></span> CAS assigned (${totalCas}), per hour, UTC</figcaption>
</figure>`;
}
