/**
 * The console's pages for a sponsor's day on both stores: the sponsor's page with the CAS
 * that need action (ready to go, work in progress) and its CAS by status, a page of each
 * status, where each submission's input went, a graduate report's CAS links, outcomes
 * that are not all green, counts in the singular, and the allocation gauge of /metrics.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateSponsor } from '../../src/ops/sponsors.ts';
import { useCas } from '../../src/ops/use.ts';
import { processFile } from '../../src/pipeline/process-file.ts';
import { readReceivedFile, release } from '../../src/inbox/read-file.ts';
import { casXml, graduateBytes, uploadBytes } from '../helpers/bdt.ts';
import { startHttpScenario, type HttpScenario } from '../helpers/http.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, waitProcessed } from '../helpers/watch.ts';
import { writeFileSync } from 'node:fs';

const submissionIds = (list: string, name: string) =>
  [...list.matchAll(new RegExp(`<a href="/submissions/(\\d+)">${name}</a>`, 'g'))].map((m) => m[1]!);

describe.each(STORE_KINDS)('console pages on %s', (kind) => {
  let s: HttpScenario;
  beforeAll(async () => {
    s = await startHttpScenario(kind);
    // The sponsor stops assigning: a complete record is left READY TO GO, one without evidence WORK IN PROGRESS.
    await updateSponsor(s.t.store.db, s.licence, { autoAssign: false }, new Date());
    drop(
      path.join(s.root, s.licence, 'inbox'),
      'later.xml',
      uploadBytes({
        licence: s.licence,
        fileId: `LATER-${s.licence.slice(-5)}`,
        records: [
          casXml({ applicantId: `RT-${s.licence.slice(-5)}`, passport: `PR${s.licence.slice(-5)}` }),
          casXml({ applicantId: `WP-${s.licence.slice(-5)}`, passport: `PW${s.licence.slice(-5)}`, evidence: null }),
        ],
      }),
    );
    await waitProcessed(s.root, s.licence, ['later.xml']);
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it("a sponsor's page lists the CAS that need action and counts its CAS by status, each status a page of its own", async () => {
    const overview = (await s.get('/')).body;
    expect(overview).toContain(`<a href="/sponsors/${s.licence}">${s.licence}</a>`);
    const r = await s.get(`/sponsors/${s.licence}`);
    expect(r.status).toBe(200);
    const tag = s.licence.slice(-5);
    expect(r.body).toContain('<h2>CAS that need action</h2>');
    expect(r.body).toMatch(
      new RegExp(`<h3>Ready to go: 1 CAS</h3>[\\s\\S]*?RT-${tag}[\\s\\S]*?<h3>Work in progress: 1 CAS</h3>[\\s\\S]*?WP-${tag}`),
    );
    expect(r.body).toContain('cas-bdt assign --sponsor LICENCE --batch NAME');
    expect(r.body).toContain(`<tr><td><a href="/sponsors/${s.licence}/cas?status=ASSIGNED">ASSIGNED</a></td><td class="n">2</td></tr>`);
    expect(r.body).toContain('<tr><td>USED</td><td class="n">0</td></tr>');
    const assigned = (await s.get(`/sponsors/${s.licence}/cas?status=ASSIGNED`)).body;
    expect(assigned).toContain(`CAS of ${s.licence}: ASSIGNED`);
    expect(assigned).toContain(`OK-${tag}`);
    expect(assigned).not.toContain(`RT-${tag}`);
    // Names are text, never markup.
    expect(assigned).not.toContain('<script>');
    const ready = (await s.get(`/sponsors/${s.licence}/cas?status=READY_TO_GO`)).body;
    const [, id] = /<a href="\/cas\/(\d+)">id \d+ \(no number yet\)<\/a>/.exec(ready) ?? [];
    const one = await s.get(`/cas/${id}`);
    expect(one.status).toBe(200);
    // The CAS leads back to its sponsor's page.
    expect(one.body).toContain(`<dt>Sponsor</dt><dd><a href="/sponsors/${s.licence}">${s.licence}</a></dd>`);
    expect((await s.get('/sponsors/NOSUCH001')).status).toBe(404);
    expect((await s.get('/sponsors/not-a-licence/cas')).status).toBe(404);
  });

  it('says where each input went, and tells a file with refused records from a clean one', async () => {
    const list = (await s.get(`/submissions?sponsor=${s.licence}`)).body;
    expect(list).toContain('<td class="PARTIAL">ACCEPTED, 1 of 3 records refused</td>');
    expect(list).toContain('<td class="ACCEPTED">ACCEPTED</td>');
    const [good] = submissionIds(list, 'intake-good.xml');
    const [bad] = submissionIds(list, 'intake-bad.xml');
    expect((await s.get(`/submissions/${good}`)).body).toMatch(/<dt>Input<\/dt><dd>moved to archive\/(\w+_)?intake-good\.xml<\/dd>/);
    expect((await s.get(`/submissions/${bad}`)).body).toMatch(/<dt>Input<\/dt><dd>moved to rejected\/(\w+_)?intake-bad\.xml<\/dd>/);

    // A file given to `process` (the pipeline without the service) stays where it was.
    const dir = tempDir('cas-bdt-console-process-');
    const file = path.join(dir, 'by-hand.xml');
    const tag = s.licence.slice(-5);
    writeFileSync(
      file,
      uploadBytes({ licence: s.licence, fileId: `HAND-${tag}`, records: [casXml({ applicantId: `HD-${tag}`, passport: `PH${tag}` })] }),
    );
    const received = await readReceivedFile(file, s.licence, 10 * 1024 * 1024);
    const settings = { feePence: 2500, validityMonths: 6, maxFileBytes: 10 * 1024 * 1024, validateTimeoutMs: 60_000 };
    const processed = await processFile({ db: s.t.store.db, settings }, received).finally(() => release(received));
    expect((await s.get(`/submissions/${processed.submissionId}`)).body).toContain(
      '<dt>Input</dt><dd>not moved: it was given to cas-bdt process, which leaves its inputs where they are</dd>',
    );
  });

  it("a graduate report's CAS links lead to the CAS, and one record is '1 record'", async () => {
    const byApplicant = (await s.get(`/cas?q=OK-${s.licence.slice(-5)}`)).body;
    const [, casNumber] = /<a href="\/cas\/\d+">(E4G[A-Z0-9]{11})<\/a>/.exec(byApplicant) ?? [];
    expect(casNumber).toBeDefined();
    // A visa application was made with it: a USED CAS can be reported as graduated.
    const used = await useCas(s.t.store.db, { casNumber: casNumber! }, new Date().toISOString().slice(0, 10), new Date());
    expect(used.kind).toBe('done');
    drop(path.join(s.root, s.licence, 'inbox'), 'graduates.xml', graduateBytes(`GRAD-${s.licence.slice(-5)}`, [casNumber!]));
    await waitProcessed(s.root, s.licence, ['graduates.xml']);
    const list = (await s.get(`/submissions?sponsor=${s.licence}`)).body;
    const [grad] = submissionIds(list, 'graduates.xml');
    const page = (await s.get(`/submissions/${grad}`)).body;
    expect(page).toContain('<dt>Counts</dt><dd>1 record, 1 reported</dd>');
    expect(list).toMatch(
      /graduates\.xml<\/a><\/td><td>GRADUATE_REPORT<\/td><td class="ACCEPTED">ACCEPTED<\/td><td>1 record, 1 reported<\/td>/,
    );
    // The record's links (not the navigation's /cas), and the CAS page's own links.
    const links = [...page.matchAll(/<a href="(\/cas[?/][^"]*)">/g)].map((m) => m[1]!.replaceAll('&amp;', '&'));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      const r = await s.get(link);
      expect(r.status, link).toBe(200);
      expect(r.body, link).toContain(casNumber!);
    }
    expect(links).toEqual([expect.stringMatching(/^\/cas\/\d+$/)]);
    // A number the store does not hold is text, not a link to nothing.
    const unknown = 'E4G7QK3M58T2B1';
    drop(path.join(s.root, s.licence, 'inbox'), 'graduates-unknown.xml', graduateBytes(`GRADX-${s.licence.slice(-5)}`, [unknown]));
    await waitProcessed(s.root, s.licence, ['graduates-unknown.xml']);
    const [other] = submissionIds((await s.get(`/submissions?sponsor=${s.licence}`)).body, 'graduates-unknown.xml');
    const otherPage = (await s.get(`/submissions/${other}`)).body;
    expect(otherPage).toContain(`<td>${unknown} <span class="muted">(no such CAS here)</span></td>`);
    expect(otherPage).not.toMatch(/<a href="\/cas[?/]/);
  });

  it('/metrics gives each sponsor the allocation left, labelled by licence number only', async () => {
    const line = await waitFor(
      async () => (await s.get('/metrics')).body.split('\n').find((l) => l.startsWith('cas_bdt_allocation_unused{')),
      { what: 'the allocation gauge', timeoutMs: 10_000 },
    );
    // Allocation 10, two assigned by the first file; the later file assigned none.
    expect(line).toBe(`cas_bdt_allocation_unused{licence="${s.licence}"} 8`);
  });
});
