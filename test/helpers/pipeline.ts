/** Runs the real pipeline against a test store, writing results to a temporary outbox. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { emitResult } from '../../src/pipeline/emit.ts';
import { processFile, type PipelineDeps, type Processed } from '../../src/pipeline/process-file.ts';
import { sha256Of } from '../../src/inbox/read-file.ts';
import { addSponsor } from '../../src/db/sponsors.ts';
import type { Store } from '../../src/db/client.ts';
import type { Route } from '../../src/domain/types.ts';
import { validateXsd } from '../../src/xml/xsd.ts';
import { tempDir } from './stores.ts';

const LICENCE = 'QHDGHB91X';

export interface Run extends Processed {
  resultFile: string;
  /** The result XML parsed (namespace prefixes removed, attributes as `@_x`). */
  result: ParsedResult;
}

export interface ParsedRecord {
  '@_index': string;
  '@_applicantId'?: string;
  '@_casNumber'?: string;
  '@_report'?: string;
  Outcome: string;
  Status?: string;
  CASNumber?: string;
  ExpiryDate?: string;
  DueDate?: string;
  Issue?: { '@_severity': string; '@_code': string; '@_field'?: string; '#text': string }[];
}

export interface ParsedResult {
  Submission: Record<string, string>;
  Outcome: string;
  Summary: Record<string, string>;
  FileErrors?: { Error: { '@_code': string; '@_line'?: string; '@_column'?: string; '#text': string }[] };
  Payment?: Record<string, string>;
  Records?: { Record: ParsedRecord[] };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  removeNSPrefix: true,
  isArray: (name) => name === 'Record' || name === 'Issue' || name === 'Error',
});

export function parseResult(xml: string): ParsedResult {
  return (parser.parse(xml) as { BulkResult: ParsedResult }).BulkResult;
}

export const issueCodes = (r: ParsedRecord) => (r.Issue ?? []).map((i) => i['@_code']);

export class PipelineHarness {
  readonly outDir = tempDir('cas-bdt-out-');
  now: Date | undefined;

  constructor(
    readonly store: Store,
    readonly settings: PipelineDeps['settings'] = { feePence: 2500, validityMonths: 6, maxFileBytes: 200 * 1024 * 1024 },
  ) {}

  async sponsor(opts: { licence?: string; routes?: Route[]; allocation?: number; autoAssign?: boolean } = {}): Promise<string> {
    const licence = opts.licence ?? LICENCE;
    await addSponsor(
      this.store.db,
      {
        licenceNumber: licence,
        name: `Sponsor ${licence}`,
        routes: opts.routes ?? ['student'],
        autoAssign: opts.autoAssign ?? true,
        allocation: opts.allocation ?? 100,
      },
      new Date(),
    );
    return licence;
  }

  /** Processes bytes as a file named `name` dropped for `licence`; validates the result against the result XSD. */
  async run(bytes: Buffer, name = 'upload.xml', licence = LICENCE, deps: Partial<PipelineDeps> = {}): Promise<Run> {
    const processed = await processFile(
      { db: this.store.db, settings: this.settings, ...(this.now ? { clock: () => this.now! } : {}), ...deps },
      { sponsorLicenceNumber: licence, fileName: name, bytes, size: bytes.length, sha256: sha256Of(bytes), receivedAt: new Date() },
    );
    const resultFile = await emitResult(this.store.db, this.outDir, {
      submissionId: processed.submissionId,
      fileName: name,
      resultXml: processed.resultXml,
    });
    const violations = await validateXsd({ file: resultFile }, 'result');
    if (violations.length) throw new Error(`result does not validate: ${JSON.stringify(violations)}\n${processed.resultXml}`);
    return { ...processed, resultFile, result: parseResult(readFileSync(resultFile, 'utf8')) };
  }

  resultPath(name: string): string {
    return path.join(this.outDir, name);
  }
}
