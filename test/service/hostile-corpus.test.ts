/**
 * The hostile corpus, through the running service: more than sixty kinds of bad file or
 * bad folder state (bytes, encodings, names, sizes, structures, values, links, FIFOs,
 * timing), each in a sponsor of its own so that its outcome is unambiguous, all dropped
 * at once. Each gets its expected code (or is left alone, for what is not a candidate),
 * and a canary sponsor's files keep being processed while the corpus is worked through.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.ts';
import { changeLicenceStatus } from '../../src/ops/licence.ts';
import { ensureSponsorFolders } from '../../src/inbox/layout.ts';
import { casXml, uploadText } from '../helpers/bdt.ts';
import { suiteDir, suiteServices, suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { ls, nextLicence, sponsor, upload } from '../helpers/watch.ts';

type Expect =
  /** One result: the file REJECTED with exactly these file error codes (any of the sets). */
  | { rejected: string[][] }
  /** One result: ACCEPTED, with these record issue codes among the records. */
  | { accepted: string[] }
  /** No result at all, and these names still where they were (relative to the sponsor folder). */
  | { untouched: string[] };

interface Case {
  kind: string;
  /** Puts the file or the folder state in place (the sponsor's folders exist). */
  setup(ctx: { dir: string; licence: string; root: string; db: Db; other: string }): void | Promise<void>;
  expect: Expect;
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const put = (dir: string, name: string | Buffer, bytes: Buffer) => {
  const inbox = path.join(dir, 'inbox');
  const tmp = path.join(inbox, `.drop-${Math.random().toString(36).slice(2)}`);
  writeFileSync(tmp, bytes);
  renameSync(tmp, typeof name === 'string' ? path.join(inbox, name) : Buffer.concat([Buffer.from(`${inbox}/`), name]));
};
/** A file with a single upload, as the licence's own system would send it. */
const file =
  (bytes: (licence: string) => Buffer, name = 'in.xml'): Case['setup'] =>
  ({ dir, licence }) =>
    put(dir, name, bytes(licence));
const text = (licence: string, edit: (t: string) => string = (t) => t, spec: Parameters<typeof uploadText>[0] = {}) =>
  edit(uploadText({ licence, fileId: `F-${licence}`, records: [casXml({ applicantId: `A-${licence}` })], ...spec }));
const withHeader = (licence: string, inner: string) => text(licence, (t) => t.replace('<Header>', `<Header>${inner}`));
const rejected = (...sets: string[][]): Expect => ({ rejected: sets });
const nested = (n: number) => '<n>'.repeat(n) + '</n>'.repeat(n);

const CASES: Case[] = [
  // Bytes and encodings.
  { kind: 'empty file', setup: file(() => Buffer.alloc(0)), expect: rejected(['E_NOT_WELL_FORMED']) },
  { kind: 'white space only', setup: file(() => latin1(' \n\t\n')), expect: rejected(['E_NOT_WELL_FORMED']) },
  {
    kind: 'binary (a PNG header)',
    setup: file(() => Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0xff, 0xfe])),
    expect: rejected(['E_ENCODING'], ['E_NOT_WELL_FORMED']),
  },
  {
    kind: 'NUL bytes inside the document',
    setup: file((l) => latin1(text(l, (t) => t.replace('<TierID>', '<TierID>\u0000')))),
    expect: rejected(['E_NOT_WELL_FORMED']),
  },
  {
    kind: 'UTF-16 without a byte-order mark',
    setup: file((l) => Buffer.from(text(l).replace('ISO-8859-1', 'UTF-16'), 'utf16le')),
    expect: rejected(['E_ENCODING']),
  },
  {
    kind: 'UTF-32 with a byte-order mark',
    setup: file(() => Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from('<\0\0\0a\0\0\0/\0\0\0>\0\0\0')])),
    expect: rejected(['E_ENCODING']),
  },
  {
    kind: 'an encoding that is not accepted',
    setup: file((l) => latin1(text(l).replace('ISO-8859-1', 'Shift_JIS'))),
    expect: rejected(['E_ENCODING']),
  },
  {
    kind: 'Latin-1 bytes in a file that declares UTF-8',
    setup: file((l) => latin1(text(l, (t) => t.replace('Okafor', 'Müller'), { encoding: 'UTF-8' }))),
    expect: rejected(['E_ENCODING']),
  },
  {
    kind: 'a UTF-8 byte-order mark on a file that declares ISO-8859-1',
    setup: file((l) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), latin1(text(l))])),
    expect: rejected(['E_ENCODING']),
  },
  {
    kind: 'a UTF-16 byte-order mark on a file that declares ISO-8859-1',
    setup: file((l) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text(l), 'utf16le')])),
    expect: rejected(['E_ENCODING']),
  },
  { kind: 'white space before the XML declaration', setup: file((l) => latin1(`\n ${text(l)}`)), expect: rejected(['E_NOT_WELL_FORMED']) },
  {
    kind: 'a truncated file (its writer is gone)',
    setup: file((l) => latin1(text(l).slice(0, 900))),
    expect: rejected(['E_NOT_WELL_FORMED']),
  },
  {
    kind: 'CR-only line ends with a schema error',
    setup: file((l) => latin1(text(l, (t) => t.replace(/<Gender>[^<]*</, '<Gender>9<')).replace(/\n/g, '\r'))),
    expect: rejected(['E_SCHEMA']),
  },
  { kind: 'the whole file on one line', setup: file((l) => latin1(text(l).replace(/\n\s*/g, ''))), expect: { accepted: [] } },
  {
    kind: 'a UTF-16 BE file with a byte-order mark',
    setup: file((l) =>
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text(l).replace('ISO-8859-1', 'UTF-16'), 'utf16le').swap16()]),
    ),
    expect: { accepted: [] },
  },
  // DTDs, entities and the prolog.
  {
    kind: 'a DOCTYPE',
    setup: file((l) => latin1(text(l).replace('?>\n', '?>\n<!DOCTYPE r>\n'))),
    expect: rejected(['E_DOCTYPE_FORBIDDEN']),
  },
  {
    kind: 'a DOCTYPE hidden after a PI holding a comment start',
    setup: file((l) =>
      latin1(text(l).replace('?>\n', '?>\n<?x <!-- ?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<!-- -->\n')),
    ),
    expect: rejected(['E_DOCTYPE_FORBIDDEN']),
  },
  {
    kind: 'an ENTITY declaration',
    setup: file((l) => latin1(text(l).replace('?>\n', '?>\n<!ENTITY x "y">\n'))),
    expect: rejected(['E_DOCTYPE_FORBIDDEN']),
  },
  {
    kind: 'the billion laughs',
    setup: file((l) =>
      latin1(
        text(l).replace(
          '?>\n',
          '?>\n<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n',
        ),
      ),
    ),
    expect: rejected(['E_DOCTYPE_FORBIDDEN']),
  },
  {
    kind: 'a parameter entity to a URL',
    setup: file((l) => latin1(text(l).replace('?>\n', '?>\n<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x"> %p;]>\n'))),
    expect: rejected(['E_DOCTYPE_FORBIDDEN']),
  },
  { kind: 'a DOCTYPE after the root', setup: file((l) => latin1(`${text(l)}<!DOCTYPE r>\n`)), expect: rejected(['E_DOCTYPE_FORBIDDEN']) },
  {
    kind: 'an undeclared entity reference',
    setup: file((l) => latin1(text(l, (t) => t.replace('Okafor', '&xxe;')))),
    expect: rejected(['E_NOT_WELL_FORMED']),
  },
  {
    kind: 'a character reference to a control character',
    setup: file((l) => latin1(text(l, (t) => t.replace('Okafor', 'Ok&#1;afor')))),
    expect: rejected(['E_NOT_WELL_FORMED']),
  },
  // Sizes and shapes built against the validator.
  { kind: 'elements nested 65 deep', setup: file((l) => latin1(withHeader(l, nested(64)))), expect: rejected(['E_LIMIT']) },
  { kind: '300,000 nested elements', setup: file((l) => latin1(withHeader(l, nested(300_000)))), expect: rejected(['E_LIMIT']) },
  {
    kind: 'a 1 MB text value',
    setup: file((l) => latin1(text(l).replace(`F-${l}`, 'X'.repeat(1_000_000)))),
    expect: rejected(['E_LIMIT']),
  },
  {
    kind: 'a 1 MB attribute value',
    setup: file((l) => latin1(text(l).replace('<Header>', `<Header a="${'x'.repeat(1_000_000)}">`))),
    expect: rejected(['E_LIMIT']),
  },
  {
    kind: 'a 1 MB CDATA section',
    setup: file((l) => latin1(text(l).replace('Okafor', `<![CDATA[${'x'.repeat(1_000_000)}]]>`))),
    expect: rejected(['E_LIMIT']),
  },
  {
    kind: 'a record of 20,000 elements',
    setup: file((l) => latin1(text(l).replace('<Header>', `<Header>${'<x/>'.repeat(20_000)}`))),
    expect: rejected(['E_LIMIT']),
  },
  {
    kind: '100,000 attributes on one element',
    setup: file((l) => latin1(text(l).replace('<Header>', `<Header ${Array.from({ length: 100_000 }, (_, i) => `a${i}="1"`).join(' ')}>`))),
    expect: rejected(['E_SCHEMA']),
  },
  {
    kind: 'a duplicate attribute',
    setup: file((l) => latin1(text(l).replace('<Header>', '<Header a="1" a="2">'))),
    expect: rejected(['E_NOT_WELL_FORMED']),
  },
  {
    kind: 'a comment holding --',
    setup: file((l) => latin1(text(l).replace('<Header>', '<Header><!-- a -- b -->'))),
    expect: rejected(['E_NOT_WELL_FORMED']),
  },
  { kind: 'mismatched tags', setup: file((l) => latin1(text(l).replace('</TierID>', '</Tier>'))), expect: rejected(['E_NOT_WELL_FORMED']) },
  { kind: 'content after the root', setup: file((l) => latin1(`${text(l)}<extra/>`)), expect: rejected(['E_NOT_WELL_FORMED']) },
  {
    kind: 'an unbound namespace prefix',
    setup: file((l) => latin1(text(l).replace('<Header>', '<x:Header>').replace('</Header>', '</x:Header>'))),
    expect: rejected(['E_NOT_WELL_FORMED'], ['E_SCHEMA']),
  },
  {
    kind: 'a file far larger than the limit',
    setup: ({ dir }) => {
      const f = path.join(dir, 'inbox', '.big');
      writeFileSync(f, '');
      truncateSync(f, 60 * 1024 * 1024);
      renameSync(f, path.join(dir, 'inbox', 'big.xml'));
    },
    expect: rejected(['E_FILE_TOO_LARGE']),
  },
  // Types and schema.
  {
    kind: 'an unknown root element',
    setup: file(() => latin1('<?xml version="1.0"?>\n<Something xmlns="urn:x"/>\n')),
    expect: rejected(['E_UNKNOWN_FILE_TYPE']),
  },
  {
    kind: 'the upload root in another namespace',
    setup: file((l) =>
      latin1(
        text(l).replace('xmlns:ns2="http://homeoffice.gov.uk/immigration/migrant/cas/bulk-cas-upload-200910"', 'xmlns:ns2="urn:other"'),
      ),
    ),
    expect: rejected(['E_UNKNOWN_FILE_TYPE']),
  },
  {
    kind: 'an HTML page',
    setup: file(() => latin1('<html><body><p>Not found</p></body></html>')),
    expect: rejected(['E_UNKNOWN_FILE_TYPE']),
  },
  {
    kind: 'a schema violation',
    setup: file((l) => latin1(text(l, (t) => t.replace(/<Gender>[^<]*</, '<Gender>9<')))),
    expect: rejected(['E_SCHEMA']),
  },
  { kind: 'no Header', setup: file((l) => latin1(text(l).replace(/<Header>[\s\S]*<\/Header>/, ''))), expect: rejected(['E_SCHEMA']) },
  { kind: 'no CAS', setup: file((l) => latin1(uploadText({ licence: l, records: [] }))), expect: rejected(['E_SCHEMA']) },
  {
    kind: '150 schema errors (100 listed, then a count)',
    setup: file((l) =>
      latin1(
        uploadText({
          licence: l,
          records: Array.from({ length: 150 }, (_, i) => casXml({ applicantId: `X${i}` }).replace(/<Gender>[^<]*</, '<Gender>9<')),
        }),
      ),
    ),
    expect: rejected(['E_SCHEMA']),
  },
  // Header checks.
  {
    kind: "another sponsor's licence in the header",
    setup: ({ dir, other }) => put(dir, 'in.xml', latin1(text(other))),
    expect: rejected(['E_SPONSOR_MISMATCH']),
  },
  {
    kind: 'a SchemaID that does not match the root',
    setup: file((l) => latin1(text(l, (t) => t, { schemaId: 'T4Child Ready To Go' }))),
    expect: rejected(['E_HEADER_INCONSISTENT']),
  },
  {
    kind: 'a route the sponsor is not licensed for',
    setup: file((l) => latin1(uploadText({ licence: l, route: 'child', records: [casXml({}, 'child')] }))),
    expect: rejected(['E_ROUTE_NOT_LICENSED']),
  },
  {
    kind: 'a suspended licence',
    setup: async ({ dir, licence, db }) => {
      await changeLicenceStatus(db, licence, { status: 'suspended' }, new Date());
      put(dir, 'in.xml', latin1(text(licence)));
    },
    expect: rejected(['E_LICENCE_NOT_ACTIVE']),
  },
  // Values the database must never see.
  {
    kind: 'an ExpectedCourseEndDate in year 99999999',
    setup: file((l) => latin1(text(l, (t) => t.replace(/<ExpectedCourseEndDate>[^<]*</, '<ExpectedCourseEndDate>99999999-06-30<')))),
    expect: { accepted: ['E_COURSE_DATES'] },
  },
  {
    kind: 'a CourseStartDate in 1899',
    setup: file((l) => latin1(text(l, (t) => t.replace(/<CourseStartDate>[^<]*</, '<CourseStartDate>1899-09-01<')))),
    expect: { accepted: ['E_COURSE_DATES'] },
  },
  {
    kind: 'a date of birth in year 0001',
    setup: file((l) => latin1(text(l, (t) => t.replace(/<FullDate>[^<]*</, '<FullDate>0001-01-01<')))),
    expect: { accepted: ['E_DATE_OF_BIRTH'] },
  },
  // Names.
  {
    kind: 'a name that is not UTF-8',
    setup: ({ dir, licence }) => put(dir, Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x78, 0x6d, 0x6c]), latin1(text(licence))),
    expect: rejected(['E_FILE_NAME']),
  },
  { kind: 'a name holding an escape sequence', setup: file((l) => latin1(text(l)), 'a\u001b[2Kb.xml'), expect: rejected(['E_FILE_NAME']) },
  { kind: 'a name holding a newline', setup: file((l) => latin1(text(l)), 'a\nb.xml'), expect: rejected(['E_FILE_NAME']) },
  { kind: 'a name of 201 bytes', setup: file((l) => latin1(text(l)), `${'n'.repeat(197)}.xml`), expect: rejected(['E_FILE_NAME']) },
  { kind: 'a name of 250 bytes', setup: file((l) => latin1(text(l)), `${'é'.repeat(123)}.xml`), expect: rejected(['E_FILE_NAME']) },
  { kind: 'a name of exactly 200 bytes', setup: file((l) => latin1(text(l)), `${'n'.repeat(196)}.xml`), expect: { accepted: [] } },
  { kind: 'a name with a right-to-left override', setup: file((l) => latin1(text(l)), 'inv\u202Eoice.xml'), expect: { accepted: [] } },
  { kind: 'a name with spaces and accents', setup: file((l) => latin1(text(l)), 'Année 2026 (final).xml'), expect: { accepted: [] } },
  // Timing.
  {
    kind: 'a broken file dated 2099',
    setup: ({ dir, licence }) => {
      put(dir, 'future.xml', latin1(text(licence).slice(0, 700)));
      const when = new Date('2099-01-01T00:00:00Z');
      utimesSync(path.join(dir, 'inbox', 'future.xml'), when, when);
    },
    expect: rejected(['E_NOT_WELL_FORMED']),
  },
  // What is not a candidate is left alone.
  {
    kind: 'an upload in progress (.part)',
    setup: file((l) => latin1(text(l)), 'in.xml.part'),
    expect: { untouched: ['inbox/in.xml.part'] },
  },
  {
    kind: 'a directory in the inbox',
    setup: ({ dir }) => mkdirSync(path.join(dir, 'inbox', 'sub.xml')),
    expect: { untouched: ['inbox/sub.xml'] },
  },
  {
    kind: 'a FIFO in the inbox',
    setup: ({ dir }) => execFileSync('mkfifo', [path.join(dir, 'inbox', 'pipe.xml')]),
    expect: { untouched: ['inbox/pipe.xml'] },
  },
  {
    kind: "a link in the inbox to another sponsor's file",
    setup: ({ root, dir, other }) => {
      const target = path.join(root, other, 'archive', 'kept.xml');
      writeFileSync(target, latin1(text(other)));
      symlinkSync(target, path.join(dir, 'inbox', 'link.xml'));
    },
    expect: { untouched: ['inbox/link.xml'] },
  },
  {
    kind: "an inbox that is a link to another sponsor's archive",
    setup: ({ root, dir, other }) => {
      writeFileSync(path.join(root, other, 'archive', 'theirs.xml'), latin1(text(other)));
      rmSync(path.join(dir, 'inbox'), { recursive: true });
      symlinkSync(path.join(root, other, 'archive'), path.join(dir, 'inbox'));
    },
    expect: { untouched: ['inbox'] },
  },
  {
    kind: "a rejected/ folder that is a link to another sponsor's inbox",
    setup: ({ root, dir, licence, other }) => {
      rmSync(path.join(dir, 'rejected'), { recursive: true });
      symlinkSync(path.join(root, other, 'inbox'), path.join(dir, 'rejected'));
      put(dir, 'bad.xml', latin1('not xml'));
      void licence;
    },
    expect: { untouched: ['inbox/bad.xml'] },
  },
  {
    kind: 'an outbox that is a link',
    setup: ({ root, dir, licence }) => {
      const elsewhere = path.join(root, '..', `elsewhere-${licence}`);
      mkdirSync(elsewhere, { recursive: true });
      rmSync(path.join(dir, 'outbox'), { recursive: true });
      symlinkSync(elsewhere, path.join(dir, 'outbox'));
      put(dir, 'in.xml', latin1(text(licence)));
    },
    expect: { untouched: ['inbox/in.xml'] },
  },
  {
    kind: 'a result name taken by a link to /dev/zero',
    setup: ({ dir, licence }) => {
      symlinkSync('/dev/zero', path.join(dir, 'outbox', 'in.result.xml'));
      put(dir, 'in.xml', latin1(text(licence)));
    },
    expect: { accepted: [] },
  },
  {
    kind: 'a result name taken by a FIFO',
    setup: ({ dir, licence }) => {
      execFileSync('mkfifo', [path.join(dir, 'outbox', 'in.result.xml')]);
      put(dir, 'in.xml', latin1(text(licence)));
    },
    expect: { accepted: [] },
  },
];

