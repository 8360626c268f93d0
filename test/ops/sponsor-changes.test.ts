/**
 * Changes an operator makes to a sponsor and its CAS: `sponsor set`, `sponsor status` that
 * cancels ASSIGNED CAS only when confirmed (`--yes`, or a person at a terminal), with
 * `--dry-run` and a `--reason` kept in the history, and `cas withdraw --reason`.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { cliOnStore } from '../helpers/cli.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

interface CasRow {
  casNumber: string | null;
  status: string;
}

describe.each(STORE_KINDS)('sponsor changes on %s', (kind) => {
  const on = cliOnStore(kind, 'cas-bdt-sponsor-changes-');
  const { cli } = on;
  const statuses = async (licence: string) =>
    (await cli('cas', 'list', '--sponsor', licence, '--json'))
      .json<CasRow[]>()
      .map((c) => c.status)
      .sort();

  /** A sponsor with `n` ASSIGNED CAS. */
  async function sponsorWithAssigned(licence: string, n: number): Promise<string[]> {
    expect((await cli('sponsor', 'add', licence, '--name', 'Change College', '--allocation', String(n))).code).toBe(0);
    const file = path.join(on.cwd, `${licence}.xml`);
    writeFileSync(
      file,
      uploadBytes({
        licence,
        fileId: `F-${licence}`,
        records: Array.from({ length: n }, (_, i) => casXml({ applicantId: `${licence}-${i}` })),
      }),
    );
    expect((await cli('process', file, '--sponsor', licence)).code).toBe(0);
    return (await cli('cas', 'list', '--sponsor', licence, '--json'))
      .json<CasRow[]>()
      .map((c) => c.casNumber!)
      .sort();
  }

  it('cancels nothing without --yes; --dry-run lists what it would cancel; a terminal is asked', async () => {
    const numbers = await sponsorWithAssigned('REVOKE001', 2);
    const refused = await cli('sponsor', 'status', 'REVOKE001', 'revoked');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('cancels 2 ASSIGNED CAS: give --yes');
    expect(await statuses('REVOKE001')).toEqual(['ASSIGNED', 'ASSIGNED']);
    expect((await cli('sponsor', 'show', 'REVOKE001', '--json')).json()).toMatchObject({ status: 'active' });

    const dry = await cli('sponsor', 'status', 'REVOKE001', 'revoked', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(`Dry run, nothing changed. REVOKE001: status revoked cancels 2 ASSIGNED CAS.\n${numbers.join('\n')}\n`);
    const dryJson = await cli('sponsor', 'status', 'REVOKE001', 'surrendered', '--dry-run', '--json');
    expect(dryJson.json()).toMatchObject({ status: 'active', dryRun: true, wouldCancel: numbers });
    expect(await statuses('REVOKE001')).toEqual(['ASSIGNED', 'ASSIGNED']);

    // A person at a terminal is asked; anything but yes changes nothing.
    const asked: string[] = [];
    const atTerminal = (answer: boolean) =>
      main([...on.t.cliArgs, '--root', on.root, 'sponsor', 'status', 'REVOKE001', 'expired'], {
        stdout: () => {},
        stderr: () => {},
        env: {},
        cwd: on.cwd,
        stderrIsTTY: true,
        confirm: async (q) => (asked.push(q), answer),
      });
    expect(await atTerminal(false)).toBe(3);
    expect(asked[0]).toBe('REVOKE001: status expired cancels 2 ASSIGNED CAS. Go on?');
    expect(await statuses('REVOKE001')).toEqual(['ASSIGNED', 'ASSIGNED']);
    expect(await atTerminal(true)).toBe(0);
    expect(await statuses('REVOKE001')).toEqual(['CANCELLED', 'CANCELLED']);
  });

  it('keeps --reason in the history of each CAS cancelled; reactivating says nothing of cancelling', async () => {
    const numbers = await sponsorWithAssigned('REVOKE002', 1);
    const done = await cli('sponsor', 'status', 'REVOKE002', 'revoked', '--yes', '--reason', 'Home Office letter 12');
    expect(done.code).toBe(0);
    expect(done.stdout).toBe(`REVOKE002: status revoked; 1 ASSIGNED CAS cancelled.\n${numbers[0]}\n`);
    const shown = (await cli('cas', 'show', numbers[0]!, '--json')).json<{ history: { to: string; reason: string }[] }>();
    expect(shown.history.at(-1)).toMatchObject({
      to: 'CANCELLED',
      reason: 'licence revoked (cas-bdt sponsor status): Home Office letter 12',
    });
    const active = await cli('sponsor', 'status', 'REVOKE002', 'active');
    expect(active.stdout).toBe('REVOKE002: status active.\n');
    expect((await cli('sponsor', 'status', 'REVOKE002', 'revoked', '--yes', '--reason', 'two\nlines')).code).toBe(2);
    expect((await cli('sponsor', 'status', 'REVOKE002', 'revoked', '--yes', '--reason', 'x'.repeat(501))).code).toBe(2);
    // Suspending cancels nothing and needs no confirmation.
    expect((await cli('sponsor', 'status', 'REVOKE002', 'suspended')).code).toBe(0);
  });

  it('changes name, routes and auto-assign with sponsor set; a route is taken away only by surrendering it', async () => {
    expect((await cli('sponsor', 'add', 'SETSPON01', '--name', 'Old Name')).code).toBe(0);
    const set = await cli('sponsor', 'set', 'SETSPON01', '--name', 'New Name', '--routes', 'student,child', '--no-auto-assign', '--json');
    expect(set.code).toBe(0);
    expect(set.json()).toMatchObject({ name: 'New Name', routes: ['child', 'student'], autoAssign: false });
    const back = await cli('sponsor', 'set', 'SETSPON01', '--auto-assign');
    expect(back.stdout).toContain('Changed auto-assign of SETSPON01.');
    expect((await cli('sponsor', 'show', 'SETSPON01', '--json')).json()).toMatchObject({
      name: 'New Name',
      routes: ['child', 'student'],
      autoAssign: true,
    });
    const removing = await cli('sponsor', 'set', 'SETSPON01', '--routes', 'child');
    expect(removing.code).toBe(3);
    expect(removing.stderr).toContain('sponsor status SETSPON01 surrendered --route student');
    expect((await cli('sponsor', 'show', 'SETSPON01', '--json')).json()).toMatchObject({ routes: ['child', 'student'] });
    expect((await cli('sponsor', 'set', 'SETSPON01')).code).toBe(2);
    expect((await cli('sponsor', 'set', 'SETSPON01', '--name', ' ')).code).toBe(2);
    expect((await cli('sponsor', 'set', 'NOSUCH001', '--name', 'X')).code).toBe(4);
    // The new setting is what the pipeline uses: with auto-assign off, nothing is assigned.
    expect((await cli('sponsor', 'set', 'SETSPON01', '--no-auto-assign')).code).toBe(0);
    expect((await cli('sponsor', 'allocate', 'SETSPON01', '5')).code).toBe(0);
    const file = path.join(on.cwd, 'set.xml');
    writeFileSync(file, uploadBytes({ licence: 'SETSPON01', fileId: 'F-SET', records: [casXml({ applicantId: 'SET-1' })] }));
    const processed = await cli('process', file, '--sponsor', 'SETSPON01', '--json');
    expect(processed.json<{ counts: { assigned: number; readyToGo: number } }[]>()[0]!.counts).toMatchObject({ assigned: 0, readyToGo: 1 });
  });

  it('keeps the reason of cas withdraw --reason in the history', async () => {
    const [number] = await sponsorWithAssigned('WITHDRAW1', 1);
    const res = await cli('cas', 'withdraw', number!, '--reason', 'student declined the offer');
    expect(res.code).toBe(0);
    const shown = (await cli('cas', 'show', number!, '--json')).json<{ status: string; history: { to: string; reason: string }[] }>();
    expect(shown.status).toBe('WITHDRAWN');
    expect(shown.history.at(-1)).toMatchObject({
      to: 'WITHDRAWN',
      reason: 'withdrawn by the sponsor (cas-bdt cas withdraw): student declined the offer',
    });
  });
});
