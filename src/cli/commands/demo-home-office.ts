/**
 * `cas-bdt demo --home-office DIR`: the Home Office's example files (or any folder of BDT
 * files) run through the service in a temporary store and folder tree. The examples all
 * carry the same BulkUploadFileId and ApplicantID, so as received only the first would be
 * accepted; each is sent with a fresh file id and fresh ApplicantIDs, and with the demo
 * sponsor's licence, all at once, and each outcome told in words, in the order of their
 * numbers. Then the progression rule: one of the person's CAS is recorded as used, and the
 * first example that leaves out PreviousUKStudy is sent again, which now warns
 * W_PROGRESSION_NOT_PROVIDED (what the Home Office's "8. WARNING - progression not
 * provided", example 2 with another ApplicantID, shows). The files are read, never changed.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RecordResult } from '../../domain/result.ts';
import { usage, type Context } from '../context.ts';
import { recordsOf } from '../outcome-text.ts';
import type { SubmissionRow } from '../../ops/queries.ts';
import { withDemo } from './demo-service.ts';
import { story } from './demo.ts';

const LICENCE = 'QHDGHB91X';
/** Longest wait for the service to finish one file. */
const FILE_TIMEOUT_MS = 30_000;
/** Larger files are not examples. */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

interface Example {
  name: string;
  bytes: Buffer;
}

/** `2. SELT not required.xml` before `12. No work placement.xml`: by leading number, then by name. */
const byNumber = (a: string, b: string) => (parseInt(a, 10) || Infinity) - (parseInt(b, 10) || Infinity) || a.localeCompare(b);

async function readExamples(dir: string): Promise<Example[]> {
  const names = await readdir(dir).catch(() => {
    throw usage(`--home-office ${dir}: not a folder that can be read`);
  });
  const out: Example[] = [];
  for (const name of names.filter((n) => /\.xml$/i.test(n) && !n.startsWith('.')).sort(byNumber)) {
    const file = path.join(dir, name);
    const st = await lstat(file);
    if (!st.isFile() || st.size > MAX_FILE_BYTES) continue;
    out.push({ name, bytes: await readFile(file) });
  }
  if (out.length === 0) throw usage(`--home-office ${dir}: no .xml files in it (the Home Office example files are expected)`);
  return out;
}

/**
 * The file with `value` as the text of every element `name` (any namespace prefix): the
 * bytes outside those elements are kept as they are, whatever the file's encoding (the
 * names and values are ASCII, so a latin1 round trip keeps every other byte).
 */
function withValues(bytes: Buffer, name: string, value: (n: number) => string): Buffer {
  let n = 0;
  const re = new RegExp(`(<(?:[A-Za-z_][\\w.-]*:)?${name}>)[^<]*(</(?:[A-Za-z_][\\w.-]*:)?${name}>)`, 'g');
  return Buffer.from(
    bytes.toString('latin1').replace(re, (_m, open: string, close: string) => `${open}${value(++n)}${close}`),
    'latin1',
  );
}

/** A copy with a fresh file id, fresh ApplicantIDs and the demo sponsor's licence. */
function freshened(bytes: Buffer, tag: string): Buffer {
  let b = withValues(bytes, 'BulkUploadFileId', () => `HO-${tag}`);
  b = withValues(b, 'BulkReportingId', () => `HO-${tag}`);
  b = withValues(b, 'ApplicantID', (n) => `HO-${tag}-${n}`);
  return withValues(b, 'SponsorLicenceNumber', () => LICENCE);
}

const declaresNoPreviousStudy = (bytes: Buffer) =>
  /ApplicantID>/.test(bytes.toString('latin1')) && !/PreviousUKStudy>/.test(bytes.toString('latin1'));

