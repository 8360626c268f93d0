/**
 * Listings an operator can read: `cas list` and `submissions` page on a terminal (and
 * with `--limit`/`--offset` anywhere) and filter; `submissions show ID` tells one file's
 * story with the issues of its records.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { cliOnStore } from '../helpers/cli.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

const LICENCE = 'LISTINGS1';

describe.each(STORE_KINDS)('listings on %s', (kind) => {
  const on = cliOnStore(kind, 'cas-bdt-listings-');
  const { cli } = on;
  let acceptedId: number;
  let rejectedId: number;
  /** The CLI as a person at a terminal runs it. */
  const atTerminal = async (...args: string[]) => {
    let stdout = '';
    const code = await main([...on.t.cliArgs, '--root', on.root, ...args], {
      stdout: (s) => void (stdout += s),
      stderr: () => {},
      env: {},
      cwd: on.cwd,
      stderrIsTTY: true,
      stdoutIsTTY: true,
    });
    return { code, stdout };
  };

  beforeAll(async () => {
    expect((await cli('sponsor', 'add', LICENCE, '--name', 'Listing College', '--allocation', '100')).code).toBe(0);
    const good = path.join(on.cwd, 'sixty.xml');
    writeFileSync(
      good,
      uploadBytes({
        licence: LICENCE,
        fileId: 'SIXTY',
        records: Array.from({ length: 60 }, (_, i) =>
          casXml(
            i === 1
              ? { applicantId: 'L-BAD', nationality: 'ZZZ' }
              : i === 2
                ? { applicantId: 'L-WIP', evidence: null }
                : { applicantId: `L-${i}` },
          ),
        ),
      }),
    );
    const broken = path.join(on.cwd, 'broken.xml');
    writeFileSync(broken, '<oops');
    const res = await cli('process', good, broken, '--sponsor', LICENCE, '--json');
    expect(res.code).toBe(3);
    [acceptedId, rejectedId] = res.json<{ submissionId: number }[]>().map((s) => s.submissionId) as [number, number];
  });

  it('pages cas list: 50 rows on a terminal, all when piped, --limit and --offset anywhere', async () => {
    const tty = await atTerminal('cas', 'list', '--sponsor', LICENCE);
    const lines = tty.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 50 + 1);
    expect(lines.at(-1)).toBe('Showing 1-50 of 59; --offset 50 for the next, --limit 0 for all.');
    const rest = await atTerminal('cas', 'list', '--sponsor', LICENCE, '--offset', '50');
    expect(rest.stdout.trimEnd().split('\n').at(-1)).toBe('Showing 51-59 of 59.');
    expect((await atTerminal('cas', 'list', '--sponsor', LICENCE, '--limit', '0')).stdout.trimEnd().split('\n')).toHaveLength(1 + 59);

    const piped = await cli('cas', 'list', '--sponsor', LICENCE);
    expect(piped.stdout.trimEnd().split('\n')).toHaveLength(1 + 59);
    const all = (await cli('cas', 'list', '--sponsor', LICENCE, '--json')).json<{ id: number }[]>();
    expect(all).toHaveLength(59);
    const page = (await cli('cas', 'list', '--sponsor', LICENCE, '--json', '--limit', '2', '--offset', '3')).json<{ id: number }[]>();
    expect(page.map((c) => c.id)).toEqual(all.slice(3, 5).map((c) => c.id));
    expect((await cli('cas', 'list', '--sponsor', LICENCE, '--limit', '-1')).code).toBe(2);
  });

  it('filters cas list by status, route, batch and applicant', async () => {
    const wip = (await cli('cas', 'list', '--sponsor', LICENCE, '--status', 'work in progress', '--json')).json<
      { applicantId: string }[]
    >();
    expect(wip.map((c) => c.applicantId)).toEqual(['L-WIP']);
    expect((await cli('cas', 'list', '--sponsor', LICENCE, '--route', 'child', '--json')).json()).toEqual([]);
    expect((await cli('cas', 'list', '--sponsor', LICENCE, '--route', 'student', '--json')).json<unknown[]>()).toHaveLength(59);
    expect((await cli('cas', 'list', '--sponsor', LICENCE, '--route', 'adult')).code).toBe(2);
    expect(
      (await cli('cas', 'list', '--sponsor', LICENCE, '--applicant', 'L-7', '--batch', 'SIXTY', '--json')).json<unknown[]>(),
    ).toHaveLength(1);
    expect((await cli('cas', 'list', '--sponsor', LICENCE, '--batch', 'NONE')).stdout).toBe('No CAS match.\n');
  });

  it('filters submissions by outcome, type, file name and day', async () => {
    const ids = async (...args: string[]) =>
      (await cli('submissions', '--json', ...args)).json<{ submissionId: number }[]>().map((s) => s.submissionId);
    expect(await ids()).toEqual([rejectedId, acceptedId]);
    expect(await ids('--outcome', 'rejected')).toEqual([rejectedId]);
    expect(await ids('--type', 'upload_general')).toEqual([acceptedId]);
    expect(await ids('--file', 'sixty.xml')).toEqual([acceptedId]);
    const today = new Date().toISOString().slice(0, 10);
    expect(await ids('--since', today, '--until', today)).toEqual([rejectedId, acceptedId]);
    expect(await ids('--since', '2999-01-01')).toEqual([]);
    expect(await ids('--until', '2000-01-01')).toEqual([]);
    expect(await ids('--limit', '1', '--offset', '1')).toEqual([acceptedId]);
    expect((await cli('submissions', '--since', '29-11-2026')).code).toBe(2);
    expect((await cli('submissions', '--type', 'PDF')).code).toBe(2);
    const paged = await cli('submissions', '--limit', '1');
    expect(paged.stdout.trimEnd().split('\n').at(-1)).toBe('Showing 1-1 of 2; --offset 1 for the next, --limit 0 for all.');
  });

  it("shows one submission with its records' issues, or its file errors", async () => {
    const shown = await cli('submissions', 'show', String(acceptedId));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`Submission:   ${acceptedId}\nFile:         sixty.xml (`);
    expect(shown.stdout).toContain(
      'Records:      60 records: 59 created, 0 amended, 1 rejected; 58 assigned, 0 ready to go, 1 work in progress',
    );
    expect(shown.stdout).toMatch(/Payment: +PAY-\S+, 58 CAS, 1450\.00 GBP/);
    expect(shown.stdout).toContain('Records with issues (2):\n  #2 L-BAD: REJECTED\n    E_COUNTRY_CODE ApplicantData/Nationality: ');
    expect(shown.stdout).toContain('  #3 L-WIP: CREATED, WORK IN PROGRESS\n    W_SELT_NOT_PROVIDED EvidenceDetails: ');
    const json = (await cli('submissions', 'show', String(acceptedId), '--json')).json<{
      outcome: string;
      records: { index: number; issues: unknown[] }[];
      payment: { casCount: number };
    }>();
    expect(json.outcome).toBe('ACCEPTED');
    expect(json.records).toHaveLength(60);
    expect(json.payment.casCount).toBe(58);

    const rejected = await cli('submissions', 'show', String(rejectedId));
    expect(rejected.stdout).toContain('Outcome:      REJECTED');
    expect(rejected.stdout).toMatch(/File errors:\n {2}E_NOT_WELL_FORMED at \d+:\d+: \S/);
    expect((await cli('submissions', 'show', '999999')).code).toBe(4);
    expect((await cli('submissions', 'show', 'abc')).code).toBe(2);
  });
});
