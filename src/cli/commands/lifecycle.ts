/** CAS lifecycle commands: assign, cas delete|withdraw|use, expire, export. */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { isIsoDate, isoDateUtc } from '../../domain/dates.ts';
import { exportStem, type ExportFilter } from '../../domain/export.ts';
import { ASSIGNED_STATUSES, type CasStatus } from '../../domain/types.ts';
import { human } from '../../domain/lifecycle.ts';
import { formatPence } from '../../domain/result.ts';
import { writeNewFile } from '../../inbox/atomic-write.ts';
import { sponsorDir } from '../../inbox/layout.ts';
import type { AssignTarget } from '../../ops/assign.ts';
import { notFound, settled, table, usableOutbox, usage, type Runner } from '../context.ts';
import { addPagingOptions, listingFooter, pagingOf } from '../paging.ts';
import { MAX_REASON, parseCasNumber, parseId, parseReason } from '../parse.ts';
import { parseLicence, requireSponsor } from './sponsor.ts';
import { writeOwedStatementsOf } from './statements.ts';

// Store operations are loaded when a command runs, so that --help and other commands start without them.
const casQuery = () => import('../../ops/queries.ts');

export function parseDate(value: unknown, flag: string): string {
  const s = String(value).trim();
  if (!isIsoDate(s)) throw usage(`${flag} must be a date YYYY-MM-DD, got "${String(value)}"`);
  return s;
}

/** `--changed-since`: a day (from its start, UTC) or an ISO 8601 time that says its zone. */
function parseSince(value: string): Date {
  const s = value.trim();
  if (isIsoDate(s)) return new Date(`${s}T00:00:00Z`);
  const d = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(s) ? new Date(s) : undefined;
  if (!d || Number.isNaN(d.getTime()))
    throw usage(`--changed-since must be a day YYYY-MM-DD or a time like 2026-11-01T09:30:00Z, got "${value}"`);
  return d;
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
        await writeOwedStatementsOf(ctx, db, licence);
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
    .description("write the export XML of a sponsor's assigned (ever) CAS with their current status, in the sponsor's export schema")
    .requiredOption('--sponsor <licence>', 'the sponsor')
    .option(
      '--out <file>',
      'where to write it (default <root>/<LICENCE>/outbox/CASEXPORT-<LICENCE>-<UTC yyyymmddThhmmssZ>.xml); never overwritten',
    )
    .option('--zip', 'the XML inside a zip, as the SMS delivers exports (CASEXPORT-<LICENCE>-<UTC>.zip)')
    .option(
      '--changed-since <when>',
      'only CAS whose history changed since then: a day YYYY-MM-DD (from its start, UTC) or a time in ISO 8601 with its zone',
    )
    .option('--status <status>', `only CAS in this status now: ${ASSIGNED_STATUSES.join('|')}`)
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const licence = parseLicence(String(opts.sponsor));
        const filter: ExportFilter = {};
        if (opts.changedSince !== undefined) filter.changedSince = parseSince(String(opts.changedSince));
        if (opts.status !== undefined) {
          const status = String(opts.status).trim().toUpperCase() as CasStatus;
          if (!ASSIGNED_STATUSES.includes(status))
            throw usage(`--status must be one of ${ASSIGNED_STATUSES.join(', ')}; got "${String(opts.status)}"`);
          filter.status = status;
        }
        await requireSponsor(ctx, licence);
        const now = new Date();
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
          // Exports (with names and dates of birth) never go through a sponsor folder that is a link.
          realDir = await usableOutbox(ctx.config.rootDir, licence);
          const stem = exportStem(licence, now);
          const ext = opts.zip ? 'zip' : 'xml';
          // Two exports in the same second get distinct names.
          names = [`${stem}.${ext}`, ...Array.from({ length: 50 }, (_, k) => `${stem}-${k + 2}.${ext}`)];
        }
        const { db } = await ctx.store();
        const { exportDocument, exportZip } = await import('../../ops/export.ts');
        const doc = await exportDocument(db, licence, filter, now);
        if (!doc) throw notFound(`sponsor ${licence}`);
        // The entry is named after the archive: CASEXPORT-....zip holds CASEXPORT-....xml (the name actually free is known only on writing, so the first candidate's).
        const content = opts.zip ? await exportZip(path.basename(names[0]!), doc.xml, now) : doc.xml;
        const file = await writeNewFile(dir, names, content, realDir);
        const summary = {
          sponsorLicenceNumber: licence,
          file,
          casCount: doc.casCount,
          schema: doc.schema,
          generatedAt: now.toISOString(),
          changedSince: filter.changedSince?.toISOString() ?? null,
          status: filter.status ?? null,
        };
        if (opts.json) return ctx.json(summary);
        ctx.out(`Exported ${doc.casCount} CAS of ${licence} to ${file}.`);
      }),
    );

  addPagingOptions(
    program
      .command('exports')
      .description('the export deliveries written by `watch --export-every`, newest first')
      .option('--sponsor <licence>', "only this sponsor's")
      .option('--json', 'print JSON'),
  ).action(
    run(async (ctx, opts) => {
      const licence = opts.sponsor !== undefined ? parseLicence(String(opts.sponsor)) : undefined;
      if (licence) await requireSponsor(ctx, licence);
      const paging = pagingOf(ctx, opts);
      const { db } = await ctx.store();
      const { listDeliveries, countDeliveries } = await import('../../ops/export.ts');
      const rows = await listDeliveries(db, { licence, limit: paging.limit, offset: paging.offset });
      if (opts.json) return ctx.json(rows);
      if (!rows.length && paging.offset === 0)
        return ctx.out(
          `No export deliveries${licence ? ` for ${licence}` : ''} yet (\`cas-bdt watch --export-every DURATION\` writes them).`,
        );
      const footer = await listingFooter(paging, rows.length, () => countDeliveries(db, licence));
      ctx.out(
        [
          table(
            ['DELIVERED', 'SPONSOR', 'FILE', 'CAS', 'LAST EVENT', 'CHANGED SINCE'],
            rows.map((r) => [
              r.deliveredAt,
              r.sponsorLicenceNumber,
              r.file + (r.state === 'pending' ? ' (being written)' : ''),
              r.casCount ?? '',
              r.lastEventId ?? '',
              r.changedSince ?? '(everything)',
            ]),
          ),
          ...(footer ? [footer] : []),
        ].join('\n'),
      );
    }),
  );
}
