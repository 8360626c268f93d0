/**
 * Mislabelled files are refused, never stored garbled: a UTF-8 file that declares
 * ISO-8859-1 (`Müller` would be stored `MÃ¼ller`) and a Windows-1252 file that declares
 * ISO-8859-1 (0x92 apostrophe, 0x96 en dash, 0x80 euro) get `E_ENCODING` naming the first
 * place, what the file most likely is and the character to use; a genuine ISO-8859-1 file,
 * `Ã` followed by a letter included, is accepted with its names intact. Through `process`
 * and through the real `watch` service, on both stores.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { casXml, uploadText } from '../helpers/bdt.ts';
import { cliOnStore } from '../helpers/cli.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, spawnCli, waitForLog, type Child } from '../helpers/watch.ts';

interface Summary {
  outcome: string;
  fileErrors: { code: string; message: string; line?: number; column?: number }[];
}

const text = (licence: string, fileId: string, records: string[]) => uploadText({ licence, fileId, records, encoding: 'ISO-8859-1' });
const utf8 = (s: string) => Buffer.from(s, 'utf8');
const latin1 = (s: string) => Buffer.from(s, 'latin1');
/** Windows-1252 bytes: Latin-1 plus ’ – € at their Windows-1252 places. */
const cp1252 = (s: string) => Buffer.from([...s].map((ch) => ({ '’': 0x92, '–': 0x96, '€': 0x80 })[ch] ?? ch.charCodeAt(0)));