const fileErrorCodes = (xml: string) =>
  [...(/<FileErrors>([\s\S]*)<\/FileErrors>/.exec(xml)?.[1] ?? '').matchAll(/code="([A-Z_]+)"/g)].map((m) => m[1]!);
const recordCodes = (xml: string) =>
  [...(/<Records>([\s\S]*)<\/Records>/.exec(xml)?.[1] ?? '').matchAll(/<Issue [^>]*code="([A-Z_]+)"/g)].map((m) => m[1]!);
/** Result files a sponsor's outbox holds (regular files named *.result.xml). */
const results = (dir: string) => {
  try {
    return readdirSync(path.join(dir, 'outbox'), { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.result.xml'))
      .map((e) => e.name);
  } catch {
    return [];
  }
};

describe.each(STORE_KINDS)('the hostile corpus through the service on %s', (kind) => {
  const t = suiteStore(kind);
  const root = path.join(suiteDir('cas-bdt-corpus-'), 'bdt');
  const services = suiteServices(t, root);

  beforeAll(() => {
    mkdirSync(root);
  });

  it(`gives each of ${CASES.length} kinds its outcome while other sponsors are served`, async () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    const canary = await sponsor(t.store.db, nextLicence('C'));
    const other = await sponsor(t.store.db, nextLicence('O'));
    await ensureSponsorFolders(root, canary);
    await ensureSponsorFolders(root, other);
    const placed: { c: Case; licence: string; dir: string }[] = [];
    for (const c of CASES) {
      const licence = await sponsor(t.store.db, nextLicence('H'));
      await ensureSponsorFolders(root, licence);
      placed.push({ c, licence, dir: path.join(root, licence) });
    }
    const running = await services.start({ unfinishedGraceMs: 1000, maxFileBytes: 50 * 1024 * 1024 });

    for (const p of placed) await p.c.setup({ dir: p.dir, licence: p.licence, root, db: t.store.db, other });
    // The canary's files go in with the corpus and after it: each must be served.
    const canaryDir = path.join(root, canary);
    const canaryTimes: number[] = [];
    for (let round = 0; round < 3; round++) {
      const name = `canary-${round}.xml`;
      const dropped = Date.now();
      put(canaryDir, name, upload(canary, `${canary}R${round}`));
      await waitFor(() => results(canaryDir).includes(`canary-${round}.result.xml`), { timeoutMs: 60_000, what: `canary ${round}` });
      canaryTimes.push(Date.now() - dropped);
    }

    const withResults = placed.filter((p) => !('untouched' in p.c.expect));
    await waitFor(() => withResults.every((p) => results(p.dir).length >= 1 && ls(path.join(p.dir, 'inbox')).length === 0), {
      timeoutMs: 240_000,
      what: `${withResults.length} results (still waiting: ${withResults
        .filter((p) => results(p.dir).length === 0)
        .map((p) => p.c.kind)
        .join('; ')})`,
    });
    // One more full scan, so that what is left alone has been seen at least twice.
    await running.service.scan();
    const problems: string[] = [];
    for (const p of placed) {
      const got = results(p.dir);
      const e = p.c.expect;
      if ('untouched' in e) {
        if (got.length) problems.push(`${p.c.kind}: expected no result, got ${got.join(', ')}`);
        for (const rel of e.untouched) {
          try {
            if (!readdirSync(path.dirname(path.join(p.dir, rel))).includes(path.basename(rel)))
              problems.push(`${p.c.kind}: ${rel} is gone`);
          } catch {
            problems.push(`${p.c.kind}: ${rel} is gone`);
          }
        }
        continue;
      }
      if (got.length !== 1) {
        problems.push(`${p.c.kind}: expected one result, got ${got.join(', ') || 'none'}`);
        continue;
      }
      const xml = readFileSync(path.join(p.dir, 'outbox', got[0]!), 'utf8');
      if ('rejected' in e) {
        const codes = [...new Set(fileErrorCodes(xml))].sort();
        if (
          !xml.includes('<Outcome>REJECTED</Outcome>') ||
          !e.rejected.some((set) => JSON.stringify([...set].sort()) === JSON.stringify(codes))
        ) {
          problems.push(
            `${p.c.kind}: expected REJECTED with ${e.rejected.map((s) => s.join('+')).join(' or ')}, got ${codes.join('+') || 'no file errors'}`,
          );
        }
      } else if (
        !xml.includes('<Outcome>ACCEPTED</Outcome>') ||
        JSON.stringify([...new Set(recordCodes(xml))].sort()) !== JSON.stringify([...e.accepted].sort())
      ) {
        problems.push(
          `${p.c.kind}: expected ACCEPTED with record issues ${e.accepted.join('+') || 'none'}, got ${xml.includes('<Outcome>ACCEPTED') ? recordCodes(xml).join('+') || 'none' : fileErrorCodes(xml).join('+')}`,
        );
      }
    }
    console.info(
      `[corpus ${kind}] ${CASES.length} kinds; canary results after ${canaryTimes.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}`,
    );
    expect(problems).toEqual([]);
    // Another sponsor's archive kept what it had: nothing was moved through a link.
    expect(ls(path.join(root, other, 'archive'))).toEqual(expect.arrayContaining(['kept.xml', 'theirs.xml']));
    expect(ls(path.join(root, other, 'inbox'))).toEqual([]);
  }, 600_000);
});
