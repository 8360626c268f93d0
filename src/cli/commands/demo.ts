/**
 * `cas-bdt demo`: the whole flow for someone who has never seen a BDT file. In a new
 * temporary folder (never the configured store or root): an embedded store, a sponsor
 * with a small allocation, the watch service started, four files in the Home Office
 * format dropped into its inbox (a good one, one with warnings, one with a refused
 * record, one the schema refuses) and a zip of three more as a vendor sends it, and each result told in plain words, with where
 * the files are and how to go on; then two visa decisions and the `compliance` command's output on that store, with what it
 * shows. `--keep` leaves the folder for a look.
 */
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { casXml, graduateBytes, reportBytes, uploadBytes } from '../../xml/bdt-samples.ts';
import type { Context } from '../context.ts';
import type { Runner } from '../context.ts';
import { fileErrorLines, recordLines, recordsOf } from '../outcome-text.ts';
import type { SubmissionRow } from '../../ops/queries.ts';
import { withDemo, type Demo } from './demo-service.ts';

const LICENCE = 'DEMO00001';
const ALLOCATION = 3;
/** Longest wait for the service to finish the four files. */
const TIMEOUT_MS = 45_000;

interface DemoFile {
  name: string;
  what: string;
  bytes: Buffer;
}

/** The zip a vendor's system sends (Tribal Edge's name for its uploads): an upload, a graduate report and a student activity report. */
const DEMO_ZIP = 'EXP-2027-01-15-093000123.zip';

/** The four files, in the real Home Office format (ISO-8859-1 but for the broken one), and a zip of two more. */
async function demoFiles(): Promise<DemoFile[]> {
  const { zipMany } = await import('../../xml/export-zip.ts');
  const upload = (fileId: string, records: string[], encoding?: 'UTF-8') => uploadBytes({ licence: LICENCE, fileId, records, encoding });
  return [
    {
      name: '1-good.xml',
      what: 'two complete records',
      bytes: upload('DEMO-GOOD', [
        casXml({ applicantId: 'DEMO-001', familyName: 'Okafor', givenName: 'Ada', passport: 'D0000001' }),
        casXml({
          applicantId: 'DEMO-002',
          familyName: 'Müller',
          givenName: 'Jörg',
          nationality: 'DEU',
          countryOfBirth: 'DEU',
          passport: 'D0000002',
        }),
      ]),
    },
    {
      name: '2-warnings.xml',
      what: 'two records with details missing',
      bytes: upload('DEMO-WARN', [
        casXml({ applicantId: 'DEMO-003', familyName: 'Silva', passport: 'D0000003', evidence: null }),
        casXml({
          applicantId: 'DEMO-004',
          familyName: 'Tanaka',
          passport: 'D0000004',
          hasWorkPlacement: true,
          workPlacementDetails: '<WorkPlacementJustificationText>Industrial year</WorkPlacementJustificationText>',
        }),
      ]),
    },
    {
      name: '3-one-refused.xml',
      what: 'a good record and one whose course ends before it starts',
      bytes: upload('DEMO-MIXED', [
        casXml({ applicantId: 'DEMO-005', familyName: 'Novak', passport: 'D0000005' }),
        casXml({ applicantId: 'DEMO-006', familyName: 'Haddad', passport: 'D0000006', courseStart: '2027-09-20', courseEnd: '2027-06-30' }),
      ]),
    },
    {
      name: '4-broken.xml',
      what: 'names the Home Office character set refuses, and a missing element',
      bytes: upload(
        'DEMO-BROKEN',
        [
          casXml({ applicantId: 'DEMO-007', familyName: 'Wałęsa', givenName: 'Łukasz', passport: 'D0000007' }),
          casXml({ applicantId: 'DEMO-008', passport: 'D0000008' }).replace(/<Gender>2<\/Gender>\s*/, ''),
        ],
        'UTF-8',
      ),
    },
    {
      name: DEMO_ZIP,
      what: 'a zip as a vendor system sends it: one more upload, a graduate report and a student activity report, both naming a CAS that does not exist',
      bytes: await zipMany(
        [
          {
            name: 'upload.xml',
            text: upload('DEMO-ZIP', [casXml({ applicantId: 'DEMO-009', familyName: 'Kowalski', passport: 'D0000009' })]).toString(
              'latin1',
            ),
          },
          { name: 'graduates.xml', text: graduateBytes('DEMO-GRAD', ['E4G1AB2C34D5E6']).toString('utf8') },
          {
            name: 'reports.xml',
            text: reportBytes('DEMO-REPORT', LICENCE, [
              { kind: 'NOT_ENROLLED', casNumber: 'E4G1AB2C34D5E6', fields: { ExpectedEnrollmentDate: '2026-09-14' } },
            ]).toString('utf8'),
          },
        ],
        new Date('2027-01-15T09:30:00Z'),
      ),
    },
  ];
}

