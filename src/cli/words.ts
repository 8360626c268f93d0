/** Plain English for counts: "1 record", "2 records". */

/** `n` with the singular or plural noun ("1 record", "3 records"). */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
