/** Whole numbers as people and query strings write them: digits only, within a range. */

/** `text` as a whole number from `min` to `max` (digits only, spaces around allowed), or undefined. */
export function wholeNumberIn(text: string, min: number, max: number): number | undefined {
  const s = text.trim();
  const n = Number(s);
  return /^\d+$/.test(s) && Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}
