/**
 * Group commit: a sponsor's backlog of small files is stored in groups, and each file of a
 * group gets exactly what it would have got alone: its own submission, outcome, errors and
 * CAS numbers, whatever the files beside it did (refused by the schema, by the header, for
 * a file id already used, a copy of another file of the group, empty, not well-formed, a
 * zip). A fault that is not a file's own refusal rolls the group back, and each file is
 * then taken alone: the others are stored, the faulty one is set aside.
 */
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/sql-util.ts';
import { ensureSponsorFolders } from '../../src/inbox/layout.ts';
import { casXml, uploadBytes, uploadText } from '../helpers/bdt.ts';
import { suiteWatch } from '../helpers/fixture.ts';
import { parseResult, type ParsedResult } from '../helpers/pipeline.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { ls, nextLicence, sponsor, upload, waitProcessed } from '../helpers/watch.ts';
import { waitFor } from '../helpers/wait.ts';
import { zipOf } from '../helpers/zips.ts';

/** One sponsor's backlog, oldest first: every kind of outcome a file can have. */
async function backlog(licence: string, other: string): Promise<{ name: string; bytes: Buffer }[]> {
  const ok = Array.from({ length: 8 }, (_, i) => ({ name: `ok-${i}.xml`, bytes: upload(licence, `${licence}-${i}`) }));
  const text = upload(licence, `${licence}-W`).toString('latin1');
  return [
    ...ok,
    {
      name: 'schema.xml',
      bytes: Buffer.from(uploadText({ licence, fileId: 'F-SCHEMA' }).replace('<TierID>Tier 4</TierID>', ''), 'latin1'),
    },
    { name: 'other-sponsor.xml', bytes: upload(other, `${other}-O`) },
    // The id of ok-0, accepted earlier in the same group.
    {
      name: 'same-id.xml',
      bytes: uploadBytes({ licence, fileId: `FILE-${licence}-0`, records: [casXml({ applicantId: 'DUP-1', passport: 'PDUP1' })] }),
    },
    // ok-2's record again, in a file of its own: stored already by the file before it in the group.
    {
      name: 'repeat.xml',
      bytes: uploadBytes({ licence, fileId: 'F-REPEAT', records: [casXml({ applicantId: `${licence}-2-1`, passport: `P${licence}-20` })] }),
    },
    // ok-1's bytes again: a replay of it.
    { name: 'copy.xml', bytes: ok[1]!.bytes },
    { name: 'empty.xml', bytes: Buffer.alloc(0) },
    { name: 'broken.xml', bytes: Buffer.from(text.slice(0, Math.floor(text.length / 2)), 'latin1') },
    { name: 'zipped.zip', bytes: await zipOf([{ name: 'inner.xml', data: upload(licence, `${licence}-Z`) }]) },
    { name: 'ok-last.xml', bytes: upload(licence, `${licence}-L`) },
  ];
}

/** What a result says, without what differs from one sponsor or run to another (ids, numbers, dates). */
function gist(r: ParsedResult) {
  return {
    outcome: r.Outcome,
    replay: r.Submission.Replay,
    errors: (r.FileErrors?.Error ?? []).map((e) => e['@_code']),
    records: (r.Records?.Record ?? []).map((x) => [x.Outcome, x.Status, x.CASNumber === undefined ? 'no number' : 'number']),
  };
}

