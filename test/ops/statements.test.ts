/**
 * CAS statements (spec section 11) on both stores, read back with pdftotext: `cas statement`
 * and `cas statements` as an operator runs them (final and draft, hostile values, 0640,
 * the same bytes twice); `sponsor set --statements` through `process`, `assign` and
 * `watch`: one statement per CAS assigned, in the outbox, also when the service stopped
 * between the assignment and the writing, or the real `watch` process was killed in the
 * middle of writing them; and the console's link behind its token.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CasView } from '../../src/db/cas-query.ts';
import { listCas } from '../../src/db/cas-query.ts';
import { pendingStatementCount } from '../../src/db/statements.ts';
import { assignLater } from '../../src/ops/assign.ts';
import { updateSponsor } from '../../src/ops/sponsors.ts';
import { statementOf } from '../../src/ops/statements.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { cliOnStore, runCli } from '../helpers/cli.ts';
import { storeTest, suiteChildren, suiteCliStore, suiteDir } from '../helpers/fixture.ts';
import { startHttpScenario } from '../helpers/http.ts';
import { pdfPages, pdfText } from '../helpers/pdf.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, ls, nextLicence, sponsor, upload, waitForLog, waitProcessed } from '../helpers/watch.ts';

/** Schema-valid (Latin-1 printable, at most 35 characters in a name) and hostile to a PDF writer. */
const HOSTILE_FAMILY = 'O(Brien) \\ 100% )( %%EOF endobj';
const LONG_NAME = `Ünïversité ${'(x) \\ % '.repeat(11)}`.slice(0, 100);
const mode = (f: string) => statSync(f).mode & 0o777;
const statementsIn = (dir: string) => ls(dir).filter((n) => n.endsWith('.statement.pdf'));

