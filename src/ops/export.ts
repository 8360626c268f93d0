/**
 * Exports (results.md, spec section 6): the document of a sponsor's CAS on demand
 * (`cas-bdt export`), and the deliveries `watch --export-every` writes into each
 * sponsor's outbox: a zip of every CAS whose history changed since the last delivery.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../db/client.ts';
import { finishDelivery, openDelivery, recordDeliveryFile, type DeliveryRow } from '../db/deliveries.ts';
import { changedInRange, exportRows, exportRowsOf } from '../db/export.ts';
import { getSponsor } from '../db/sponsors.ts';
import { exportStem, type ExportFilter, type ExportSchema } from '../domain/export.ts';
import { writeNewFile } from '../inbox/atomic-write.ts';
import { renderExport } from '../xml/export-xml.ts';
import { zipOne } from '../xml/export-zip.ts';

export { countDeliveries, listDeliveries } from '../db/deliveries.ts';

interface ExportContent {
  xml: string;
  casCount: number;
  schema: ExportSchema;
}

/** The export XML of the sponsor's CAS (all ever assigned, or as filtered), in the sponsor's export schema; undefined for an unknown sponsor. */
export async function exportDocument(db: Db, licence: string, filter: ExportFilter, now: Date): Promise<ExportContent | undefined> {
  const sponsor = await getSponsor(db, licence);
  if (!sponsor) return undefined;
  const rows = await exportRows(db, licence, filter);
  const xml = renderExport({ licence, schema: sponsor.exportSchema, generatedAt: now, changedSince: filter.changedSince, rows });
  return { xml, casCount: rows.length, schema: sponsor.exportSchema };
}

/** `CASEXPORT-<L>-<UTC>.zip` holding `CASEXPORT-<L>-<UTC>.xml`. */
export const exportZip = (zipName: string, xml: string, at: Date) => zipOne(`${zipName.replace(/\.zip$/i, '')}.xml`, xml, at);

/** Where a sponsor's delivery is written: the outbox, and where it really is (checked after the write). */
export type OutboxOf = (licence: string) => Promise<{ dir: string; realDir: string | undefined } | undefined>;

/** A pause inside a delivery, for tests that kill the process there (never set in production). */
export type DeliveryPause = 'before-file' | 'after-file';

export interface DeliveryOptions {
  me: number;
  leaseMs: number;
  now: Date;
  /** Deliver a sponsor only when its last delivery is at least this old (ms); 0: whenever anything changed. */
  minAgeMs: number;
  outbox: OutboxOf;
  pause?: ((at: DeliveryPause, row: DeliveryRow) => Promise<void>) | undefined;
  /** Told when the sponsor was due and nothing had changed since its last delivery. */
  onNothing?: (() => void) | undefined;
}

export interface Delivered {
  licence: string;
  file: string;
  casCount: number;
  lastEventId: number | null;
  /** A delivery a stopped instance had opened, finished now. */
  resumed: boolean;
  /** Its file was already there (written before the stop): only the record was finished. */
  found: boolean;
}

const exists = (file: string) =>
  lstat(file).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The file's sha256, or undefined when there is no such regular file (links are never followed). */
async function shaOfFile(file: string): Promise<string | undefined> {
  const st = await lstat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st?.isFile()) return undefined;
  return sha256(await readFile(file));
}

/** `CASEXPORT-<L>-<stamp>.zip`, or with `-2`, `-3`... when that name is taken in the outbox (an export made in the same second). */
async function freeName(dir: string, stem: string): Promise<string> {
  for (let k = 1; k <= 100; k++) {
    const name = k === 1 ? `${stem}.zip` : `${stem}-${k}.zip`;
    if (!(await exists(path.join(dir, name)))) return name;
  }
  throw new Error(`every name for ${stem}.zip is taken in ${dir}`);
}

/**
 * Delivers the sponsor's delta, if anything changed since its last delivery (or finishes
 * one a stopped instance left). The delivery is recorded `pending` before anything is
 * written; the name and sha256 of its file are recorded before the file is written, and
 * the delivery is `done` after. After a stop at any point, whoever finishes it knows
 * whether the file was written (a file of that name with that content) and writes it only
 * if not: each change is delivered in one file, never two.
 */
export async function deliverExport(db: Db, licence: string, o: DeliveryOptions): Promise<Delivered | undefined> {
  const sponsor = await getSponsor(db, licence);
  if (!sponsor) return undefined;
  const outbox = await o.outbox(licence);
  if (!outbox) return undefined;
  const opened = await openDelivery(db, {
    licence,
    me: o.me,
    leaseMs: o.leaseMs,
    now: o.now,
    minAgeMs: o.minAgeMs,
    fileName: (at) => `${exportStem(licence, at)}.zip`,
  });
  if (opened.kind === 'nothing') o.onNothing?.();
  if (opened.kind !== 'open') return undefined;
  const row = opened.row;
  const changed = await changedInRange(db, licence, row.fromTx, row.toTx);
  let file = path.join(outbox.dir, row.fileName);
  const found = opened.resumed && row.sha256 !== null && (await shaOfFile(file)) === row.sha256;
  let casCount = changed.ids.length;
  if (!found) {
    await o.pause?.('before-file', row);
    const rows = await exportRowsOf(db, changed.ids);
    casCount = rows.length;
    const xml = renderExport({
      licence,
      schema: sponsor.exportSchema,
      generatedAt: row.deliveredAt,
      changedSince: row.changedSince ?? undefined,
      rows,
    });
    const name = await freeName(outbox.dir, exportStem(licence, row.deliveredAt));
    const zip = await exportZip(name, xml, row.deliveredAt);
    if (!(await recordDeliveryFile(db, row.id, o.me, name, sha256(zip)))) return undefined;
    file = await writeNewFile(outbox.dir, [name], zip, outbox.realDir);
  }
  await o.pause?.('after-file', row);
  if (!(await finishDelivery(db, row.id, o.me, casCount, changed.lastEventId))) return undefined;
  return { licence, file, casCount, lastEventId: changed.lastEventId, resumed: opened.resumed, found };
}