describe.each(STORE_KINDS)('group commit on %s', (kind) => {
  const { t, root, services, dir } = suiteWatch(kind, 'cas-bdt-group-');

  /** Drops the backlog into a new sponsor's inbox, runs the service on it, and returns what each file got. */
  async function run(groupFiles: number) {
    const licence = await sponsor(t.store.db, nextLicence('G'));
    const other = await sponsor(t.store.db, nextLicence('O'));
    await ensureSponsorFolders(root, licence);
    const files = await backlog(licence, other);
    files.forEach((f, i) => {
      const p = path.join(dir(licence, 'inbox'), f.name);
      writeFileSync(p, f.bytes);
      const when = new Date(Date.UTC(2020, 0, 1, 0, 0, i));
      utimesSync(p, when, when);
    });
    const svc = await services.start({ concurrency: 1, groupFiles, unfinishedGraceMs: 0 });
    const base = (n: string) => n.replace(/\.(xml|zip)$/, '');
    await waitFor(
      () => {
        const results = ls(dir(licence, 'outbox'));
        return ls(dir(licence, 'inbox')).length === 0 && files.every((f) => results.some((r) => r.startsWith(`${base(f.name)}.result.`)));
      },
      { what: `the backlog of ${licence} processed` },
    );
    await svc.stop();
    const outbox = ls(dir(licence, 'outbox'));
    const results = new Map(
      files
        .filter((f) => !f.name.endsWith('.zip'))
        .map((f) => {
          const name = outbox.find((n) => n === f.name.replace(/\.xml$/, '.result.xml'))!;
          return [f.name, gist(parseResult(readFileSync(path.join(dir(licence, 'outbox'), name), 'utf8')))];
        }),
    );
    const [numbers] = await rowsOf<{ n: number; distinct: number }>(
      t.store.db,
      sql`select count(cas_number)::int as n, count(distinct cas_number)::int as distinct from cas where sponsor_licence_number = ${licence}`,
    );
    const [claims] = await rowsOf<{ open: number }>(
      t.store.db,
      sql`select count(*) filter (where state <> 'done')::int as open from file_claims where sponsor_licence_number = ${licence}`,
    );
    // The transaction that last wrote each submission of a file taken from the inbox (not the
    // zip's entry): the one that recorded its result file.
    const [writers] = await rowsOf<{ files: number; transactions: number }>(
      t.store.db,
      sql`select count(*)::int as files, count(distinct xmin::text)::int as transactions from submissions
          where sponsor_licence_number = ${licence} and result_file is not null and file_name not like '%.zip%'`,
    );
    const processed = svc.logs.filter((l) => / processed /.test(l) && l.includes(`sponsor=${licence} `));
    return { licence, results, numbers: numbers!, openClaims: claims!.open, processed, files, writers: writers! };
  }

  it('gives each file of a group what it would have got alone', async () => {
    const alone = await run(1);
    const grouped = await run(64);

    // The same outcome, errors and records for every file, taken alone or in a group.
    expect(Object.fromEntries(grouped.results)).toEqual(Object.fromEntries(alone.results));
    // And what each is: 9 accepted files of one record, one replay, the rest refused.
    const outcomes = Object.fromEntries([...grouped.results].map(([n, r]) => [n, [r.outcome, r.replay, ...r.errors].join(' ')]));
    expect(outcomes).toMatchObject({
      'ok-0.xml': 'ACCEPTED false',
      'ok-7.xml': 'ACCEPTED false',
      'ok-last.xml': 'ACCEPTED false',
      'copy.xml': 'ACCEPTED true',
      'schema.xml': 'REJECTED false E_SCHEMA',
      'same-id.xml': 'REJECTED false E_DUPLICATE_FILE_ID',
      'empty.xml': 'REJECTED false E_NOT_WELL_FORMED',
      'broken.xml': 'REJECTED false E_NOT_WELL_FORMED',
    });
    // The repeat saw the CAS that ok-2 had stored just before it in the same transaction.
    expect(grouped.results.get('repeat.xml')!.records).toEqual([['REJECTED', undefined, 'no number']]);
    expect(outcomes['other-sponsor.xml']).toMatch(/^REJECTED false E_/);
    for (const r of [alone, grouped]) {
      // 8 + ok-last + the zip's entry: one CAS number each, none given twice, no claim left open.
      expect(r.numbers).toEqual({ n: 10, distinct: 10 });
      expect(r.openClaims).toBe(0);
      expect(r.processed).toHaveLength(r.files.length);
    }
    // Grouped: the whole backlog was ready at once, so every file but the zip (taken alone) went in one group.
    const inGroup = grouped.processed.filter((l) => / group=16\b/.test(l));
    expect(inGroup).toHaveLength(16);
    expect(grouped.processed.filter((l) => l.includes('file=zipped.zip'))[0]).not.toMatch(/ group=/);
    expect(alone.processed.filter((l) => / group=/.test(l))).toEqual([]);
    // A group's result files were recorded in one statement; files alone, each in its own.
    expect(grouped.writers).toEqual({ files: 16, transactions: 1 });
    expect(alone.writers).toEqual({ files: 16, transactions: 16 });
  });

  it('takes each file alone when the group fails for what is not a file refusal, and sets aside only the faulty one', async () => {
    const licence = await sponsor(t.store.db, nextLicence('F'));
    await ensureSponsorFolders(root, licence);
    // A value the database cannot hold, raised by the store itself for one file of the group.
    const fn = `boom_${licence.toLowerCase()}`;
    await t.store.db.execute(
      sql.raw(`create function ${fn}() returns trigger language plpgsql as $$ begin
        if new.sponsor_licence_number = '${licence}' and new.file_name = 'boom.xml' and new.outcome = 'ACCEPTED' then
          raise exception 'value too long for the column' using errcode = '22001';
        end if;
        return new; end $$`),
    );
    await t.store.db.execute(sql.raw(`create trigger ${fn} before insert on submissions for each row execute function ${fn}()`));
    try {
      const names = ['a.xml', 'b.xml', 'boom.xml', 'c.xml', 'd.xml'];
      names.forEach((n, i) => {
        const p = path.join(dir(licence, 'inbox'), n);
        writeFileSync(p, upload(licence, `${licence}-${i}`));
        const when = new Date(Date.UTC(2020, 0, 1, 0, 0, i));
        utimesSync(p, when, when);
      });
      const svc = await services.start({ concurrency: 1, groupFiles: 64 });
      await waitProcessed(root, licence, names);
      const outcome = (n: string) =>
        parseResult(readFileSync(path.join(dir(licence, 'outbox'), n.replace(/\.xml$/, '.result.xml')), 'utf8'));
      for (const n of ['a.xml', 'b.xml', 'c.xml', 'd.xml']) expect(outcome(n).Outcome, n).toBe('ACCEPTED');
      const boom = outcome('boom.xml');
      expect([boom.Outcome, boom.FileErrors?.Error.map((e) => e['@_code'])]).toEqual(['REJECTED', ['E_INTERNAL']]);
      expect(svc.logs.filter((l) => l.includes('could not be stored together') && l.includes(`sponsor=${licence}`))).toHaveLength(1);
      expect(ls(dir(licence, 'archive'))).toHaveLength(4);
      expect(ls(dir(licence, 'rejected'))).toHaveLength(1);
      const [numbers] = await rowsOf<{ n: number; distinct: number }>(
        t.store.db,
        sql`select count(cas_number)::int as n, count(distinct cas_number)::int as distinct from cas where sponsor_licence_number = ${licence}`,
      );
      expect(numbers).toEqual({ n: 4, distinct: 4 });
    } finally {
      await t.store.db.execute(sql.raw(`drop trigger ${fn} on submissions`));
      await t.store.db.execute(sql.raw(`drop function ${fn}()`));
    }
  });

  it('takes each file alone when a number drawn in the group is one some CAS has, and gives none twice', async () => {
    const licence = await sponsor(t.store.db, nextLicence('N'));
    await ensureSponsorFolders(root, licence);
    // The first number each service draws is the same (ten zeros: E4G0AA0A00A0A and its check), the rest at random.
    const planned = () => {
      let calls = 0;
      return (n: number) => (calls++ < 10 ? 0 : Math.floor(Math.random() * n));
    };
    const settings = { feePence: 2500, validityMonths: 6 };
    const drop = (names: string[], from: number) =>
      names.forEach((n, i) => {
        const p = path.join(dir(licence, 'inbox'), n);
        writeFileSync(p, upload(licence, `${licence}-${from + i}`));
        const when = new Date(Date.UTC(2020, 0, 1, 0, 0, from + i));
        utimesSync(p, when, when);
      });
    drop(['first.xml'], 0);
    const one = await services.start({ concurrency: 1, groupFiles: 64, settings: { ...settings, randomInt: planned() } });
    await waitProcessed(root, licence, ['first.xml']);
    await one.stop();
    const [{ n: taken } = { n: '' }] = await rowsOf<{ n: string }>(
      t.store.db,
      sql`select cas_number as n from cas where sponsor_licence_number = ${licence}`,
    );
    expect(taken).toMatch(/^E4G0AA0A00A0A.$/);

    const names = ['a.xml', 'b.xml', 'c.xml', 'd.xml'];
    drop(names, 1);
    const svc = await services.start({ concurrency: 1, groupFiles: 64, settings: { ...settings, randomInt: planned() } });
    await waitProcessed(root, licence, names);
    for (const n of names) {
      const r = parseResult(readFileSync(path.join(dir(licence, 'outbox'), n.replace(/\.xml$/, '.result.xml')), 'utf8'));
      expect([r.Outcome, r.Records?.Record.map((x) => x.Status)], n).toEqual(['ACCEPTED', ['ASSIGNED']]);
    }
    // The group drew the number of first.xml's CAS for a.xml: the unique index refused it, and each file went alone.
    expect(svc.logs.filter((l) => l.includes('could not be stored together') && l.includes(`sponsor=${licence}`))).toHaveLength(1);
    const [numbers] = await rowsOf<{ n: number; distinct: number; payments: number; batches: number }>(
      t.store.db,
      sql`select count(cas_number)::int as n, count(distinct cas_number)::int as distinct,
            (select count(*)::int from payments where sponsor_licence_number = ${licence}) as payments,
            (select count(*)::int from batches where sponsor_licence_number = ${licence}) as batches
          from cas where sponsor_licence_number = ${licence}`,
    );
    // Nothing of the group's attempt is left: one payment and one batch per file.
    expect(numbers).toEqual({ n: 5, distinct: 5, payments: 5, batches: 5 });
  });
});
