/**
 * What is written to the outbox for a stored submission: its result XML as
 * `NAME.result.xml`, or for a zip (spec section 4a) `NAME.result.zip` holding
 * `container.result.xml` and each processed entry's result; a zip refused as a whole
 * gets one plain `NAME.result.xml`, NAME without `.zip`. The result zip is rebuilt from
 * the stored results whenever it is written, with the same bytes every time.
 */
import type { Db } from '../db/client.ts';
import { getSubmission } from '../db/submissions.ts';
import type { FileSummary } from '../domain/result.ts';
import { containerResultNames, resultNames } from '../inbox/layout.ts';
import { zipMany } from '../xml/export-zip.ts';

export interface ResultSource {
  submissionId: number;
  fileName: string;
  resultXml: string;
  summary?: Pick<FileSummary, 'container'>;
  /** A zip's result files, when the pipeline has them at hand (else read from the store). */
  files?: { name: string; text: string }[] | undefined;
}

/** The zip's processing time, from its container result: the result zip's entries are dated with it. */
const processedAt = (containerXml: string) => new Date(/<ProcessedAt>([^<]+)<\/ProcessedAt>/.exec(containerXml)?.[1] ?? 0);

export async function resultFileOf(db: Db, sub: ResultSource): Promise<{ names: string[]; content: string | Buffer }> {
  const container = sub.summary?.container;
  if (!container) return { names: resultNames(sub.fileName, sub.submissionId), content: sub.resultXml };
  if (container.entries === null)
    return { names: resultNames(sub.fileName.replace(/\.zip$/i, ''), sub.submissionId), content: sub.resultXml };
  let files = sub.files;
  if (!files) {
    files = [{ name: 'container.result.xml', text: sub.resultXml }];
    for (const e of container.entries) {
      if (e.submissionId === undefined || e.result === undefined) continue;
      const row = await getSubmission(db, e.submissionId);
      if (!row) throw new Error(`submission ${e.submissionId} of zip submission ${sub.submissionId} not found`);
      files.push({ name: e.result, text: row.resultXml });
    }
  }
  return { names: containerResultNames(sub.fileName, sub.submissionId), content: await zipMany(files, processedAt(sub.resultXml)) };
}