/** What happened to one file, in plain words. */
export async function story(sub: SubmissionRow, what: string): Promise<string[]> {
  const s = sub.summary as {
    counts: { created: number; assigned: number; workInProgress: number; rejected: number; readyToGo: number };
    fileErrors: Parameters<typeof fileErrorLines>[0];
  };
  const head = `${sub.fileName} (${what}):`;
  if (sub.outcome === 'REJECTED') {
    return [`${head} REFUSED as a whole: nothing was created, no CAS number given. Why:`, ...fileErrorLines(s.fileErrors, 10, '    ')];
  }
  const c = s.counts;
  const words = [
    c.assigned ? `${c.assigned} CAS assigned (CAS number given, allocation used, fee paid)` : '',
    c.workInProgress ? `${c.workInProgress} saved as work in progress (a warning: complete the record and send it again to assign it)` : '',
    c.readyToGo ? `${c.readyToGo} ready to go but not assigned` : '',
    c.rejected ? `${c.rejected} record(s) refused (nothing stored for them)` : '',
  ].filter(Boolean);
  return [`${head} ACCEPTED: ${words.join('; ')}.`, ...recordLines(await recordsOf(sub.resultXml), { indent: '    ' })];
}

/**
 * The compliance view: two visa decisions are recorded on the CAS assigned (one granted, one
 * refused, as `cas use` and `cas decide` would), then `cas-bdt compliance` itself runs on
 * the demo store and its output is shown, with what it says. False when it failed.
 */
