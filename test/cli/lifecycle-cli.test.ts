/**
 * The lifecycle commands as an operator runs them, on both stores: exit codes (0 done,
 * 2 usage, 3 refused, 4 not found), messages, JSON, history in `cas show`, and a use
 * racing a withdraw from two CLI processes' worth of connections.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CasView } from '../../src/db/cas-query.ts';
import { isoDateUtc } from '../../src/domain/dates.ts';
import { casXml, graduateBytes, uploadBytes } from '../helpers/bdt.ts';
import { cliOnStore, runCli } from '../helpers/cli.ts';
import { licenceFor } from '../helpers/lifecycle.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

describe('lifecycle commands without a store', () => {
  it.each(['assign', 'expire', 'export', 'cas delete', 'cas withdraw', 'cas use'])('%s --help', async (cmd) => {
    const r = await runCli([...cmd.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: cas-bdt ${cmd}`);
    expect(r.stdout).toContain('--json');
  });

  it.each([
    [['assign', '--sponsor', 'QHDGHB91X'], 'give either --batch NAME or --id ID'],
    [['assign', '--sponsor', 'QHDGHB91X', '--batch', 'B', '--id', '1'], 'give either --batch NAME or --id ID'],
    [['assign', '--sponsor', 'QHDGHB91X', '--id', 'x1'], "option '--id <id>' argument 'x1' is invalid. expected a whole number from 1 to"],
    [['cas', 'use', 'E4G0AA0A00A0A1', '--date', '2027-02-30'], '--date must be a date YYYY-MM-DD'],
    [['cas', 'use', 'NOT-A-CAS'], 'not a CAS number (14 characters'],
    [['cas', 'withdraw'], "missing required argument 'cas-number'"],
    [['cas', 'delete'], "required option '--id <id>' not specified"],
    [['expire', '--as-of', 'tomorrow'], '--as-of must be a date YYYY-MM-DD'],
    [['export'], "required option '--sponsor <licence>' not specified"],
  ])('usage error: %j', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe.each(STORE_KINDS)('lifecycle commands on %s', (kind) => {
  const { cli, cwd: dir } = cliOnStore(kind, 'cas-bdt-lcli-');
  const L = licenceFor('CLIS');

  it('assigns a batch after an allocation increase, then withdraws, uses, refuses and deletes with the right exit codes', async () => {
    expect((await cli('sponsor', 'add', L, '--name', 'Cli College', '--allocation', '1', '--no-auto-assign')).code).toBe(0);
    const file = path.join(dir, 'batch.xml');
    writeFileSync(
      file,
      uploadBytes({
        licence: L,
        fileId: 'CLI-1',
        records: [
          casXml({ applicantId: 'C1', passport: 'C1000001' }),
          casXml({ applicantId: 'C2', passport: 'C1000002' }),
          casXml({ applicantId: 'C3', passport: 'C1000003' }),
          casXml({ applicantId: 'C4', passport: 'C1000004', evidence: null }),
        ],
      }),
    );
    expect((await cli('process', file, '--sponsor', L)).code).toBe(0);

    const small = await cli('assign', '--sponsor', L, '--batch', 'CLI-1');
    expect(small.code).toBe(3);
    expect(small.stderr).toBe(
      `cas-bdt: batch CLI-1 has 3 READY TO GO CAS but the unused allocation of ${L} is 1 (granted 1, used 0); nothing was assigned\n`,
    );

    expect((await cli('sponsor', 'allocate', L, '2')).code).toBe(0);
    const assigned = await cli('assign', '--sponsor', L, '--batch', 'CLI-1', '--json');
    expect(assigned.code).toBe(0);
    const a = assigned.json<{
      assigned: { id: number; casNumber: string }[];
      expiryDate: string;
      payment: Record<string, unknown>;
      allocation: Record<string, number>;
    }>();
    expect(a.assigned).toHaveLength(3);
    expect(a.payment).toMatchObject({ casCount: 3, amount: '75.00', currency: 'GBP' });
    expect(a.allocation).toEqual({ granted: 3, used: 3, unused: 0 });
    const [n1, n2, n3] = a.assigned.map((x) => x.casNumber) as [string, string, string];

    const withdrawn = await cli('cas', 'withdraw', n1, '--json');
    expect(withdrawn.code).toBe(0);
    expect(withdrawn.json<CasView>()).toMatchObject({ casNumber: n1, status: 'WITHDRAWN' });
    const again = await cli('cas', 'withdraw', n1);
    expect(again.code).toBe(3);
    expect(again.stderr).toBe(`cas-bdt: CAS ${n1} cannot be withdrawn: it is WITHDRAWN; only a CAS that is ASSIGNED can be withdrawn\n`);

    const today = isoDateUtc(new Date());
    const used = await cli('cas', 'use', n2, '--json');
    expect(used.code).toBe(0);
    expect(used.json()).toMatchObject({ casNumber: n2, status: 'USED', usedAt: today, obsoleted: [] });

    // A graduate report for the USED CAS: `cas show` then gives the graduated date.
    const grad = path.join(dir, 'graduates.xml');
    writeFileSync(grad, graduateBytes('CLI-GRAD-1', [n2, n1]));
    const reported = await cli('process', grad, '--sponsor', L, '--json');
    expect(reported.code).toBe(0);
    expect(reported.json<{ counts: Record<string, number> }[]>()[0]!.counts).toMatchObject({ records: 2, reported: 1, rejected: 1 });

    const shown = await cli('cas', 'show', n2, '--json');
    expect(shown.json()).toMatchObject({ status: 'USED', graduatedAt: today });
    const history = shown.json<{ history: { from: string | null; to: string; at: string; reason: string }[] }>().history;
    expect(history.map((h) => [h.from, h.to])).toEqual([
      [null, 'READY_TO_GO'],
      ['READY_TO_GO', 'ASSIGNED'],
      ['ASSIGNED', 'USED'],
    ]);
    expect(history[1]!.reason).toBe('assigned by cas-bdt assign (batch CLI-1)');
    expect(history[2]!.reason).toBe(`visa application of ${today} (cas-bdt cas use)`);
    expect(history.every((h) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(h.at))).toBe(true);

    const ids = (await cli('cas', 'list', '--sponsor', L, '--json')).json<CasView[]>();
    const wip = ids.find((v) => v.applicantId === 'C4')!;
    const assignedDelete = await cli('cas', 'delete', '--id', String(ids.find((v) => v.casNumber === n2)!.id));
    expect(assignedDelete.code).toBe(3);
    expect(assignedDelete.stderr).toContain('a CAS that was ever assigned is never deleted');
    const deleted = await cli('cas', 'delete', '--id', String(wip.id), '--json');
    expect(deleted.code).toBe(0);
    expect(deleted.json()).toEqual({ id: wip.id, deleted: true, previousStatus: 'WORK_IN_PROGRESS', sponsorLicenceNumber: L });
    expect((await cli('cas', 'delete', '--id', String(wip.id))).code).toBe(4);

    const left = (await cli('cas', 'list', '--sponsor', L, '--json')).json<CasView[]>();
    expect(left.map((v) => [v.applicantId, v.status])).toEqual([
      ['C1', 'WITHDRAWN'],
      ['C2', 'USED'],
      ['C3', 'ASSIGNED'],
    ]);
    const swept = await cli('expire', '--as-of', today, '--json');
    expect(swept.code).toBe(0);
    expect(swept.json()).toEqual({ asOf: today, expired: 0, casNumbers: [] });

    // A use and a withdraw of the same CAS at once: one exits 0, the other 3.
    const race = await Promise.all([cli('cas', 'use', n3), cli('cas', 'withdraw', n3)]);
    expect(race.map((r) => r.code).sort()).toEqual([0, 3]);
    const final = (await cli('cas', 'show', n3, '--json')).json<{ status: string; history: unknown[] }>();
    expect(['USED', 'WITHDRAWN']).toContain(final.status);
    expect(final.history).toHaveLength(3);
  });
});
