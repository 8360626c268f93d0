/** CAS lifecycle commands: assign, cas delete|withdraw|use, expire, export. */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { isIsoDate, isoDateUtc } from '../../domain/dates.ts';
import { human } from '../../domain/lifecycle.ts';
import { formatPence } from '../../domain/result.ts';
import { writeNewFile } from '../../inbox/atomic-write.ts';
import { sponsorDir, utcStamp } from '../../inbox/layout.ts';
import type { AssignTarget } from '../../ops/assign.ts';
import { settled, table, usableOutbox, usage, type Runner } from '../context.ts';
import { MAX_REASON, parseCasNumber, parseId, parseReason } from '../parse.ts';
import { parseLicence, requireSponsor } from './sponsor.ts';

// Store operations are loaded when a command runs, so that --help and other commands start without them.
const casQuery = () => import('../../ops/queries.ts');

export function parseDate(value: unknown, flag: string): string {
  const s = String(value).trim();
  if (!isIsoDate(s)) throw usage(`${flag} must be a date YYYY-MM-DD, got "${String(value)}"`);
  return s;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** `assign`, `expire` and `export` on the program; `delete`, `withdraw` and `use` in the `cas` group (cas.ts makes it). */
export function registerLifecycleCommands(program: Command, casCmd: Command, run: Runner): void {
  program
    .command('assign')
    .description('assign READY TO GO CAS created earlier (with payment); a batch is assigned all or nothing')
    .requiredOption('--sponsor <licence>', 'the sponsor')
    .option('--batch <name>', 'every READY TO GO CAS of this batch (BulkUploadFileId)')
    .addOption(new Option('--id <id>', 'one CAS by its internal id').argParser(parseId))
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const licence = parseLicence(String(opts.sponsor));
        if ((opts.batch === undefined) === (opts.id === undefined)) throw usage('give either --batch NAME or --id ID');
        const target: AssignTarget = opts.id !== undefined ? { id: Number(opts.id) } : { batch: String(opts.batch).trim() };
        const { db } = await ctx.store();
        const [{ assignLater }, { sponsorView }] = await Promise.all([import('../../ops/assign.ts'), casQuery()]);
        const cfg = ctx.config;
        const res = settled(
          await assignLater(db, licence, target, {
            now: new Date(),
            settings: { feePence: cfg.feePence, validityMonths: cfg.validityMonths },
          }),
          `sponsor ${licence}`,
        );
        const allocation = sponsorView(res.sponsor).allocation;
        const payment = {
          reference: res.payment.reference,
          casCount: res.payment.casCount,
          amount: formatPence(res.payment.amountPence),
          currency: res.payment.currency,
        };
        if (opts.json)
          return ctx.json({ sponsorLicenceNumber: licence, assigned: res.assigned, expiryDate: res.expiresOn, payment, allocation });
        ctx.out(
          [
            `Assigned ${res.assigned.length} CAS of ${licence}, valid until ${res.expiresOn}. Payment ${payment.reference}: ${payment.amount} ${payment.currency}.`,
            table(
              ['ID', 'CAS NUMBER'],
              res.assigned.map((a) => [a.id, a.casNumber]),
            ),
            `Allocation: granted ${allocation.granted}, used ${allocation.used}, unused ${allocation.unused}.`,
          ].join('\n'),
        );
      }),
    );

  casCmd
    .command('delete')
    .description('delete an unassigned CAS (WORK IN PROGRESS or READY TO GO); assigned CAS are never deleted')
    .addOption(new Option('--id <id>', 'the internal CAS id').argParser(parseId).makeOptionMandatory())
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const id = Number(opts.id);
        const { db } = await ctx.store();
        const { deleteCas } = await import('../../ops/delete.ts');
        const res = settled(await deleteCas(db, { id }, new Date()), `CAS id ${id}`);
        if (opts.json) return ctx.json({ id, deleted: true, previousStatus: res.from, sponsorLicenceNumber: res.sponsorLicenceNumber });
        ctx.out(`Deleted CAS id ${id} of ${res.sponsorLicenceNumber} (was ${human(res.from)}).`);
      }),
    );

  casCmd
    .command('withdraw')
    .description('withdraw an ASSIGNED CAS')
    .argument('<cas-number>', 'the CAS number', parseCasNumber)
    .addOption(new Option('--reason <text>', `why, kept in the CAS's history (at most ${MAX_REASON} characters)`).argParser(parseReason))
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, casNumber: string) => {
        const { db } = await ctx.store();
        const [{ withdrawCas }, { findCas }] = await Promise.all([import('../../ops/withdraw.ts'), casQuery()]);
        const reason = `withdrawn by the sponsor (cas-bdt cas withdraw)${opts.reason !== undefined ? `: ${String(opts.reason)}` : ''}`;
        settled(await withdrawCas(db, { casNumber }, new Date(), reason), `CAS ${casNumber}`);
        const view = await findCas(db, { casNumber });
        if (opts.json) return ctx.json(view);
        ctx.out(`${casNumber} withdrawn (was ASSIGNED).`);
      }),
    );

  casCmd
    .command('use')
    .description('record a visa application made with a CAS; other ASSIGNED CAS of the person for overlapping courses become OBSOLETE')
    .argument('<cas-number>', 'the CAS number', parseCasNumber)
    .option('--date <date>', 'the application date, YYYY-MM-DD (default today, UTC)')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts, casNumber: string) => {
        const date = opts.date !== undefined ? parseDate(opts.date, '--date') : isoDateUtc(new Date());
        const { db } = await ctx.store();
        const [{ useCas }, { findCas }] = await Promise.all([import('../../ops/use.ts'), casQuery()]);
        const res = settled(await useCas(db, { casNumber }, date, new Date()), `CAS ${casNumber}`);
        const obsoleted = res.obsoleted.map((o) => ({ casNumber: o.casNumber, sponsorLicenceNumber: o.sponsorLicenceNumber }));
        if (opts.json) return ctx.json({ ...(await findCas(db, { casNumber })), obsoleted });
        ctx.out(
          [
            `${casNumber} is USED (application ${date}; was ${human(res.from)}).`,
            obsoleted.length
              ? `Made OBSOLETE (${obsoleted.length}):\n${table(
                  ['CAS NUMBER', 'SPONSOR'],
                  obsoleted.map((o) => [o.casNumber, o.sponsorLicenceNumber]),
                )}`
              : 'No other CAS made OBSOLETE.',
          ].join('\n'),
        );
      }),
    );

  program
    .command('expire')
    .description('run the expiry sweep: ASSIGNED CAS whose expiry date has passed become EXPIRED')
    .option('--as-of <date>', 'expire CAS whose expiry date is before this date, YYYY-MM-DD (default today, UTC)')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const asOf = opts.asOf !== undefined ? parseDate(opts.asOf, '--as-of') : isoDateUtc(new Date());
        const { db } = await ctx.store();
        const { expireDue } = await import('../../ops/expire.ts');
        const casNumbers = await expireDue(db, asOf, new Date(), 'expiry sweep (cas-bdt expire)');
        if (opts.json) return ctx.json({ asOf, expired: casNumbers.length, casNumbers });
        ctx.out(`Expired ${casNumbers.length} CAS (as of ${asOf}).${casNumbers.length ? `\n${casNumbers.join('\n')}` : ''}`);
      }),
    );

  program
    .command('export')
    .description("write the export XML of a sponsor's assigned (ever) CAS with their current status")
    .requiredOption('--sponsor <licence>', 'the sponsor')
    .option('--out <file>', 'where to write it (default <root>/<LICENCE>/outbox/export-<UTC yyyymmddThhmmssZ>.xml); never overwritten')
    .option('--zip', 'the XML inside a zip, as the SMS delivers exports (default name EXP-YYYY-MM-DD-<milliseconds>.zip)')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const licence = parseLicence(String(opts.sponsor));
        await requireSponsor(ctx, licence);
        const now = new Date();
        const zip = opts.zip ? await import('../../xml/export-zip.ts') : undefined;
        let dir: string;
        let names: string[];
        let realDir: string | undefined;
        if (opts.out !== undefined) {
          const file = path.resolve(ctx.io.cwd, String(opts.out));
          if (await exists(file)) throw usage(`${file} already exists; exports never overwrite a file`);
          dir = path.dirname(file);
          names = [path.basename(file)];
        } else {
          dir = sponsorDir(ctx.config.rootDir, licence, 'outbox');
          // Exports (with family names) never go through a sponsor folder that is a link.
          realDir = await usableOutbox(ctx.config.rootDir, licence);
          const stamp = zip ? zip.exportZipName(now).slice(0, -'.zip'.length) : `export-${utcStamp(now)}`;
          const ext = zip ? 'zip' : 'xml';
          // Two exports in the same second get distinct names.
          names = [`${stamp}.${ext}`, ...Array.from({ length: 50 }, (_, k) => `${stamp}-${k + 2}.${ext}`)];
        }
        const { db } = await ctx.store();
        const [{ exportRows }, { renderExport }] = await Promise.all([casQuery(), import('../../xml/export-xml.ts')]);
        const rows = await exportRows(db, licence);
        const xml = renderExport({ licence, generatedAt: now, rows });
        // The entry is named after the archive: EXP-....zip holds EXP-....xml.
        const content = zip ? await zip.zipOne(`${path.basename(names[0]!).replace(/\.zip$/i, '')}.xml`, xml, now) : xml;
        const file = await writeNewFile(dir, names, content, realDir);
        if (opts.json) return ctx.json({ sponsorLicenceNumber: licence, file, casCount: rows.length, generatedAt: now.toISOString() });
        ctx.out(`Exported ${rows.length} CAS of ${licence} to ${file}.`);
      }),
    );
}
