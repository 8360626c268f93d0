/** Step 10: write the stored result next to the sponsor's other results and remember where. */
import type { Db } from '../db/client.ts';
import { setResultFile } from '../db/submissions.ts';
import { writeOrAdopt } from '../inbox/atomic-write.ts';
import { resultFileOf, type ResultSource } from './result-file.ts';

/** `realOutDir`: where `outDir` must really be (a sponsor's outbox); see `writeNewFile`. */
export async function emitResult(db: Db, outDir: string, sub: ResultSource, realOutDir?: string): Promise<string> {
  return (await emitResultReporting(db, outDir, sub, realOutDir)).file;
}

/** `emitResult`, saying whether the file was written now or was already there, unchanged (`rerun` tells which). */
export async function emitResultReporting(
  db: Db,
  outDir: string,
  sub: ResultSource,
  realOutDir?: string,
): Promise<{ file: string; adopted: boolean }> {
  const { names, content } = await resultFileOf(db, sub);
  const written = await writeOrAdopt(outDir, names, content, realOutDir);
  await setResultFile(db, sub.submissionId, written.file);
  return written;
}
