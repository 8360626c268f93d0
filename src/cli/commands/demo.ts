/**
 * `cas-bdt demo`: the whole flow for someone who has never seen a BDT file. In a new
 * temporary folder (never the configured store or root): an embedded store, a sponsor
 * with a small allocation, the watch service started, four files in the Home Office
 * format dropped into its inbox (a good one, one with warnings, one with a refused
 * record, one the schema refuses) and a zip of two more as a vendor sends it, and each result told in plain words, with where
 * the files are and how to go on. `--keep` leaves the folder for a look.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { casXml, graduateBytes, reportBytes, uploadBytes } from '../../xml/bdt-samples.ts';
import type { Context } from '../context.ts';
import type { Runner } from '../context.ts';
import { fileErrorLines, recordLines, recordsOf } from '../outcome-text.ts';

export type SubmissionRow = Awaited<ReturnType<(typeof import('../../ops/queries.ts'))['listSubmissions']>>[number];

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
  const upload = (fileId: string, records: string[], encoding?: 'UTF-8') =>
    uploadBytes({ licence: LICENCE, fileId, records, ...(encoding ? { encoding } : {}) });
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

async function runDemo(ctx: Context, keep: boolean): Promise<number> {
  const [
    { openStore },
    { addSponsor },
    { getSponsor, listSubmissions },
    { ensureSponsorFolders, sponsorDir },
    { createLogger },
    { startService },
  ] = await Promise.all([
    import('../../ops/store.ts'),
    import('../../ops/sponsors.ts'),
    import('../../ops/queries.ts'),
    import('../../inbox/layout.ts'),
    import('../../log.ts'),
    import('../../service/service.ts'),
  ]);
  const started = performance.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cas-bdt-demo-'));
  const dataDir = path.join(dir, 'store');
  const rootDir = path.join(dir, 'bdt');
  ctx.out(`cas-bdt demo: a new store and folder tree in ${dir} (your own store and folders are not touched).`);
  const store = await openStore({ databaseUrl: undefined, dataDir });
  try {
    await addSponsor(
      store.db,
      { licenceNumber: LICENCE, name: 'Demo University', routes: ['student'], autoAssign: true, allocation: ALLOCATION },
      new Date(),
    );
    await ensureSponsorFolders(rootDir, LICENCE);
    ctx.out(`Sponsor ${LICENCE} "Demo University": Student route, allocation of ${ALLOCATION} CAS, CAS assigned automatically.`);
    // The service's own log lines go to stderr, as under `watch`.
    const log = createLogger({ write: ctx.io.stderr });
    const service = await startService({
      db: store.db,
      openSession: () => store.session(),
      rootDir,
      settleMs: 200,
      scanIntervalMs: 500,
      concurrency: 1,
      poll: false,
      maxFileBytes: 10 * 1024 * 1024,
      settings: { feePence: 2500, validityMonths: 6 },
      log,
    });
    const files = await demoFiles();
    const inbox = sponsorDir(rootDir, LICENCE, 'inbox');
    let subs: SubmissionRow[] = [];
    try {
      ctx.out(`The service is watching ${rootDir}. Dropping ${files.length} files into ${inbox}:`);
      for (const f of files) {
        // As an upload client does: a hidden name first, then the real one (the service ignores the first).
        const hidden = path.join(inbox, `.${f.name}.part`);
        await writeFile(hidden, f.bytes);
        await rename(hidden, path.join(inbox, f.name));
        ctx.out(`  ${f.name}: ${f.what}`);
      }
      const deadline = Date.now() + TIMEOUT_MS;
      for (;;) {
        subs = await listSubmissions(store.db, { licence: LICENCE });
        // A zip's own submission is stored after its entries'.
        if (files.every((f) => subs.some((s) => s.fileName === f.name))) break;
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await service.stop();
    }
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
    const sponsor = (await getSponsor(store.db, LICENCE))!;
    ctx.out(
      `\nAllocation of ${LICENCE}: granted ${sponsor.allocationGranted}, used ${sponsor.allocationUsed}, unused ${sponsor.allocationGranted - sponsor.allocationUsed}.`,
    );
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
    const cli = `npx cas-bdt --data ${dataDir} --root ${rootDir}`;
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
  } finally {
    await store.close();
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
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