async function showCompliance(ctx: Context, demo: Demo, cli: string): Promise<boolean> {
  const [{ listCas }, { useCas }, { decideCas }, { isoDateUtc }, { main }] = await Promise.all([
    import('../../ops/queries.ts'),
    import('../../ops/use.ts'),
    import('../../ops/decide.ts'),
    import('../../domain/dates.ts'),
    import('../main.ts'),
  ]);
  const assigned = (await listCas(demo.store.db, { licence: LICENCE, status: 'ASSIGNED' })).map((c) => c.casNumber!).sort();
  const decided: string[] = [];
  for (const [casNumber, decision] of [
    [assigned[0], 'granted'],
    [assigned[1], 'refused'],
  ] as const) {
    if (!casNumber) break;
    const now = new Date();
    const used = await useCas(demo.store.db, { casNumber }, isoDateUtc(now), now);
    const done = used.kind === 'done' && (await decideCas(demo.store.db, casNumber, decision, { now })).kind === 'done';
    if (!done) {
      ctx.err(`cas-bdt demo: the visa decision on ${casNumber} could not be recorded`);
      return false;
    }
    decided.push(`${casNumber} ${decision}`);
  }
  ctx.out(
    [
      '\nThe compliance view: the Home Office judges each sponsor on its refusal, enrolment and completion rates over 12 months.',
      `Two of the CAS were used for visa applications and decided (\`cas use\`, then \`cas decide\`): ${decided.join(', ')}.`,
      `${cli} compliance --sponsor ${LICENCE}`,
    ].join('\n'),
  );
  // The command runs on the store as any command does: the demo closes its own handle first.
  await demo.closeStore();
  let text = '';
  const code = await main(['--data', demo.dataDir, '--root', demo.rootDir, 'compliance', '--sponsor', LICENCE], {
    ...ctx.io,
    stdout: (chunk) => void (text += chunk),
  });
  if (code !== 0) {
    ctx.err(`cas-bdt demo: cas-bdt compliance exited ${code}`);
    return false;
  }
  ctx.out(
    [
      ...text
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`),
      'What it shows: the refusal rate counts the decisions of the 12 months (here 1 refused of 2); enrolment counts the granted',
      'CAS whose course has started, completion those whose course has ended (none yet: 0/0). Each rate is judged against the',
      "threshold of the day, but only over 50 cases or more: below that it is 'too few', as here. Late reports are student activity",
      'reports received after their due date; missing reports are ASSIGNED CAS still unreported 10 working days after their course',
      'started. The console of `watch` shows the same at /compliance, and /metrics as gauges.',
    ].join('\n'),
  );
  return true;
}

async function runDemo(ctx: Context, keep: boolean): Promise<number> {
  const [{ getSponsor }, { sponsorDir }] = await Promise.all([import('../../ops/queries.ts'), import('../../inbox/layout.ts')]);
  const started = performance.now();
  const sponsor = { licence: LICENCE, name: 'Demo University', routes: ['student' as const], allocation: ALLOCATION };
  const intro = (dir: string) => `cas-bdt demo: a new store and folder tree in ${dir} (your own store and folders are not touched).`;
  return withDemo(ctx, { sponsor, concurrency: 1, maxFileBytes: 10 * 1024 * 1024, keep, intro }, async (demo) => {
    const { dir, dataDir, rootDir } = demo;
    ctx.out(`Sponsor ${LICENCE} "Demo University": Student route, allocation of ${ALLOCATION} CAS, CAS assigned automatically.`);
    const files = await demoFiles();
    ctx.out(`The service is watching ${rootDir}. Dropping ${files.length} files into ${sponsorDir(rootDir, LICENCE, 'inbox')}:`);
    for (const f of files) {
      await demo.drop([f]);
      ctx.out(`  ${f.name}: ${f.what}`);
    }
    // A zip's own submission is stored after its entries'.
    const subs = await demo.submissions((all) => files.every((f) => all.some((s) => s.fileName === f.name)), TIMEOUT_MS);
    await demo.stopService();
    const done = files.filter((f) => subs.some((s) => s.fileName === f.name)).length;
    if (done < files.length) {
      ctx.err(`cas-bdt demo: only ${done} of ${files.length} files were processed within ${TIMEOUT_MS / 1000} s`);
      return 1;
    }
    ctx.out('\nWhat happened:');
    for (const f of files) {
      const sub = subs.find((s) => s.fileName === f.name);
      const entries = sub?.summary.container?.entries;
      if (sub && entries) {
        ctx.out(`${sub.fileName} (${f.what}): each .xml file in it is processed as a file of its own:`);
        for (const e of entries) {
          const entry = subs.find((s) => s.id === e.submissionId);
          if (entry) ctx.out((await story({ ...entry, fileName: e.name }, 'in the zip')).map((l) => `  ${l}`).join('\n'));
          else ctx.out(`  ${e.name}: refused: ${e.error ?? ''}`);
        }
      } else if (sub) ctx.out((await story(sub, f.what)).join('\n'));
    }
    const held = (await getSponsor(demo.store.db, LICENCE))!;
    ctx.out(
      `\nAllocation of ${LICENCE}: granted ${held.allocationGranted}, used ${held.allocationUsed}, unused ${held.allocationGranted - held.allocationUsed}.`,
    );
    const cli = `npx cas-bdt --data ${dataDir} --root ${rootDir}`;
    if (!(await showCompliance(ctx, demo, cli))) return 1;
    const folder = (name: 'inbox' | 'outbox' | 'archive' | 'rejected') => sponsorDir(rootDir, LICENCE, name);
    ctx.out(
      [
        '\nWhere the files are:',
        `  ${folder('outbox')}: one result XML per file (NAME.result.xml), with the CAS numbers or the reasons;`,
        `    for the zip, NAME.result.zip: each file's result and container.result.xml listing them`,
        `  ${folder('archive')}: the inputs that were accepted`,
        `  ${folder('rejected')}: the input that was refused`,
        `  ${folder('inbox')}: where a sponsor's system drops files (empty again)`,
      ].join('\n'),
    );
    if (keep) {
      ctx.out(
        [
          '\nHow to go on (the demo store and folders are kept):',
          `  ${cli} cas list --sponsor ${LICENCE}            the CAS and their statuses`,
          `  ${cli} submissions                               the files received, with their errors`,
          `  ${cli} validate FILE --sponsor ${LICENCE}        a dry run of a file of your own`,
          `  ${cli} watch                                     the service again; drop files into ${folder('inbox')}`,
          `  rm -r ${dir}                                   when you are done`,
        ].join('\n'),
      );
    } else {
      ctx.out(
        [
          '\nHow to go on: run `npx cas-bdt demo --keep` to keep this store and folder tree for a look;',
          'on your own: `npx cas-bdt sponsor add LICENCE --name NAME --allocation N`, then `npx cas-bdt validate FILE --sponsor LICENCE`',
          '(a dry run) and `npx cas-bdt process FILE --sponsor LICENCE` or `npx cas-bdt watch` (README: "A first sponsor and a first file").',
        ].join('\n'),
      );
    }
    ctx.out(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s.${keep ? '' : ` The demo's folder ${dir} is removed.`}`);
    return 0;
  });
}

export function registerDemoCommand(program: Command, run: Runner): void {
  program
    .command('demo')
    .description(
      'show the whole flow in a temporary store and folder tree: a sponsor, the service, four files and a zip, their results in words',
    )
    .option('--keep', 'keep the temporary store and folder tree for a look (default: removed at the end)')
    .option(
      '--home-office <dir>',
      "instead, run a folder of the Home Office's example files, each with a fresh file id and ApplicantIDs, and tell each outcome",
    )
    .action(
      run(async (ctx, opts) => {
        if (opts.homeOffice === undefined) return runDemo(ctx, opts.keep === true);
        const { runHomeOfficeDemo } = await import('./demo-home-office.ts');
        return runHomeOfficeDemo(ctx, path.resolve(ctx.io.cwd, opts.homeOffice), opts.keep === true);
      }),
    );
}
