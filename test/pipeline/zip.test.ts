/**
 * Zipped files (spec section 4a) on both stores: a zip named like Tribal Edge's uploads,
 * holding a good upload, a schema-invalid upload and a graduate report, through `process`
 * and through the watch service: one result zip with three entry results (each valid
 * against result.xsd) and container.result.xml (valid against container-result.xsd);
 * each entry its own submission (`ZIPNAME!ENTRY`); the input in rejected/ since not every
 * entry was accepted; the same zip again replays its accepted entries and creates nothing.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { cas, submissions } from '../../src/db/schema.ts';
import { submissionPage } from '../../src/http/pages.ts';
import { storeTest } from '../helpers/fixture.ts';
import { cliOnStore } from '../helpers/cli.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, ls } from '../helpers/watch.ts';
import { readResultZip, TRIBAL_NAME, tribalEntries, zipOf } from '../helpers/zips.ts';

const expectTribal = async (resultZip: string, licence: string) => {
  const { container, results, names } = await readResultZip(resultZip);
  expect(names).toEqual(['container.result.xml', 'upload-1.result.xml', 'upload-2.result.xml', 'graduates.result.xml']);
  expect(container.FileName).toBe(TRIBAL_NAME);
  expect(container.SponsorLicenceNumber).toBe(licence);
  expect(container.Outcome).toBe('REJECTED');
  expect(container.Entry.map((e) => [e['@_name'], e['#text'], e['@_result']])).toEqual([
    ['upload-1.xml', 'ACCEPTED', 'upload-1.result.xml'],
    ['upload-2.xml', 'REJECTED', 'upload-2.result.xml'],
    ['graduates.xml', 'ACCEPTED', 'graduates.result.xml'],
  ]);
  const up1 = results.get('upload-1.result.xml')!;
  expect(up1.Submission.FileName).toBe(`${TRIBAL_NAME}!upload-1.xml`);
  expect(up1.Submission.FileType).toBe('UPLOAD_GENERAL');
  expect(up1.Summary['@_assigned']).toBe('1');
  expect(results.get('upload-2.result.xml')!.FileErrors!.Error.map((e) => e['@_code'])).toContain('E_SCHEMA');
  expect(results.get('graduates.result.xml')!.Submission.FileType).toBe('GRADUATE_REPORT');
  for (const e of container.Entry) expect(results.get(e['@_result']!)!.Submission.SubmissionId).toBe(e['@_submissionId']);
  return container;
};

describe.each(STORE_KINDS)('zipped files through watch on %s', (kind) => {
  storeTest.override({ kind });

  storeTest('through watch: the result zip, the input in rejected/, each entry its own submission', async ({ t, root, licence, start }) => {
    await start();
    const inbox = path.join(root, licence, 'inbox');
    await waitFor(() => existsSync(inbox), { what: 'the inbox' });
    drop(inbox, TRIBAL_NAME, await zipOf(tribalEntries(licence, 'W')));
    const outbox = path.join(root, licence, 'outbox');
    await waitFor(() => ls(outbox).includes('EXP-2024-02-02-092514533.result.zip') && !ls(inbox).includes(TRIBAL_NAME), {
      what: 'the zip processed',
    });
    await expectTribal(path.join(outbox, 'EXP-2024-02-02-092514533.result.zip'), licence);
    expect(ls(path.join(root, licence, 'rejected')).some((n) => n.endsWith(`_${TRIBAL_NAME}`))).toBe(true);
    const rows = await t.store.db.select().from(submissions).where(eq(submissions.sponsorLicenceNumber, licence));
    expect(rows.map((r) => r.fileName).sort()).toEqual(
      [TRIBAL_NAME, `${TRIBAL_NAME}!graduates.xml`, `${TRIBAL_NAME}!upload-1.xml`, `${TRIBAL_NAME}!upload-2.xml`].sort(),
    );
    expect(await t.store.db.select().from(cas).where(eq(cas.sponsorLicenceNumber, licence))).toHaveLength(1);
    // The console's page of the zip's own submission lists its files, each linked to its submission.
    const zipRow = rows.find((r) => r.fileName === TRIBAL_NAME)!;
    const page = (await submissionPage(t.store.db, zipRow.id))!;
    expect(page).toContain('Files in the zip');
    for (const r of rows.filter((x) => x.fileName !== TRIBAL_NAME)) expect(page).toContain(`<a href="/submissions/${r.id}">${r.id}</a>`);
  });
});

describe.each(STORE_KINDS)('zipped files through process on %s', (kind) => {
  const on = cliOnStore(kind, 'cas-bdt-zip-');
  const licence = 'ZIPPR0001';

  it('gives a result zip with three entry results and the container result; again, replays', async () => {
    expect((await on.cli('sponsor', 'add', licence, '--name', 'Zip College', '--allocation', '10')).code).toBe(0);
    const zip = path.join(on.cwd, TRIBAL_NAME);
    writeFileSync(zip, await zipOf(tribalEntries(licence, 'P')));
    const out = path.join(on.cwd, 'out');
    mkdirSync(out);
    // First a dry run: every entry judged, the would-be result zip written, nothing stored.
    const dry = await on.cli('validate', zip, '--sponsor', licence, '--out', path.join(on.cwd, 'dry'));
    expect(dry.code, dry.stderr).toBe(3);
    expect(dry.stdout).toContain(`${TRIBAL_NAME}: zip would be REJECTED`);
    expect(dry.stdout).toMatch(/\n {2}upload-1\.xml: would be ACCEPTED: 1 record\(s\): 1 would be created/);
    expect(dry.stdout).toMatch(/\n {2}upload-2\.xml: would be REJECTED\n.*E_SCHEMA/);
    expect(ls(path.join(on.cwd, 'dry'))).toEqual(['EXP-2024-02-02-092514533.dry-run.result.zip']);
    const wouldBe = await readResultZip(path.join(on.cwd, 'dry', 'EXP-2024-02-02-092514533.dry-run.result.zip'));
    expect(wouldBe.container.Entry).toHaveLength(3);
    expect((await on.cli('cas', 'list', '--sponsor', licence, '--json')).json<unknown[]>()).toHaveLength(0);

    const run = await on.cli('process', zip, '--sponsor', licence, '--out', out);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(`${TRIBAL_NAME}: zip REJECTED`);
    expect(run.stdout).toMatch(/upload-2\.xml: REJECTED/);
    expect(ls(out)).toEqual(['EXP-2024-02-02-092514533.result.zip']);
    await expectTribal(path.join(out, 'EXP-2024-02-02-092514533.result.zip'), licence);
    // Processed again: the accepted entries are replays, nothing is created twice.
    const again = await on.cli('process', zip, '--sponsor', licence, '--out', out, '--json');
    expect(again.code).toBe(3);
    const [summary] = again.json<{ container: { entries: { outcome: string; submissionId: number }[] } }[]>();
    expect(summary!.container.entries.map((e) => e.outcome)).toEqual(['ACCEPTED', 'REJECTED', 'ACCEPTED']);
    const shown = await on.cli('cas', 'list', '--sponsor', licence, '--json');
    expect(shown.json<unknown[]>()).toHaveLength(1);
  });
});