describe.each(STORE_KINDS)('cas statement and cas statements on %s', (kind) => {
  const { cli, cwd: dir } = cliOnStore(kind, 'cas-bdt-stmt-');
  const L = nextLicence('S');

  it('writes a final and a draft statement with every value as given, the same bytes each time, 0640', async () => {
    expect((await cli('sponsor', 'add', L, '--name', LONG_NAME, '--allocation', '1')).code).toBe(0);
    const hostile = casXml({
      applicantId: 'HOSTILE-1',
      familyName: HOSTILE_FAMILY,
      givenName: 'Zoë-Ågot',
      passport: 'PX1',
      courseTitle: LONG_NAME,
    }).replace('</GivenName>', `</GivenName><OtherNames>${LONG_NAME.replaceAll('&', '&amp;')}</OtherNames>`);
    const held = casXml({ applicantId: 'HELD-2', passport: 'PX2', evidence: null });
    const file = path.join(dir, 'intake.xml');
    writeFileSync(file, uploadBytes({ licence: L, fileId: 'STMT-1', records: [hostile, held] }));
    const processed = await cli('process', file, '--sponsor', L, '--out', path.join(dir, 'results'));
    expect(processed.code, processed.stderr).toBe(0);
    const rows = (await cli('cas', 'list', '--sponsor', L, '--json')).json<CasView[]>();
    const assigned = rows.find((r) => r.applicantId === 'HOSTILE-1')!;
    const draft = rows.find((r) => r.applicantId === 'HELD-2')!;
    expect(assigned.casNumber).toMatch(/^[A-Z0-9]{14}$/);
    expect(draft.status).toBe('WORK_IN_PROGRESS');

    // Final: the CAS number, the record's values exactly, real text.
    const one = await cli('cas', 'statement', assigned.casNumber!, '--out', 'one.pdf', '--json');
    expect(one.code, one.stderr).toBe(0);
    expect(one.json()).toMatchObject({ id: assigned.id, casNumber: assigned.casNumber, draft: false });
    const pdf = readFileSync(path.join(dir, 'one.pdf'));
    expect(mode(path.join(dir, 'one.pdf'))).toBe(0o640);
    const text = pdfText(pdf).replaceAll('\f', '\n');
    const flat = pdfText(pdf, { layout: false }).replace(/\s+/g, ' ');
    expect(text).toContain(assigned.casNumber!);
    expect(text).toContain(HOSTILE_FAMILY);
    expect(text).toContain('Zoë-Ågot');
    expect(flat).toContain(LONG_NAME.trim().replace(/\s+/g, ' '));
    for (const h of ['Student', 'Course', 'English language', 'ATAS', 'Fees, payments, accommodation and boarding', 'History'])
      expect(text).toMatch(new RegExp(`^${h}$`, 'm'));
    expect(text).not.toContain('DRAFT');

    // The same CAS gives the same bytes; an existing --out is replaced whole.
    expect((await cli('cas', 'statement', '--id', String(assigned.id), '--out', 'one.pdf')).code).toBe(0);
    expect(readFileSync(path.join(dir, 'one.pdf')).equals(pdf)).toBe(true);

    // Draft: default name, DRAFT on every page, no CAS number, the warning that holds it.
    const d = await cli('cas', 'statement', '--id', String(draft.id));
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('DRAFT');
    const draftFile = path.join(dir, `draft-${draft.id}.statement.pdf`);
    expect(mode(draftFile)).toBe(0o640);
    const pages = pdfPages(readFileSync(draftFile));
    for (const p of pages) expect(p).toContain('DRAFT - not a CAS');
    expect(pages.join('\n')).toContain('W_SELT_NOT_PROVIDED');
    expect(pages.join('\n')).not.toContain(assigned.casNumber!);

    // Not found, usage.
    expect((await cli('cas', 'statement', '--id', '999999')).code).toBe(4);
    expect((await cli('cas', 'statement')).code).toBe(2);
  });

  it('writes one statement per CAS of a sponsor, filtered by batch and status', async () => {
    const out = path.join(dir, 'all');
    const all = await cli('cas', 'statements', '--sponsor', L, '--out', out, '--json');
    expect(all.code, all.stderr).toBe(0);
    expect(all.json()).toMatchObject({ statements: 2, drafts: 1 });
    const names = statementsIn(out);
    expect(names).toHaveLength(2);
    expect(names.filter((n) => n.startsWith('draft-'))).toHaveLength(1);
    for (const n of names) expect(mode(path.join(out, n))).toBe(0o640);

    const only = path.join(dir, 'assigned');
    const some = await cli('cas', 'statements', '--sponsor', L, '--batch', 'STMT-1', '--status', 'assigned', '--out', only);
    expect(some.code, some.stderr).toBe(0);
    expect(statementsIn(only)).toHaveLength(1);
    expect(statementsIn(only)[0]).not.toMatch(/^draft-/);
    // The same bytes as the single command's.
    expect(readFileSync(path.join(only, statementsIn(only)[0]!)).equals(readFileSync(path.join(dir, 'one.pdf')))).toBe(true);
    expect((await cli('cas', 'statements', '--sponsor', L, '--batch', 'NONE', '--out', only)).stdout).toContain('No CAS match');
  });

  it('sponsor set --statements: process into the outbox and assign write the statements of the CAS they assign', async () => {
    const on = await cli('sponsor', 'set', L, '--statements', '--json');
    expect(on.code, on.stderr).toBe(0);
    expect(on.json()).toMatchObject({ statements: true });
    expect((await cli('sponsor', 'show', L)).stdout).toMatch(/Statements:\s+yes/);
    const outbox = path.join(dir, 'bdt', L, 'outbox');
    const before = statementsIn(outbox);

    // Auto-assigned by `process` (results into the outbox).
    expect((await cli('sponsor', 'allocate', L, '2')).code).toBe(0);
    const auto = path.join(dir, 'auto.xml');
    writeFileSync(auto, uploadBytes({ licence: L, fileId: 'STMT-AUTO', records: [casXml({ applicantId: 'AUTO-1', passport: 'PX3' })] }));
    const p = await cli('process', auto, '--sponsor', L);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toContain(`Wrote 1 CAS statement to the outbox of ${L}.`);
    const autoCas = (await cli('cas', 'list', '--sponsor', L, '--applicant', 'AUTO-1', '--json')).json<CasView[]>()[0]!;
    expect(statementsIn(outbox)).toEqual([...before, `${autoCas.casNumber}.statement.pdf`].sort());

    // Assigned later by `assign`.
    expect((await cli('sponsor', 'set', L, '--no-auto-assign')).code).toBe(0);
    const later = path.join(dir, 'later.xml');
    writeFileSync(later, uploadBytes({ licence: L, fileId: 'STMT-LATER', records: [casXml({ applicantId: 'LATER-1', passport: 'PX4' })] }));
    expect((await cli('process', later, '--sponsor', L)).code).toBe(0);
    const a = await cli('assign', '--sponsor', L, '--batch', 'STMT-LATER', '--json');
    expect(a.code, a.stderr).toBe(0);
    const [assigned] = a.json<{ assigned: { casNumber: string }[] }>().assigned;
    expect(statementsIn(outbox)).toContain(`${assigned!.casNumber}.statement.pdf`);
    const pdf = readFileSync(path.join(outbox, `${assigned!.casNumber}.statement.pdf`));
    expect(mode(path.join(outbox, `${assigned!.casNumber}.statement.pdf`))).toBe(0o640);
    expect(pdfText(pdf)).toContain(assigned!.casNumber);

    expect((await cli('sponsor', 'set', L, '--no-statements', '--json')).json()).toMatchObject({ statements: false });
  });
});

