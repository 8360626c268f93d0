/**
 * A zipped file (spec section 4a): each `.xml` entry goes through the whole pipeline as
 * its own submission (`ZIPNAME!ENTRY`), in central-directory order, one at a time; the
 * zip itself is stored as one more submission whose result is `container.result.xml`,
 * listing every entry. Its `onStored` (the service's claim) is tied to that last one, so a
 * crash before it leaves the zip in the inbox, processed again on restart: entries
 * stored by then are found again (`EntryMemo`) or replayed by their sha256.
 */
import { findAccepted, insertSubmission } from '../db/submissions.ts';
import type { ContainerEntry, Counts, FileSummary } from '../domain/result.ts';
import { zeroCounts } from '../domain/result.ts';
import type { FileError, FileOutcome } from '../domain/types.ts';
import { sha256Of, type ReceivedFile } from '../inbox/read-file.ts';
import { readEntry, scanContainer, type ScannedEntry } from '../inbox/zip-reader.ts';
import { renderContainerResult } from '../xml/container-result-xml.ts';
import { inTransaction, takeSubmissionId } from './dry-run.ts';
import type { Processed } from './store-submission.ts';
import type { PipelineDeps } from './deps.ts';

/** An entry's result file inside the result zip: ENTRY without its final `.xml`, never the container's own name. */
function entryResultName(entryName: string, submissionId: number): string {
  const name = `${entryName.replace(/\.xml$/i, '')}.result.xml`;
  return name.toLowerCase() === 'container.result.xml' ? `${entryName.replace(/\.xml$/i, '')}.${submissionId}.result.xml` : name;
}

interface ContainerHooks {
  /** The pipeline for one entry (processFile; passed in, so that the two modules do not import each other). */
  processEntry(deps: PipelineDeps, file: ReceivedFile): Promise<Processed>;
  /** Stores the zip as REJECTED with `errors`, nothing else stored (E_ZIP_CORRUPT, E_ZIP_EMPTY, E_ZIP_LIMIT). */
  refuse(errors: FileError[]): Promise<Processed>;
}

function addCounts(total: Counts, c: Counts): void {
  for (const k of ['records', 'created', 'amended', 'assigned', 'readyToGo', 'workInProgress', 'rejected', 'reported'] as const)
    total[k] += c[k];
  if (c.updated !== undefined) total.updated = (total.updated ?? 0) + c.updated;
}

export async function processContainer(deps: PipelineDeps, file: ReceivedFile, hooks: ContainerHooks): Promise<Processed> {
  const clock = deps.clock ?? (() => new Date());
  const limits = { maxBytes: deps.settings.maxFileBytes };
  const scan = await scanContainer(file.bytes!, limits);
  if (!scan.ok) return hooks.refuse([{ code: scan.code, message: scan.message }]);
  const entries: ContainerEntry[] = [];
  const files: { name: string; text: string }[] = [];
  const done: { name: string; processed: Processed }[] = [];
  const counts = zeroCounts();
  try {
    for (const [index, scanned] of scan.entries.entries()) {
      if (scanned.problem !== undefined) {
        entries.push({ name: scanned.name, error: scanned.problem });
        continue;
      }
      const processed = await processEntry(deps, file, hooks, scan.zip, scanned, index, limits);
      const result = entryResultName(scanned.name, processed.submissionId);
      entries.push({ name: scanned.name, submissionId: processed.submissionId, outcome: processed.summary.outcome, result });
      files.push({ name: result, text: processed.resultXml });
      done.push({ name: scanned.name, processed });
      addCounts(counts, processed.summary.counts);
    }
  } finally {
    scan.zip.close();
  }
  const outcome: FileOutcome = entries.every((e) => e.outcome === 'ACCEPTED') ? 'ACCEPTED' : 'REJECTED';
  const stored = await storeContainer(deps, file, entries, outcome, counts, clock());
  return { ...stored, files: [{ name: 'container.result.xml', text: stored.resultXml }, ...files], entries: done };
}

async function processEntry(
  deps: PipelineDeps,
  zipFile: ReceivedFile,
  hooks: ContainerHooks,
  zip: Parameters<typeof readEntry>[0],
  scanned: ScannedEntry,
  index: number,
  limits: { maxBytes: number },
): Promise<Processed> {
  const memo = deps.entryMemo;
  const sha256 = scanned.sha256!;
  const earlier = memo && (await memo.stored(index, sha256));
  const found = earlier !== undefined ? await memo!.load(earlier) : undefined;
  if (found) return found;
  const bytes = await readEntry(zip, scanned, limits);
  const entryFile: ReceivedFile = {
    sponsorLicenceNumber: zipFile.sponsorLicenceNumber,
    via: zipFile.via,
    fileName: `${zipFile.fileName}!${scanned.name}`,
    bytes,
    size: bytes.length,
    sha256: sha256Of(bytes),
    receivedAt: zipFile.receivedAt,
  };
  const { entryMemo: _memo, onStored: _onStored, ...rest } = deps;
  return hooks.processEntry({ ...rest, onStored: memo ? (tx, id) => memo.onStored(tx, index, sha256, id) : undefined }, entryFile);
}

async function storeContainer(
  deps: PipelineDeps,
  file: ReceivedFile,
  entries: ContainerEntry[],
  outcome: FileOutcome,
  counts: Counts,
  now: Date,
): Promise<Processed> {
  const resultXml = renderContainerResult({
    fileName: file.fileName,
    sha256: file.sha256,
    sponsorLicenceNumber: file.sponsorLicenceNumber,
    processedAt: now,
    outcome,
    entries,
  });
  return inTransaction(deps.db, deps.dryRun, async (tx) => {
    const id = await takeSubmissionId(tx, deps.dryRun);
    // The same zip accepted before: this one is a replay of it (each of its entries was replayed too).
    const earlier = outcome === 'ACCEPTED' ? await findAccepted(tx, file.sponsorLicenceNumber, file.sha256) : undefined;
    const summary: FileSummary = {
      submissionId: id,
      file: file.fileName,
      sponsorLicenceNumber: file.sponsorLicenceNumber,
      fileType: 'UNKNOWN',
      outcome,
      replay: earlier !== undefined,
      resultFile: null,
      counts,
      fileErrors: [],
      container: { entries },
    };
    await insertSubmission(tx, {
      id,
      sponsorLicenceNumber: file.sponsorLicenceNumber,
      fileName: file.fileName,
      sha256: file.sha256,
      sizeBytes: file.size,
      fileType: 'UNKNOWN',
      fileId: null,
      outcome,
      replayOf: earlier?.id ?? null,
      receivedAt: file.receivedAt,
      processedAt: now,
      summary,
      resultXml,
      resultFile: null,
    });
    await deps.onStored?.(tx, id);
    return { submissionId: id, resultXml, summary };
  });
}
