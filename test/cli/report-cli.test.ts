/**
 * A student activity report file as an operator processes it, on both stores: `process`
 * in words and JSON, the due date following `--holidays` (a report of Friday 2026-08-28 is
 * due 2026-09-14 in England, whose summer bank holiday is 31 August, and 2026-09-11 in
 * Scotland, whose is 3 August), W_LATE_REPORT naming it, and a replay.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CasView } from '../../src/db/cas-query.ts';
import { reportBytes } from '../../src/xml/bdt-samples.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { cliOnStore } from '../helpers/cli.ts';
import { licenceFor } from '../helpers/lifecycle.ts';
import { issueCodes, parseResult } from '../helpers/pipeline.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

describe.each(STORE_KINDS)('report files through the CLI on %s', (kind) => {
  const { cli, cwd: dir } = cliOnStore(kind, 'cas-bdt-rcli-');
  const L = licenceFor('RCLI');

  it('processes a report file with due dates of the --holidays nation', async () => {
    expect((await cli('sponsor', 'add', L, '--name', 'Report College', '--allocation', '10')).code).toBe(0);
    const up = path.join(dir, 'up.xml');
    writeFileSync(
      up,
      uploadBytes({
        licence: L,
        fileId: 'RCLI-UP',
        records: ['R1', 'R2'].map((a, i) => casXml({ applicantId: a, passport: `RC00000${i}` })),
      }),
    );
    expect((await cli('process', up, '--sponsor', L)).code).toBe(0);
    const list = (await cli('cas', 'list', '--sponsor', L, '--json')).json<CasView[]>();
    const [n1, n2] = ['R1', 'R2'].map((a) => list.find((c) => c.applicantId === a)!.casNumber!);
    expect((await cli('cas', 'use', n1!, '--date', '2026-08-03')).code).toBe(0);
    expect((await cli('cas', 'use', n2!, '--date', '2026-08-03')).code).toBe(0);

    const file = (id: string, cas: string) =>
      reportBytes(id, L, [{ kind: 'STOPPED_ATTENDING', casNumber: cas, fields: { LastContactDate: '2026-08-28' } }]);
    const england = path.join(dir, 'england.xml');
    writeFileSync(england, file('RCLI-EW', n1!));
    const text = await cli('process', england, '--sponsor', L);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('england.xml: ACCEPTED');
    expect(text.stdout).toContain('1 record: 1 reported, 0 rejected');

    const scotland = path.join(dir, 'scotland.xml');
    writeFileSync(scotland, file('RCLI-SC', n2!));
    const processed = await cli('--holidays', 'scotland', 'process', scotland, '--sponsor', L, '--json');
    expect(processed.code).toBe(0);
    const [summary] = processed.json<{ fileType: string; outcome: string; counts: Record<string, number>; resultFile: string }[]>();
    expect(summary).toMatchObject({ fileType: 'REPORT', outcome: 'ACCEPTED', counts: { records: 1, reported: 1, rejected: 0 } });
    const sc = parseResult(readFileSync(summary!.resultFile, 'utf8')).Records!.Record[0]!;
    expect([sc.DueDate, issueCodes(sc)]).toEqual(['2026-09-11', ['W_LATE_REPORT']]);
    expect(sc.Issue![0]!['#text']).toContain('due by 2026-09-11');

    const again = await cli('process', england, '--sponsor', L, '--json');
    const [replayed] = again.json<{ resultFile: string }[]>();
    const ew = parseResult(readFileSync(replayed!.resultFile, 'utf8'));
    expect(ew.Submission.Replay).toBe('true');
    expect([ew.Records!.Record[0]!.DueDate, issueCodes(ew.Records!.Record[0]!)]).toEqual(['2026-09-14', ['W_LATE_REPORT']]);
  });
});
