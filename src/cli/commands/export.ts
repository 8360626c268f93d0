/** `cas-bdt export`: the export XML of a sponsor's CAS. */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { isIsoDate } from '../../domain/dates.ts';
import { exportStem, type ExportFilter } from '../../domain/export.ts';
import { ASSIGNED_STATUSES } from '../../domain/types.ts';
import { writeNewFile } from '../../inbox/atomic-write.ts';
import { sponsorDir } from '../../inbox/layout.ts';
import { notFound, requireSponsor, usableOutbox, usage, type Runner } from '../context.ts';
import { choiceOption, parseLicence, upperCase } from '../parse.ts';

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

export function registerExportCommand(program: Command, run: Runner): void {
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
    .addOption(
      choiceOption('--status <status>', `only CAS in this status now: ${ASSIGNED_STATUSES.join('|')}`, ASSIGNED_STATUSES, upperCase),
    )
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts) => {
        const licence = parseLicence(opts.sponsor);
        const filter: ExportFilter = {};
        if (opts.changedSince !== undefined) filter.changedSince = parseSince(opts.changedSince);
        if (opts.status !== undefined) filter.status = opts.status;
        await requireSponsor(ctx, licence);
        const now = new Date();
        let dir: string;
        let names: string[];
        let realDir: string | undefined;
        if (opts.out !== undefined) {
          const file = path.resolve(ctx.io.cwd, opts.out);
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
}
