/**
 * File names the spec refuses (section 3): not valid UTF-8, control characters, longer
 * than 200 bytes. Each is REJECTED with E_FILE_NAME, its result is
 * `rejected-<submission-id>.result.xml`, the input goes to `rejected/<stamp>_<id>`, and
 * no log line holds the raw name. Names are made as bytes (Buffer paths), as a sponsor's
 * system on another platform would make them.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { submissions } from '../../src/db/schema.ts';
import { escapeName, inboxFile, nameBytes, shownClaimName } from '../../src/service/inbox-file.ts';
import { storeTest } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { ls, upload } from '../helpers/watch.ts';

/** Entries of a folder as raw bytes (readdirSync would mangle names that are not UTF-8). */
const rawLs = (dir: string) => (existsSync(dir) ? (readdirSync(dir, { encoding: 'buffer' }) as Buffer[]) : []);

describe('escaped names', () => {
  it('escapes bytes that are not UTF-8, control and bidi characters and backslashes, and can undo it', () => {
    const cases: [Buffer, string][] = [
      [Buffer.from([0x61, 0xff, 0x62]), 'a\\xffb'],
      [Buffer.from('x\x1b[2Ky', 'utf8'), 'x\\x1b[2Ky'],
      [Buffer.from('evil\u202Egpj.xml', 'utf8'), 'evil\\u{202e}gpj.xml'],
      [Buffer.from('a\\b\u0085', 'utf8'), 'a\\\\b\\u{85}'],
      [Buffer.from('Zoë café.xml', 'utf8'), 'Zoë café.xml'],
      [Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]), '\\xc0\\xaf\\xed\\xa0\\x80'],
    ];
    for (const [raw, shown] of cases) {
      expect(escapeName(raw)).toBe(shown);
      expect(nameBytes(shown).equals(raw)).toBe(true);
    }
  });

  it("shows a claim's name escaped once, whether the name was refused (stored escaped) or not", () => {
    for (const raw of [
      Buffer.from([0x72, 0xe9, 0x2e, 0x78]),
      Buffer.from('x\x1b.xml\u0007', 'utf8'),
      Buffer.from('a\\b\u202E.xml', 'utf8'),
    ]) {
      const f = inboxFile('/inbox', raw);
      expect(shownClaimName(f.name)).toBe(escapeName(raw));
    }
    expect(shownClaimName('plain.xml')).toBe('plain.xml');
  });
});

