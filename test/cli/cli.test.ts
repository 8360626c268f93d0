/** The command line as an operator uses it: exit codes, JSON shapes, folders, results. */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isValidCasNumber } from '../../src/domain/cas-number.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { cliOnStore, runCli } from '../helpers/cli.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';

describe('usage', () => {
  it('prints help and exits 0 for --help, 2 with usage for mistakes', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('sponsor');
    expect(help.stdout).toContain('process');
    expect((await runCli(['process', '--help'])).stdout).toContain('--sponsor');
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage');
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command/i);
    const badFlag = await runCli(['sponsor', 'list', '--nope']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/unknown option/i);
  });
});

describe.each(STORE_KINDS)('CLI on %s', (kind) => {
  const { root, cli } = cliOnStore(kind, 'cas-bdt-cwd-');

  // Each test makes its own sponsor and files, so that the tests pass alone and in any order.
  const addSponsor = async (licence: string, allocation: number) => {
    const r = await cli('sponsor', 'add', licence, '--name', `${licence} College`, '--allocation', String(allocation));
    expect(r.code, r.stderr).toBe(0);
  };
  /** An upload of two records for `licence`: P1 is ready to go, P2 (no evidence) work in progress. */
  const goodFile = (licence: string, fileId: string) => {
    const file = path.join(tempDir('cas-bdt-in-'), 'good.XML');
    writeFileSync(
      file,
      uploadBytes({ licence, fileId, records: [casXml({ applicantId: 'P1' }), casXml({ applicantId: 'P2', evidence: null })] }),
    );
    return file;
  };

  it('manages sponsors: add, show, list, allocate, with refusals', async () => {
    const add = await cli(
      'sponsor',
      'add',
      'CLITEST01',
      '--name',
      'Cli University',
      '--routes',
      'student,child',
      '--allocation',
      '2',
      '--json',
    );
    expect(add.code).toBe(0);
    expect(add.json()).toEqual({
      licenceNumber: 'CLITEST01',
      name: 'Cli University',
      status: 'active',
      routes: ['child', 'student'],
      autoAssign: true,
      statements: false,
      exportSchema: '2.1.1',
      allocation: { granted: 2, used: 0, unused: 2 },
    });
    for (const f of ['inbox', 'outbox', 'archive', 'rejected']) expect(existsSync(path.join(root, 'CLITEST01', f))).toBe(true);
    expect((await cli('sponsor', 'add', 'CLITEST01', '--name', 'Again')).code).toBe(3);
    expect((await cli('sponsor', 'add', 'bad', '--name', 'X')).code).toBe(2);
    expect((await cli('sponsor', 'add', 'CLITEST02')).code).toBe(2);
    // The export schema chosen at registration is kept (the legacy one here).
    const legacy = await cli('sponsor', 'add', 'CLILEGAC1', '--name', 'Legacy College', '--export-schema', '1.1.1', '--json');
    expect(legacy.code, legacy.stderr).toBe(0);
    expect(legacy.json<{ exportSchema: string }>().exportSchema).toBe('1.1.1');
    expect((await cli('sponsor', 'show', 'NOSUCH001')).code).toBe(4);
    expect((await cli('sponsor', 'allocate', 'CLITEST01', '0')).code).toBe(2);
    expect((await cli('sponsor', 'allocate', 'NOSUCH001', '3')).code).toBe(4);
    const alloc = await cli('sponsor', 'allocate', 'CLITEST01', '3', '--json');
    expect(alloc.json()).toMatchObject({ allocation: { granted: 5, used: 0, unused: 5 } });
    const list = await cli('sponsor', 'list', '--json');
    expect(list.json<{ licenceNumber: string }[]>().map((s) => s.licenceNumber)).toContain('CLITEST01');
    expect(list.json<{ licenceNumber: string }[]>().map((s) => s.licenceNumber)).not.toContain('CLITEST02');
    const human = await cli('sponsor', 'list');
    expect(human.stdout).toContain('Cli University');
  });

  it('processes files with JSON summaries and exit codes, lists submissions, reruns results', async () => {
    const L = 'CLITEST03';
    await addSponsor(L, 5);
    const good = goodFile(L, 'CLI-1');
    const dir = path.dirname(good);
    const bad = path.join(dir, 'bad.xml');
    writeFileSync(bad, '<oops');
    const res = await cli('process', good, bad, '--sponsor', L, '--json');
    expect(res.code).toBe(3);
    const [s1, s2] = res.json<Record<string, unknown>[]>();
    expect(s1).toMatchObject({
      file: 'good.XML',
      sponsorLicenceNumber: L,
      fileType: 'UPLOAD_GENERAL',
      outcome: 'ACCEPTED',
      replay: false,
      counts: { records: 2, created: 2, amended: 0, assigned: 1, readyToGo: 0, workInProgress: 1, rejected: 0 },
      fileErrors: [],
    });
    expect(s1!.resultFile).toBe(path.join(root, L, 'outbox', 'good.result.xml'));
    expect(s2).toMatchObject({
      outcome: 'REJECTED',
      fileType: 'UNKNOWN',
      fileErrors: [expect.objectContaining({ code: 'E_NOT_WELL_FORMED' })],
    });
    expect(readFileSync(s1!.resultFile as string, 'utf8')).toContain('<Outcome>ACCEPTED</Outcome>');
    // Inputs are not moved by `process`.
    expect(existsSync(good)).toBe(true);

    const ok = await cli('process', good, '--sponsor', L, '--out', path.join(dir, 'out'));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('(replay)');
    expect(readdirSync(path.join(dir, 'out'))).toEqual(['good.result.xml']);
    expect((await cli('process', good, '--sponsor', 'NOSUCH001')).code).toBe(4);
    expect((await cli('process', path.join(dir, 'missing.xml'), '--sponsor', L)).code).toBe(2);

    const subs = await cli('submissions', '--sponsor', L, '--json');
    const list = subs.json<{ submissionId: number; outcome: string; replay: boolean }[]>();
    expect(list).toHaveLength(3);
    expect(list[0]!.replay).toBe(true);
    // A result still in the outbox is not duplicated; one the sponsor took away is written again.
    const original = readFileSync(s1!.resultFile as string, 'utf8');
    const rerun = await cli('rerun', String(s1!.submissionId), '--json');
    expect(rerun.code).toBe(0);
    expect(rerun.json<{ resultFile: string }>().resultFile).toBe(s1!.resultFile);
    expect(rerun.json<{ unchanged: boolean }>().unchanged).toBe(true);
    expect((await cli('rerun', String(s1!.submissionId))).stdout).toBe(
      `The result of submission ${s1!.submissionId} is already in ${s1!.resultFile as string}, unchanged; nothing was written.\n`,
    );
    rmSync(s1!.resultFile as string);
    expect((await cli('rerun', String(s1!.submissionId))).stdout).toBe(
      `Wrote the result of submission ${s1!.submissionId} to ${s1!.resultFile as string}\n`,
    );
    rmSync(s1!.resultFile as string);
    const again = (await cli('rerun', String(s1!.submissionId), '--json')).json<{ resultFile: string }>().resultFile;
    expect(again).toBe(s1!.resultFile);
    expect(readFileSync(again, 'utf8')).toBe(original);
    writeFileSync(again, 'taken by someone else');
    const third = (await cli('rerun', String(s1!.submissionId), '--json')).json<{ resultFile: string }>().resultFile;
    expect(third).toBe(path.join(root, L, 'outbox', `good.${s1!.submissionId}.result.xml`));
    expect(readFileSync(third, 'utf8')).toBe(original);
    expect((await cli('rerun', '999999')).code).toBe(4);
  });

  it('shows and lists CAS', async () => {
    const L = 'CLITEST04';
    await addSponsor(L, 2);
    expect((await cli('process', goodFile(L, 'CLI-1'), '--sponsor', L)).code).toBe(0);
    const list = await cli('cas', 'list', '--sponsor', L, '--json');
    expect(list.code).toBe(0);
    const rows = list.json<Record<string, unknown>[]>();
    expect(rows).toHaveLength(2);
    const assigned = rows.find((r) => r.status === 'ASSIGNED')!;
    expect(isValidCasNumber(assigned.casNumber as string)).toBe(true);
    expect(assigned).toMatchObject({
      route: 'student',
      sponsorLicenceNumber: L,
      applicantId: 'P1',
      batch: 'CLI-1',
      courseStartDate: '2027-09-20',
    });
    expect(Object.keys(assigned)).not.toContain('history');
    const show = await cli('cas', 'show', assigned.casNumber as string, '--json');
    const shown = show.json<{ history: { from: string | null; to: string }[] }>();
    expect(shown.history.map((h) => [h.from, h.to])).toEqual([
      [null, 'READY_TO_GO'],
      ['READY_TO_GO', 'ASSIGNED'],
    ]);
    const wip = rows.find((r) => r.status === 'WORK_IN_PROGRESS')!;
    expect((await cli('cas', 'show', '--id', String(wip.id))).stdout).toContain('WORK IN PROGRESS');
    expect((await cli('cas', 'list', '--sponsor', L, '--status', 'WORK_IN_PROGRESS', '--json')).json<unknown[]>()).toHaveLength(1);
    expect((await cli('cas', 'show', 'E4G1AB2C34D5E6')).code).toBe(4);
    expect((await cli('cas', 'show')).code).toBe(2);
    expect((await cli('cas', 'list', '--sponsor', L, '--status', 'NOPE')).code).toBe(2);
  });
});
