/** Building lifecycle scenarios through the real pipeline, and looking at CAS afterwards. */
import { asc, eq } from 'drizzle-orm';
import { casHistory, findCas, listCas, type CasView } from '../../src/db/cas-query.ts';
import type { Db, Store } from '../../src/db/client.ts';
import { cas, casEvents } from '../../src/db/schema.ts';
import { casXml, uploadBytes, type CasSpec } from './bdt.ts';
import { processFile, type Processed } from '../../src/pipeline/process-file.ts';
import { sha256Of } from '../../src/inbox/read-file.ts';
import { parseResult, PipelineHarness, type ParsedResult } from './pipeline.ts';

let seq = 0;
/** A fresh valid licence number, so tests sharing a store do not see each other's sponsors. */
export function licenceFor(prefix: string): string {
  seq++;
  return `${prefix.slice(0, 4).toUpperCase().padEnd(4, 'X')}${String(seq).padStart(4, '0')}${seq % 10}`;
}

export class Scenario {
  readonly h: PipelineHarness;

  constructor(readonly store: Store) {
    this.h = new PipelineHarness(store);
  }

  get db(): Db {
    return this.store.db;
  }

  sponsor(licence: string, opts: { allocation?: number; autoAssign?: boolean; routes?: ('student' | 'child')[] } = {}): Promise<string> {
    return this.h.sponsor({
      licence,
      allocation: opts.allocation ?? 100,
      autoAssign: opts.autoAssign ?? true,
      routes: opts.routes ?? ['student'],
    });
  }

  /**
   * Processes a file through the real pipeline (XSD validation included) at `now`.
   * The result file itself is not written nor validated here: the pipeline tests do that.
   */
  async process(licence: string, bytes: Buffer, name: string, now?: Date): Promise<Processed & { result: ParsedResult }> {
    const processed = await processFile(
      { db: this.db, settings: this.h.settings, ...(now ? { clock: () => now } : {}) },
      { sponsorLicenceNumber: licence, fileName: name, bytes, size: bytes.length, sha256: sha256Of(bytes), receivedAt: now ?? new Date() },
    );
    return { ...processed, result: parseResult(processed.resultXml) };
  }

  /** Uploads one file of these records for `licence`, processed at `now`; fails unless ACCEPTED. */
  async upload(licence: string, fileId: string, specs: CasSpec[], opts: { now?: Date; route?: 'student' | 'child' } = {}) {
    const route = opts.route ?? 'student';
    const run = await this.process(
      licence,
      uploadBytes({ licence, fileId, route, records: specs.map((s) => casXml(s, route)) }),
      `${fileId}.xml`,
      opts.now,
    );
    if (run.result.Outcome !== 'ACCEPTED') throw new Error(`upload ${fileId} was not accepted: ${run.resultXml}`);
    return run;
  }

  /** The sponsor's one CAS for this applicant (and course start, when several). */
  async cas(licence: string, applicantId: string, courseStartDate?: string): Promise<CasView> {
    const rows = (await listCas(this.db, { licence, applicantId })).filter(
      (r) => !courseStartDate || r.courseStartDate === courseStartDate,
    );
    if (rows.length !== 1) throw new Error(`expected one CAS of ${licence}/${applicantId}, found ${rows.length}`);
    return rows[0]!;
  }

  async reload(v: { id: number }): Promise<CasView | undefined> {
    return findCas(this.db, { id: v.id });
  }

  history(v: { id: number }) {
    return casHistory(this.db, v.id);
  }

  /** Everything stored about a CAS, to show that a refused operation changed nothing. */
  async snapshot(v: { id: number }) {
    const [row] = await this.db.select().from(cas).where(eq(cas.id, v.id));
    const events = await this.db.select().from(casEvents).where(eq(casEvents.casId, v.id)).orderBy(asc(casEvents.id));
    return { row, events };
  }
}
