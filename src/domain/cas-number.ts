/**
 * CAS numbers: 14 characters matching
 * `E4[CG][0-9][A-Z]{2}[0-9][A-Z][0-9]{2}[A-Z][0-9][A-Z][0-9X]`, the last one a check
 * character so that a mistyped number is detected.
 *
 * Check character scheme: ISO/IEC 7064 MOD 11-2 (the pure system used by ISO 27729 /
 * ORCID), applied to character values 0-9 for digits and A=10 ... Z=35 for letters:
 *
 *   p = 0; for each of the first 13 characters c: p = ((p + value(c)) * 2) mod 11
 *   check = (12 - p) mod 11, written as 0-9, or X for 10.
 *
 * Equivalently, the character values are weighted 2^13 ... 2^1 (mod 11) and the check
 * value makes the weighted total of all 14 characters congruent to 1 mod 11. Powers of 2
 * are never 0 mod 11, so unlike plain position weights such as 2..14 (where 11 is 0 mod
 * 11 and that position would be unchecked) every position is covered: any single
 * mistyped digit and any swap of two adjacent characters that differ mod 11 is detected.
 * (With 36 symbols and 11 check values no scheme can catch every letter-for-letter slip.)
 */
import type { Route } from './types.ts';

export const CAS_NUMBER_PATTERN = /^E4[CG][0-9][A-Z]{2}[0-9][A-Z][0-9]{2}[A-Z][0-9][A-Z][0-9X]$/;

const DIGITS = '0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Character classes of the 10 random characters after the route prefix. */
const RANDOM_LAYOUT = 'DLLDLDDLDL';

const PREFIX: Record<Route, string> = { student: 'E4G', child: 'E4C' };

function charValue(ch: string): number {
  const code = ch.charCodeAt(0);
  if (ch.length === 1 && code >= 48 && code <= 57) return code - 48; // 0-9
  if (ch.length === 1 && code >= 65 && code <= 90) return code - 55; // A=10 .. Z=35
  throw new Error(`Not a CAS number character: ${JSON.stringify(ch)}`);
}

/** The check character over the first 13 characters of a CAS number (scheme above). */
export function casNumberCheckChar(first13: string): string {
  if (first13.length !== 13) {
    throw new Error(`casNumberCheckChar needs 13 characters, got ${first13.length}`);
  }
  let p = 0;
  for (const ch of first13) p = ((p + charValue(ch)) * 2) % 11;
  const check = (12 - p) % 11;
  return check === 10 ? 'X' : String(check);
}

/**
 * A new CAS number for the route: the prefix, 10 random characters drawn with
 * `randomInt(maxExclusive)` (which must return an integer in [0, maxExclusive); pass a
 * cryptographic source such as `crypto.randomInt` in production), and the check character.
 * Uniqueness is the store's job (a unique constraint; retry on conflict).
 */
export function generateCasNumber(route: Route, randomInt: (maxExclusive: number) => number): string {
  let s = PREFIX[route];
  for (const kind of RANDOM_LAYOUT) {
    const alphabet = kind === 'D' ? DIGITS : LETTERS;
    const i = randomInt(alphabet.length);
    if (!Number.isInteger(i) || i < 0 || i >= alphabet.length) {
      throw new Error(`randomInt(${alphabet.length}) returned ${i}, outside [0, ${alphabet.length})`);
    }
    s += alphabet[i];
  }
  return s + casNumberCheckChar(s);
}

/** Whether `s` has the CAS number pattern and a correct check character. */
export function isValidCasNumber(s: string): boolean {
  return CAS_NUMBER_PATTERN.test(s) && casNumberCheckChar(s.slice(0, 13)) === s[13];
}