describe.each(STORE_KINDS)('statements in the outbox through watch on %s', (kind) => {
  storeTest.override({ kind });

  storeTest(
    'each CAS assigned from a file gets one statement in the outbox; none without the setting',
    async ({ t, root, licence, start }) => {
      const db = t.store.db;
      const off = nextLicence('N');
      await sponsor(db, off);
      expect((await updateSponsor(db, licence, { statements: true }, new Date())).kind).toBe('done');
      await start();
      const inbox = path.join(root, licence, 'inbox');
      await waitFor(() => ls(path.join(root, off)).includes('inbox'), { what: 'folders made' });
      drop(inbox, 'three.xml', upload(licence, `ST${licence.slice(-4)}`, 3));
      drop(path.join(root, off, 'inbox'), 'plain.xml', upload(off, `PL${off.slice(-4)}`, 1));
      await waitProcessed(root, licence, ['three.xml']);
      await waitProcessed(root, off, ['plain.xml']);
      const outbox = path.join(root, licence, 'outbox');
      const numbers = (await listCas(db, { licence })).map((c) => c.casNumber!).sort();
      expect(numbers).toHaveLength(3);
      await waitFor(() => statementsIn(outbox).length === 3 || undefined, { what: '3 statements in the outbox' });
      expect(statementsIn(outbox)).toEqual(numbers.map((n) => `${n}.statement.pdf`));
      for (const n of numbers) {
        const f = path.join(outbox, `${n}.statement.pdf`);
        expect(mode(f)).toBe(0o640);
        expect(pdfText(readFileSync(f))).toContain(n);
      }
      await waitFor(async () => (await pendingStatementCount(db)) === 0 || undefined, { what: 'nothing owed' });
      expect(statementsIn(path.join(root, off, 'outbox'))).toEqual([]);
    },
  );

  storeTest(
    'a stop between the assignment and the writing still ends with one statement per CAS',
    async ({ t, root, licence, start, uploadFor }) => {
      const db = t.store.db;
      expect((await updateSponsor(db, licence, { statements: true, autoAssign: false }, new Date())).kind).toBe('done');
      const first = await start();
      const tag = `KL${licence.slice(-4)}`;
      drop(path.join(root, licence, 'inbox'), 'later.xml', uploadFor(tag, 2));
      await waitProcessed(root, licence, ['later.xml']);
      await first.stop();

      // `cas-bdt assign` with no service running: the statements are owed, nothing is written yet.
      const res = await assignLater(
        db,
        licence,
        { batch: `FILE-${tag}` },
        { now: new Date(), settings: { feePence: 2500, validityMonths: 6 } },
      );
      expect(res.kind).toBe('done');
      expect(await pendingStatementCount(db)).toBe(2);
      const outbox = path.join(root, licence, 'outbox');
      expect(statementsIn(outbox)).toEqual([]);
      // One of them written before a kill that came before it was marked written.
      const [a] = (await listCas(db, { licence })).map((c) => c.casNumber!);
      const early = (await statementOf(db, { casNumber: a! }))!.pdf;
      writeFileSync(path.join(outbox, `${a}.statement.pdf`), early, { mode: 0o640 });

      const second = await start();
      await waitFor(() => second.logs.join('').includes('CAS statements written to outboxes'), {
        what: 'the statements written after the restart',
      });
      expect(await pendingStatementCount(db)).toBe(0);
      const numbers = (await listCas(db, { licence })).map((c) => c.casNumber!).sort();
      expect(statementsIn(outbox)).toEqual(numbers.map((n) => `${n}.statement.pdf`));
      expect(readdirSync(outbox).filter((n) => n.includes('statement'))).toHaveLength(2);
      expect(readFileSync(path.join(outbox, `${a}.statement.pdf`)).equals(early)).toBe(true);
    },
  );
});

