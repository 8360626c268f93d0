/**
 * Whose fault a failure is (src/service/faults.ts), judged on real errors of both stores
 * and of the file system, and what the running service does with each kind: a value the
 * database cannot hold is never retried, an unexpected error sets the file aside after
 * three strikes (E_INTERNAL), and a fault of one file holds neither other files nor other
 * sponsors.
 */
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { addSponsor } from '../../src/db/sponsors.ts';
import { classifyFault } from '../../src/service/faults.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { suiteWatch } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, ls, nextLicence, sponsor, upload, waitProcessed } from '../helpers/watch.ts';

const failure = async (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a failure'),
    (err: unknown) => err,
  );

describe.each(STORE_KINDS)('faults on %s', (kind) => {
  const { t, root, start, dir, subsOf } = suiteWatch(kind, 'cas-bdt-faults-');

  it('classifies real database errors by SQLSTATE along the cause chain', async () => {
    const db = t.store.db;
    expect(classifyFault(await failure(db.execute(sql`select ${'99999999-06-30'}::date`)))).toEqual({ kind: 'file', code: '22008' });
    expect(classifyFault(await failure(db.execute(sql`select 1 / ${0}::int`)))).toEqual({ kind: 'file', code: '22012' });
    expect(classifyFault(await failure(db.execute(sql`select ${'123456.78'}::numeric(6,2)`)))).toEqual({ kind: 'file', code: '22003' });
    expect(classifyFault(await failure(db.execute(sql`select * from no_such_table`)))).toEqual({ kind: 'unknown', code: '42P01' });
    const licence = await sponsor(db, nextLicence('F'));
    const dup = await failure(
      addSponsor(db, { licenceNumber: licence, name: 'again', routes: ['student'], autoAssign: true, allocation: 0 }, new Date()),
    );
    expect(classifyFault(dup)).toEqual({ kind: 'environment', code: '23505' });
    const readOnly = await failure(
      db.transaction(async (tx) => {
        await tx.execute(sql`set transaction read only`);
        await tx.execute(sql`create table never_made (x int)`);
      }),
    );
    expect(classifyFault(readOnly)).toEqual({ kind: 'environment', code: '25006' });
  });

  it('classifies real file-system errors by errno: our folders are the environment, a name too long is the file', async () => {
    const base = tempDir('cas-bdt-errno-');
    writeFileSync(path.join(base, 'outbox'), 'a file where a folder should be');
    expect(classifyFault(await failure(open(path.join(base, 'outbox', 'x.result.xml'), 'wx')))).toEqual({
      kind: 'environment',
      code: 'ENOTDIR',
    });
    expect(classifyFault(await failure(open(path.join(base, 'n'.repeat(300)), 'r')))).toEqual({ kind: 'file', code: 'ENAMETOOLONG' });
    const full = new Error('write failed', { cause: Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }) });
    expect(classifyFault(full).kind).toBe('environment');
    expect(classifyFault(new TypeError('undefined is not a function')).kind).toBe('unknown');
    rmSync(base, { recursive: true, force: true });
  });

  it('takes a schema-valid ExpectedCourseEndDate of 99999999-06-30 as a record error, once, without any fault', async () => {
    const licence = await sponsor(t.store.db, nextLicence('F'));
    const svc = await start();
    await waitFor(() => svc.service.sponsors().includes(licence));
    const bytes = uploadBytes({
      licence,
      fileId: `POISON-${licence}`,
      records: [casXml({ applicantId: 'P-1', courseEnd: '99999999-06-30' }), casXml({ applicantId: 'P-2', passport: 'B7654321' })],
    });
    drop(dir(licence, 'inbox'), 'poison.xml', bytes);
    await waitProcessed(root, licence, ['poison.xml']);
    const result = readFileSync(path.join(dir(licence, 'outbox'), 'poison.result.xml'), 'utf8');
    expect(result).toContain('<Outcome>ACCEPTED</Outcome>');
    expect(result).toMatch(
      /code="E_COURSE_DATES" field="CourseDetails\/ExpectedCourseEndDate">ExpectedCourseEndDate \(99999999-06-30\) is outside/,
    );
    expect(ls(dir(licence, 'archive'))).toHaveLength(1);
    expect((await subsOf(licence)).length).toBe(1);
    expect(svc.logs.join('')).not.toMatch(/fault/);
  });

  it('stores the longest values and the largest numbers a schema-valid file can hold', async () => {
    const licence = await sponsor(t.store.db, nextLicence('F'));
    const svc = await start();
    await waitFor(() => svc.service.sponsors().includes(licence));
    const y = '\u00ff';
    const bytes = uploadBytes({
      licence,
      fileId: `L${'x'.repeat(49)}`,
      records: [
        casXml({
          applicantId: y.repeat(50),
          familyName: y.repeat(35),
          givenName: y.repeat(35),
          passport: y.repeat(35),
          courseTitle: y.repeat(250),
          courseId: null,
          courseStart: '2199-12-30',
          courseEnd: '2199-12-31',
          dateOfBirth: '<FullDate>1900-01-01</FullDate>',
          hasWorkPlacement: true,
          workPlacementDetails: `<WorkPlacementPercentage>${'9'.repeat(400)}</WorkPlacementPercentage><WorkPlacementJustificationText>${y.repeat(2000)}</WorkPlacementJustificationText>`,
        }),
      ],
    });
    drop(dir(licence, 'inbox'), 'longest.xml', bytes);
    await waitProcessed(root, licence, ['longest.xml']);
    const result = readFileSync(path.join(dir(licence, 'outbox'), 'longest.result.xml'), 'utf8');
    expect(result).toContain('<Outcome>ACCEPTED</Outcome>');
    expect(result).toContain('<Outcome>CREATED</Outcome>');
    expect(svc.logs.join('')).not.toMatch(/fault/);
  });

  it('rejects at once (E_INTERNAL, one attempt) a file with a value the database cannot hold that slipped past validation', async () => {
    const licence = await sponsor(t.store.db, nextLicence('F'));
    let attempts = 0;
    // A validator with a gap: it lets a NUL character reference through (the real one refuses it).
    const svc = await start({
      validate: async () => {
        attempts++;
        return { kind: 'valid' };
      },
    });
    await waitFor(() => svc.service.sponsors().includes(licence));
    const text = uploadBytes({ licence, fileId: `NUL-${licence}`, records: [casXml({ applicantId: 'ID-NUL-1' })] }).toString('latin1');
    drop(dir(licence, 'inbox'), 'nul.xml', Buffer.from(text.replace('ID-NUL-1', 'ID&#0;1'), 'latin1'));
    await waitProcessed(root, licence, ['nul.xml']);
    const result = readFileSync(path.join(dir(licence, 'outbox'), 'nul.result.xml'), 'utf8');
    expect(result).toMatch(
      /<Error code="E_INTERNAL">the file could not be processed: a value in it could not be stored \(22[0-9A-Z]{3}\); the operator has been alerted<\/Error>/,
    );
    expect(attempts).toBe(1);
    expect(ls(dir(licence, 'rejected'))).toHaveLength(1);
    await waitFor(() => svc.logs.some((l) => / ERROR .*set aside.*fault=file/.test(l)), { what: 'the error line' });
  });

  it('sets a file aside after three unexpected errors in a row: REJECTED with E_INTERNAL, in rejected/, one error line; other sponsors go on', async () => {
    const crashing = await sponsor(t.store.db, nextLicence('F'));
    const other = await sponsor(t.store.db, nextLicence('F'));
    let crashes = 0;
    const svc = await start({
      // A validator that crashes on one sponsor's file (the files here need no real validation).
      validate: async (doc) => {
        if ((typeof doc === 'string' ? doc : doc.slice(0, doc.byteLength)).includes(crashing)) {
          crashes++;
          throw new Error('validator process exited with signal SIGSEGV');
        }
        return { kind: 'valid' };
      },
    });
    await waitFor(() => svc.service.sponsors().includes(crashing) && svc.service.sponsors().includes(other));
    drop(dir(crashing, 'inbox'), 'crash.xml', upload(crashing, `${crashing}C`));
    drop(dir(other, 'inbox'), 'fine.xml', upload(other, `${other}F`));
    await waitProcessed(root, crashing, ['crash.xml']);
    await waitProcessed(root, other, ['fine.xml']);

    expect(crashes).toBe(3);
    const [sub] = await subsOf(crashing);
    const result = readFileSync(path.join(dir(crashing, 'outbox'), 'crash.result.xml'), 'utf8');
    expect(result).toContain('<Outcome>REJECTED</Outcome>');
    expect(result).toMatch(/<Error code="E_INTERNAL">[^<]*the operator has been alerted<\/Error>/);
    expect(ls(dir(crashing, 'rejected'))).toEqual([expect.stringMatching(/^\d{8}T\d{6}Z_crash\.xml$/)]);
    await waitFor(() => svc.logs.some((l) => / ERROR /.test(l)), { what: 'the error line' });
    const errors = svc.logs.filter((l) => / ERROR /.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`submission=${sub!.id}`);
    expect(errors[0]).toContain('SIGSEGV');
    expect(ls(dir(other, 'archive'))).toHaveLength(1);
    // Set aside once: nothing more is tried on it.
    await svc.service.scan();
    expect(crashes).toBe(3);
    expect((await subsOf(crashing)).length).toBe(1);
  });

  it('backs off a file whose outbox is broken without holding other files or other sponsors', async () => {
    const broken = await sponsor(t.store.db, nextLicence('F'));
    const other = await sponsor(t.store.db, nextLicence('F'));
    // A long back-off: if a fault paused the whole queue, the other files would wait a minute.
    const svc = await start({ backoffMs: { initial: 60_000, max: 300_000 } });
    await waitFor(() => svc.service.sponsors().includes(broken) && svc.service.sponsors().includes(other));
    rmSync(dir(broken, 'outbox'), { recursive: true });
    writeFileSync(dir(broken, 'outbox'), 'not a folder');
    drop(dir(broken, 'inbox'), 'stuck.xml', upload(broken, `${broken}S`));
    await waitFor(() => svc.logs.some((l) => l.includes('infrastructure fault') && l.includes('stuck.xml')), { what: 'the fault' });

    const dropped = Date.now();
    drop(dir(other, 'inbox'), 'next.xml', upload(other, `${other}N`));
    drop(dir(broken, 'inbox'), 'sibling.xml', upload(broken, `${broken}T`));
    await waitProcessed(root, other, ['next.xml'], 20_000);
    // The same sponsor's next file is taken too (and meets the same broken outbox).
    await waitFor(async () => (await subsOf(broken)).length === 2, { timeoutMs: 20_000, what: "the broken sponsor's next file stored" });
    expect(Date.now() - dropped).toBeLessThan(20_000);
    // The faulty files stay in the inbox, waiting for their retry; nothing of them was lost.
    expect(ls(dir(broken, 'inbox'))).toEqual(['sibling.xml', 'stuck.xml']);
    unlinkSync(dir(broken, 'outbox'));
    mkdirSync(dir(broken, 'outbox'));
  });
});