/** The line and column of the first occurrence of `needle` in `s` (1-based, characters). */
function placeOf(s: string, needle: string): { line: number; column: number } {
  const i = s.indexOf(needle);
  const before = s.slice(0, i).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

/** The files of both cases, with what their refusal must say. */
function cases(licence: string, tag: string) {
  const mueller = text(licence, `${tag}-U8`, [casXml({ applicantId: `${tag}-1`, familyName: 'Müller', givenName: 'Désirée' })]);
  const obrien = text(licence, `${tag}-U8Q`, [casXml({ applicantId: `${tag}-2`, familyName: 'O’Brien' })]);
  const win = text(licence, `${tag}-W`, [
    casXml({ applicantId: `${tag}-3`, familyName: 'O’Brien', givenName: 'Désirée', courseTitle: 'MSc Finance – € markets' }),
  ]);
  const euro = text(licence, `${tag}-WE`, [casXml({ applicantId: `${tag}-4`, courseTitle: 'MSc Finance € markets' })]);
  const genuine = text(licence, `${tag}-L1`, [
    casXml({ applicantId: `${tag}-5`, familyName: 'Müller', givenName: 'Désirée' }),
    casXml({ applicantId: `${tag}-6`, familyName: 'Ãlvarez', givenName: 'Ãngel' }),
  ]);
  return {
    refused: [
      {
        name: 'mueller-utf8.xml',
        bytes: utf8(mueller),
        at: placeOf(mueller, 'ü'),
        says: ['most likely UTF-8', "'ü' (bytes 0xC3 0xBC), which read as ISO-8859-1 would be stored as 'Ã¼'", 'declare encoding="UTF-8"'],
      },
      {
        name: 'obrien-utf8.xml',
        bytes: utf8(obrien),
        at: placeOf(obrien, '’'),
        says: [
          'most likely UTF-8',
          "’ (U+2019) is outside the Home Office character set (printable ISO-8859-1) either way: write ' instead",
        ],
      },
      {
        name: 'obrien-cp1252.xml',
        bytes: cp1252(win),
        at: placeOf(win, '’'),
        says: [
          'most likely Windows-1252',
          'byte 0x92',
          "Windows-1252's ’ (right single quotation mark, the curly apostrophe)",
          "write ' instead",
        ],
      },
      {
        name: 'dash-cp1252.xml',
        bytes: cp1252(win.replace('O’Brien', 'OBrien')),
        at: placeOf(win.replace('O’Brien', 'OBrien'), '–'),
        says: ['most likely Windows-1252', 'byte 0x96', "Windows-1252's – (en dash)", 'write - instead'],
      },
      {
        name: 'euro-cp1252.xml',
        bytes: cp1252(euro),
        at: placeOf(euro, '€'),
        says: ['most likely Windows-1252', 'byte 0x80', "Windows-1252's € (euro sign)", 'write EUR instead'],
      },
    ],
    genuine: { name: 'genuine-latin1.xml', bytes: latin1(genuine) },
  };
}

describe.each(STORE_KINDS)('mislabelled encodings on %s', (kind) => {
  const on = cliOnStore(kind, `cas-bdt-enc-${kind}-`);
  let service: Child | undefined;
  afterEach(async () => {
    if (service) {
      service.kill('SIGTERM');
      await service.exited;
      service = undefined;
    }
  });

  it('process refuses each mislabelled file with E_ENCODING at its first place, and takes genuine ISO-8859-1 intact', async () => {
    const licence = kind === 'pglite' ? 'ENCPR0001' : 'ENCPR0002';
    expect((await on.cli('sponsor', 'add', licence, '--name', 'Encodings', '--allocation', '10')).code).toBe(0);
    const { refused, genuine } = cases(licence, 'P');
    for (const c of refused) {
      const file = path.join(on.cwd, c.name);
      writeFileSync(file, c.bytes);
      const run = await on.cli('process', file, '--sponsor', licence, '--json');
      expect(run.code, c.name).toBe(3);
      const [summary] = run.json<Summary[]>();
      expect(summary!.outcome).toBe('REJECTED');
      expect(summary!.fileErrors.map((e) => e.code)).toEqual(['E_ENCODING']);
      const e = summary!.fileErrors[0]!;
      expect({ line: e.line, column: e.column }, c.name).toEqual(c.at);
      expect(e.message).toContain(`line ${c.at.line}, column ${c.at.column}`);
      for (const s of c.says) expect(e.message, c.name).toContain(s);
    }
    const file = path.join(on.cwd, genuine.name);
    writeFileSync(file, genuine.bytes);
    const ok = await on.cli('process', file, '--sponsor', licence, '--json');
    expect(ok.code, ok.stdout).toBe(0);
    const list = await on.cli('cas', 'list', '--sponsor', licence, '--json');
    const names = list
      .json<{ familyName: string; givenName: string }[]>()
      .map((c) => `${c.givenName} ${c.familyName}`)
      .sort();
    expect(names).toEqual(['Désirée Müller', 'Ãngel Ãlvarez']);
  });

  it('watch refuses them too, with the message in the result file, and stores nothing garbled', async () => {
    const licence = kind === 'pglite' ? 'ENCWA0001' : 'ENCWA0002';
    expect((await on.cli('sponsor', 'add', licence, '--name', 'Encodings', '--allocation', '10')).code).toBe(0);
    const { refused, genuine } = cases(licence, 'W');
    service = spawnCli(['watch', ...on.t.cliArgs, '--root', on.root, '--settle-ms', '200', '--scan-interval-ms', '500', '--http', 'off'], {
      cwd: on.cwd,
    });
    await waitForLog(service, /INFO\s+ready/, 90_000);
    const inbox = path.join(on.root, licence, 'inbox');
    const outbox = path.join(on.root, licence, 'outbox');
    const all = [...refused.map((c) => c.name), genuine.name];
    drop(inbox, refused[0]!.name, refused[0]!.bytes);
    for (const c of refused.slice(1)) drop(inbox, c.name, c.bytes);
    drop(inbox, genuine.name, genuine.bytes);
    await waitFor(() => all.every((n) => readdirSync(outbox).includes(n.replace(/\.xml$/, '.result.xml'))), {
      timeoutMs: 60_000,
      what: 'every result',
    });
    for (const c of refused) {
      const xml = readFileSync(path.join(outbox, c.name.replace(/\.xml$/, '.result.xml')), 'utf8');
      expect(xml, c.name).toContain('<Outcome>REJECTED</Outcome>');
      expect(xml).toContain(`<Error code="E_ENCODING" line="${c.at.line}" column="${c.at.column}">`);
      expect(xml).toContain(c.says[0]);
    }
    const good = readFileSync(path.join(outbox, 'genuine-latin1.result.xml'), 'utf8');
    expect(good).toContain('<Outcome>ACCEPTED</Outcome>');
    // The input is moved after its result is written.
    await waitFor(() => readdirSync(inbox).length === 0, { timeoutMs: 30_000, what: 'the inputs moved' });
    expect(readdirSync(path.join(on.root, licence, 'rejected'))).toHaveLength(refused.length);
    expect(readdirSync(path.join(on.root, licence, 'archive'))).toHaveLength(1);
    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    service = undefined;
    const list = await on.cli('cas', 'list', '--sponsor', licence, '--json');
    const names = list.json<{ familyName: string }[]>().map((c) => c.familyName);
    expect(names.sort()).toEqual(['Müller', 'Ãlvarez']);
  });
});
