/** Step 10: write the stored result next to the sponsor's other results and remember where. */
import type { Db } from '../db/client.ts';
import { setResultFile } from '../db/submissions.ts';
import { writeNewFile } from '../inbox/atomic-write.ts';
import { resultNames } from '../inbox/layout.ts';

/** `realOutDir`: where `outDir` must really be (a sponsor's outbox); see `writeNewFile`. */
export async function emitResult(db: Db, outDir: string, sub: { submissionId: number; fileName: string; resultXml: string }, realOutDir?: string): Promise<string> {
  const written = await writeNewFile(outDir, resultNames(sub.fileName, sub.submissionId), sub.resultXml, realOutDir);
  await setResultFile(db, sub.submissionId, written);
  return written;
}