describe.each(STORE_KINDS)("the console's statement link on %s", (kind) => {
  it('links the CAS page to its statement, served as a PDF behind the token', async () => {
    const token = 'console-secret';
    const s = await startHttpScenario(kind, { token });
    try {
      const auth = { authorization: `Bearer ${token}` };
      const cas = (await listCas(s.t.store.db, { licence: s.licence })).find((c) => c.applicantId === s.applicants.ok)!;
      const page = await s.get(`/cas/${cas.id}`, auth);
      expect(page.status).toBe(200);
      expect(page.body).toContain(`<a href="/cas/${cas.id}/statement.pdf">Statement (PDF)</a>`);

      const res = await fetch(`${s.server.url}/cas/${cas.id}/statement.pdf`, { headers: auth });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/pdf');
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${cas.casNumber}.statement.pdf"`);
      const pdf = Buffer.from(await res.arrayBuffer());
      expect(pdfText(pdf)).toContain(cas.casNumber!);

      // `get` sends the token unless told otherwise: without it the statement is refused.
      expect((await fetch(`${s.server.url}/cas/${cas.id}/statement.pdf`)).status).toBe(401);
      expect((await s.get('/cas/99999999/statement.pdf', auth)).status).toBe(404);
      expect((await s.get('/cas/x/statement.pdf', auth)).status).toBe(404);
    } finally {
      await s.close();
    }
  });
});

describe.each(STORE_KINDS)('the real watch process killed while writing statements on %s', (kind) => {
  const work = suiteDir('cas-bdt-stmt-kill-');
  const root = path.join(work, 'bdt');
  const db = suiteCliStore(kind, path.join(work, 'data'));
  const spawn = suiteChildren();
  const L = nextLicence('K');
  const RECORDS = 200;

  const cli = (...args: string[]) => runCli([...db.cliArgs, '--root', root, ...args], { cwd: work });
  const watch = () => spawn(['watch', ...db.cliArgs, '--root', root, '--settle-ms', '200', '--scan-interval-ms', '500']);

  it('SIGKILL in the middle of the statements: the next start writes the rest, one per CAS', async () => {
    expect((await cli('sponsor', 'add', L, '--name', 'Kill University', '--allocation', String(RECORDS))).code).toBe(0);
    expect((await cli('sponsor', 'set', L, '--statements')).code).toBe(0);
    const outbox = path.join(root, L, 'outbox');
    const first = watch();
    await waitForLog(first, /INFO\s+ready/, 90_000);
    drop(path.join(root, L, 'inbox'), 'many.xml', upload(L, `MK${L.slice(-4)}`, RECORDS));
    // Killed as soon as the first statement is there: the rest are still being written.
    await waitFor(() => statementsIn(outbox).length > 0, { intervalMs: 5, what: 'the first statement' });
    first.kill('SIGKILL');
    await first.exited;
    const atKill = statementsIn(outbox).length;
    expect(atKill).toBeLessThan(RECORDS);

    const second = watch();
    await waitForLog(second, /CAS statements written to outboxes/, 90_000);
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const numbers = (await cli('cas', 'list', '--sponsor', L, '--json')).json<CasView[]>().map((c) => c.casNumber!);
    expect(numbers).toHaveLength(RECORDS);
    // One statement per CAS, nothing else left in the outbox but the result.
    expect(statementsIn(outbox)).toEqual(numbers.map((n) => `${n}.statement.pdf`).sort());
    expect(ls(outbox).filter((n) => !n.endsWith('.statement.pdf'))).toEqual(['many.result.xml']);
    for (const n of numbers.slice(0, 3)) expect(pdfText(readFileSync(path.join(outbox, `${n}.statement.pdf`)))).toContain(n);
  });
});
