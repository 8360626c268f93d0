import { describe, expect, it } from 'vitest';
import { CAS_NUMBER_PATTERN, casNumberCheckChar, generateCasNumber, isValidCasNumber } from '../../src/domain/cas-number.ts';

/** A deterministic "random" source that replays the given draws. */
function replay(draws: number[]): (max: number) => number {
  let i = 0;
  return () => {
    const v = draws[i++];
    if (v === undefined) throw new Error('ran out of draws');
    return v;
  };
}

/** Mulberry32: a seeded generator so the property tests are repeatable. */
function seeded(seed: number): (max: number) => number {
  let a = seed >>> 0;
  return (max) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(r * max);
  };
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

describe('casNumberCheckChar', () => {
  it('computes ISO 7064 MOD 11-2 over values 0-9, A=10..Z=35', () => {
    expect(casNumberCheckChar('E4G0AA0A00A0A')).toBe('1');
    expect(casNumberCheckChar('E4C1BC2D34E5F')).toBe('8');
    expect(casNumberCheckChar('E4G9ZZ9Z99Z9Z')).toBe('4');
  });

  it('writes a check value of 10 as X', () => {
    expect(casNumberCheckChar('E4G0AA0A00A0B')).toBe('X');
    expect(casNumberCheckChar('E4G3LH3Y74A6R')).toBe('X');
  });

  it('refuses input that is not 13 characters of 0-9 A-Z', () => {
    expect(() => casNumberCheckChar('E4G0AA0A00A0')).toThrow(/13 characters/);
    expect(() => casNumberCheckChar('E4G0AA0A00A0a')).toThrow(/Not a CAS number character/);
  });
});

describe('generateCasNumber', () => {
  it('builds the prefix, the drawn characters in pattern order and the check character', () => {
    // digit, letter, letter, digit, letter, digit, digit, letter, digit, letter
    const draws = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    expect(generateCasNumber('student', replay(draws))).toBe('E4G0AA0A00A0A1');
    expect(generateCasNumber('child', replay([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]))).toBe('E4C1BC2D34E5F8');
  });

  it('asks for 10 values for digits and 26 for letters, in pattern order', () => {
    const asked: number[] = [];
    generateCasNumber('student', (max) => {
      asked.push(max);
      return 0;
    });
    expect(asked).toEqual([10, 26, 26, 10, 26, 10, 10, 26, 10, 26]);
  });

  it('uses the top of each range', () => {
    expect(generateCasNumber('student', replay([9, 25, 25, 9, 25, 9, 9, 25, 9, 25]))).toBe('E4G9ZZ9Z99Z9Z4');
  });

  it('throws when the random source returns something out of range', () => {
    expect(() => generateCasNumber('student', () => 10)).toThrow(/outside \[0, 10\)/);
    expect(() => generateCasNumber('student', () => -1)).toThrow(/outside/);
    expect(() => generateCasNumber('student', () => 0.5)).toThrow(/outside/);
  });

  it('always matches the pattern and validates (seeded sample)', () => {
    const rnd = seeded(42);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const route = i % 2 === 0 ? 'student' : 'child';
      const n = generateCasNumber(route, rnd);
      expect(n).toMatch(CAS_NUMBER_PATTERN);
      expect(n.slice(0, 3)).toBe(route === 'student' ? 'E4G' : 'E4C');
      expect(isValidCasNumber(n)).toBe(true);
      seen.add(n);
    }
    expect(seen.size).toBe(2000);
  });
});

describe('isValidCasNumber', () => {
  it('accepts a number with the right check character', () => {
    expect(isValidCasNumber('E4G0AA0A00A0A1')).toBe(true);
    expect(isValidCasNumber('E4G0AA0A00A0BX')).toBe(true);
  });

  it('refuses a wrong check character', () => {
    expect(isValidCasNumber('E4G0AA0A00A0A2')).toBe(false);
    expect(isValidCasNumber('E4G0AA0A00A0AX')).toBe(false);
  });

  it('refuses anything off the pattern', () => {
    expect(isValidCasNumber('')).toBe(false);
    expect(isValidCasNumber('E4X0AA0A00A0A1')).toBe(false); // route letter
    expect(isValidCasNumber('e4g0AA0A00A0A1')).toBe(false); // lower case
    expect(isValidCasNumber('E4G0AA0A00A0A1 ')).toBe(false); // trailing space
    expect(isValidCasNumber('E4GAAA0A00A0A1')).toBe(false); // letter where a digit goes
    expect(isValidCasNumber('E4G0AA0A00A0A')).toBe(false); // 13 characters
  });

  it('detects every single-character substitution in digit positions and of the check character', () => {
    const rnd = seeded(7);
    for (let k = 0; k < 50; k++) {
      const n = generateCasNumber('student', rnd);
      // Digit positions of E4G + DLLDLDDLDL, and the check character.
      for (const pos of [3, 6, 8, 9, 11, 13]) {
        const options = pos === 13 ? '0123456789X' : '0123456789';
        for (const c of options) {
          if (c === n[pos]) continue;
          const typo = n.slice(0, pos) + c + n.slice(pos + 1);
          expect(isValidCasNumber(typo), `${n} -> ${typo}`).toBe(false);
        }
      }
    }
  });

  it('detects swapping two adjacent different characters whose values differ mod 11', () => {
    const rnd = seeded(99);
    let checked = 0;
    for (let k = 0; k < 200; k++) {
      const n = generateCasNumber('child', rnd);
      for (let pos = 3; pos < 12; pos++) {
        const a = n[pos] as string;
        const b = n[pos + 1] as string;
        if ((ALPHABET.indexOf(a) - ALPHABET.indexOf(b)) % 11 === 0) continue;
        const swapped = n.slice(0, pos) + b + a + n.slice(pos + 2);
        if (!CAS_NUMBER_PATTERN.test(swapped)) continue; // a digit/letter swap is caught by the pattern anyway
        expect(isValidCasNumber(swapped), `${n} -> ${swapped}`).toBe(false);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