export async function runHomeOfficeDemo(ctx: Context, dir: string, keep: boolean): Promise<number> {
  const examples = await readExamples(dir);
  const [{ getSponsor }, { sponsorDir }, { useCas }, { isoDateUtc }] = await Promise.all([
    import('../../ops/queries.ts'),
    import('../../inbox/layout.ts'),
    import('../../ops/use.ts'),
    import('../../domain/dates.ts'),
  ]);
  const started = performance.now();
  const allocation = examples.length + 1;
  const sponsor = { licence: LICENCE, name: 'Home Office example sponsor', routes: ['student' as const, 'child' as const], allocation };
  const intro = (tmp: string) =>
    `cas-bdt demo: the files of ${dir} in a new store and folder tree in ${tmp} (your own store and folders are not touched).`;
  return withDemo(ctx, { sponsor, concurrency: 2, maxFileBytes: MAX_FILE_BYTES, keep, intro }, async (demo) => {
    const { store, dataDir, rootDir, dir: tmp } = demo;
    ctx.out(
      `Sponsor ${LICENCE} (the examples' licence): Student and Child routes, allocation of ${allocation} CAS, assigned automatically.`,
    );
    ctx.out(
      'The examples all carry the same BulkUploadFileId and ApplicantID (as received, only the first would be accepted and the others\n' +
        'refused as duplicates): each is sent with a fresh file id and fresh ApplicantIDs.\n',
    );
    const stamp = Date.now().toString(36).toUpperCase();
    let sent = 0;
    /** Drops files as an upload client does and waits for their submissions. */
    const send = async (files: { name: string; bytes: Buffer }[]): Promise<(SubmissionRow | undefined)[]> => {
      await demo.drop(files);
      sent += files.length;
      const subs = await demo.submissions((all) => all.length >= sent, FILE_TIMEOUT_MS * files.length);
      return files.map((f) => subs.find((s) => s.fileName === f.name));
    };
    /** The first ASSIGNED CAS of an example without PreviousUKStudy, and that example. */
    let progression: { example: Example; casNumber: string } | undefined;
    const subs = await send(examples.map((ex, i) => ({ name: ex.name, bytes: freshened(ex.bytes, `${stamp}-${i + 1}`) })));
    for (const [i, ex] of examples.entries()) {
      const sub = subs[i];
      if (!sub) {
        ctx.err(`cas-bdt demo: ${ex.name} was not processed in time`);
        return 1;
      }
      ctx.out((await story(sub, 'a Home Office example')).join('\n'));
      if (!progression && sub.outcome === 'ACCEPTED' && declaresNoPreviousStudy(ex.bytes)) {
        const assigned = (await recordsOf(sub.resultXml)).find((r: RecordResult) => r.casNumber !== undefined);
        if (assigned?.casNumber) progression = { example: ex, casNumber: assigned.casNumber };
      }
    }
    if (progression) {
      ctx.out(
        [
          '\nThe progression rule: the Home Office example "8. WARNING - progression not provided" is example 2 with another',
          'ApplicantID; the SMS warns because it knows the person has studied in the UK before. A record that leaves out',
          'PreviousUKStudy is warned W_PROGRESSION_NOT_PROVIDED when the same person (passport number and nationality)',
          "already has a USED CAS, any sponsor's.",
        ].join('\n'),
      );
      const used = await useCas(store.db, { casNumber: progression.casNumber }, isoDateUtc(new Date()), new Date());
      if (used.kind !== 'done') {
        ctx.err(`cas-bdt demo: CAS ${progression.casNumber} could not be recorded as used`);
        return 1;
      }
      const others = used.obsoleted.length;
      ctx.out(
        `CAS ${progression.casNumber} (from ${progression.example.name}) is now recorded as used for a visa application (\`cas use\`)` +
          (others ? `; the person's ${others} other assigned CAS for overlapping courses became OBSOLETE.` : '.'),
      );
      const name = `again - ${progression.example.name}`;
      ctx.out(`${progression.example.name} is sent again, with fresh ids, as "${name}":`);
      const [sub] = await send([{ name, bytes: freshened(progression.example.bytes, `${stamp}-again`) }]);
      if (!sub) {
        ctx.err(`cas-bdt demo: ${name} was not processed in time`);
        return 1;
      }
      ctx.out((await story(sub, 'the same person, now with a used CAS')).join('\n'));
    }
    await demo.stopService();
    const held = (await getSponsor(store.db, LICENCE))!;
    ctx.out(
      `\nAllocation of ${LICENCE}: granted ${held.allocationGranted}, used ${held.allocationUsed}, unused ${held.allocationGranted - held.allocationUsed}.`,
    );
    const folder = (name: 'outbox' | 'archive' | 'rejected') => sponsorDir(rootDir, LICENCE, name);
    ctx.out(
      keep
        ? [
            `\nThe results are in ${folder('outbox')}, the inputs in ${folder('archive')} and ${folder('rejected')}.`,
            `Look further with: npx cas-bdt --data ${dataDir} --root ${rootDir} cas list --sponsor ${LICENCE}`,
            `Remove it with: rm -r ${tmp}`,
          ].join('\n')
        : '\nRun it with --keep to keep the store, the results and the inputs for a look.',
    );
    ctx.out(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s.${keep ? '' : ` The demo's folder ${tmp} is removed.`}`);
    return 0;
  });
}
