/**
 * `cas-bdt export --zip`: the export XML inside a zip named CASEXPORT-<LICENCE>-<UTC>.zip
 * (never EXP-..., the name sponsors' systems give their own uploads), unpacked by the
 * `unzip` program and compared with the plain export of the same CAS. Both stores.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectValidExport } from '../helpers/export.ts';
import { runCli } from '../helpers/cli.ts';
import { licenceFor, Scenario } from '../helpers/lifecycle.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';

/** The export without the moment it was generated, which differs between two runs. */
const timeless = (xml: string) => xml.replace(/<GeneratedAt>[^<]*<\/GeneratedAt>/, '<GeneratedAt/>');

describe.each(STORE_KINDS)('export --zip on %s', (kind) => {
  const t = suiteStore(kind);
  let L: string;
  const root = tempDir('cas-bdt-exportzip-');

  beforeAll(async () => {
    const s = new Scenario(t.store);
    L = await s.sponsor(licenceFor('ZIPX'));
    await s.upload(L, 'ZIP-1', [
      { applicantId: 'Z1', passport: 'Z0000001', familyName: 'Müller & <Sons>' },
      { applicantId: 'Z2', passport: 'Z0000002' },
    ]);
    await t.store.close(); // the in-process CLI opens the embedded store itself
  });

  it('writes one zip into the outbox whose only entry is the export XML', async () => {
    const args = [...t.cliArgs, '--root', root];
    const plainFile = path.join(root, 'plain.xml');
    expect((await runCli([...args, 'export', '--sponsor', L, '--out', plainFile])).code).toBe(0);

    const r = await runCli([...args, 'export', '--sponsor', L, '--zip', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { file, casCount } = r.json<{ file: string; casCount: number }>();
    expect(casCount).toBe(2);
    expect(path.dirname(file)).toBe(path.join(root, L, 'outbox'));
    const name = path.basename(file);
    expect(name).toMatch(new RegExp(`^CASEXPORT-${L}-\\d{8}T\\d{6}Z\\.zip$`));
    const [, y, mo, d, h, mi, sec] = /-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.zip$/.exec(name)!;
    const generatedAt = r.json<{ generatedAt: string }>().generatedAt;
    expect(`${y}-${mo}-${d}T${h}:${mi}:${sec}`).toBe(generatedAt.slice(0, 19));
    expect(readdirSync(path.join(root, L, 'outbox'))).toEqual([name]);

    const entries = execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).trim().split('\n');
    expect(entries).toEqual([name.replace(/\.zip$/, '.xml')]);
    const unzipped = execFileSync('unzip', ['-p', file, entries[0]!]);
    await expectValidExport(unzipped);
    expect(timeless(unzipped.toString('utf8'))).toBe(timeless(readFileSync(plainFile, 'utf8')));
    expect(unzipped.toString('utf8')).toContain('Müller &amp; &lt;Sons&gt;');
  });

  it('--out names the zip, never over an existing file', async () => {
    const args = [...t.cliArgs, '--root', root];
    const target = path.join(root, 'mine.zip');
    const r = await runCli([...args, 'export', '--sponsor', L, '--zip', '--out', target]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Exported 2 CAS of ${L} to ${target}.\n`);
    expect(execFileSync('unzip', ['-Z1', target], { encoding: 'utf8' }).trim()).toBe('mine.xml');

    writeFileSync(target, 'keep me');
    const refused = await runCli([...args, 'export', '--sponsor', L, '--zip', '--out', target]);
    expect(refused.code).toBe(2);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
  });
});