describe.each(STORE_KINDS)('refused file names on %s', (kind) => {
  storeTest.override({ kind });

  const subsOfDb = (db: Db, licence: string) =>
    db.select().from(submissions).where(eq(submissions.sponsorLicenceNumber, licence)).orderBy(submissions.id);
  const inFolders = (root: string, licence: string) => {
    const dir = (f: 'inbox' | 'outbox' | 'archive' | 'rejected') => path.join(root, licence, f);
    return { dir, rawPath: (name: Buffer) => Buffer.concat([Buffer.from(dir('inbox') + path.sep), name]) };
  };

  storeTest(
    'rejects names that are not UTF-8, hold control characters or pass 200 bytes with E_FILE_NAME; a 200-byte name is fine',
    async ({ t, root, licence, start }) => {
      const { dir, rawPath } = inFolders(root, licence);
      const subsOf = (l: string) => subsOfDb(t.store.db, l);
      const svc = await start();
      await waitFor(() => svc.service.sponsors().includes(licence));
      const refused = [
        { raw: Buffer.from([0x6c, 0x61, 0x74, 0x69, 0x6e, 0xe9, 0x2e, 0x78, 0x6d, 0x6c]), shown: 'latin\\xe9.xml', why: 'not valid UTF-8' },
        { raw: Buffer.from('clear\x1b[2Kline.xml', 'utf8'), shown: 'clear\\x1b[2Kline.xml', why: 'control characters' },
        { raw: Buffer.from(`${'n'.repeat(241)}.xml`), shown: `${'n'.repeat(241)}.xml`, why: '245 bytes long' },
      ];
      const fine = `${'o'.repeat(196)}.xml`;
      refused.forEach((r, i) => writeFileSync(rawPath(r.raw), upload(licence, `${licence}R${i}`)));
      writeFileSync(path.join(dir('inbox'), fine), upload(licence, `${licence}OK`));

      await waitFor(() => rawLs(dir('inbox')).length === 0 && ls(dir('outbox')).length === 4, { what: 'every file taken' });
      const subs = await subsOf(licence);
      expect(subs).toHaveLength(4);
      for (const r of refused) {
        const sub = subs.find((s) => s.fileName === r.shown);
        expect(sub, r.shown).toBeDefined();
        expect(sub!.outcome).toBe('REJECTED');
        const result = readFileSync(path.join(dir('outbox'), `rejected-${sub!.id}.result.xml`), 'utf8');
        expect(result).toMatch(new RegExp(`<Error code="E_FILE_NAME">[^<]*${r.why}`));
        expect(result).toContain(`<FileName>${r.shown}</FileName>`);
      }
      const ok = subs.find((s) => s.fileName === fine)!;
      expect(ok.outcome).toBe('ACCEPTED');
      expect(ls(dir('archive'))).toEqual([expect.stringMatching(new RegExp(`^\\d{8}T\\d{6}Z_${fine}$`))]);
      // Inputs set aside under their submission id.
      const ids = subs.filter((s) => s.outcome === 'REJECTED').map((s) => s.id);
      expect(
        ls(dir('rejected'))
          .map((f) => f.replace(/^\d{8}T\d{6}Z_/, ''))
          .sort(),
      ).toEqual(ids.map(String).sort());
      // Each logged, escaped; never raw.
      await waitFor(() => svc.logs.filter((l) => l.includes('errors=E_FILE_NAME')).length === 3, { what: 'three log lines' });
      const text = svc.logs.join('');
      expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\ufffd]/);
      expect(text).toContain('file=latin\\xe9.xml');
    },
  );

  storeTest('finishes a refused name after a restart from its stored (escaped) name', async ({ t, root, licence, start }) => {
    const { dir, rawPath } = inFolders(root, licence);
    const subsOf = (l: string) => subsOfDb(t.store.db, l);
    const svc = await start();
    await waitFor(() => svc.service.sponsors().includes(licence));
    // The result cannot be written yet: the submission is stored, the file stays.
    rmSync(dir('outbox'), { recursive: true });
    writeFileSync(dir('outbox'), 'not a folder');
    const raw = Buffer.from([0x72, 0xe9, 0x73, 0x75, 0x6d, 0xe9, 0x2e, 0x78, 0x6d, 0x6c]);
    writeFileSync(rawPath(raw), upload(licence, `${licence}X`));
    await waitFor(() => svc.logs.some((l) => l.includes('infrastructure fault') && l.includes('file=r\\xe9sum\\xe9.xml')), {
      what: 'the fault',
    });
    await svc.stop();
    const [sub] = await subsOf(licence);
    expect(sub!.fileName).toBe('r\\xe9sum\\xe9.xml');

    unlinkSync(dir('outbox'));
    mkdirSync(dir('outbox'));
    const again = await start();
    await waitFor(() => rawLs(dir('inbox')).length === 0 && ls(dir('outbox')).length === 1, { what: 'finished after the restart' });
    expect(ls(dir('outbox'))).toEqual([`rejected-${sub!.id}.result.xml`]);
    expect(ls(dir('rejected'))).toEqual([expect.stringMatching(new RegExp(`^\\d{8}T\\d{6}Z_${sub!.id}$`))]);
    expect(await subsOf(licence)).toHaveLength(1);
    await waitFor(() => again.logs.some((l) => /finished \(left unfinished earlier\)/.test(l) && l.includes('E_FILE_NAME')), {
      what: 'the recovery line',
    });
  });
});
