import { describe, expect, it } from 'vitest';
import { HOME_OFFICE_EXTRA_CODES, isValidCountryCode } from '../../src/domain/countries.ts';

const plain = { allowStateless: false };
const nationality = { allowStateless: true };

describe('isValidCountryCode', () => {
  it('accepts ISO 3166-1 alpha-3 codes', () => {
    for (const code of ['GBR', 'AFG', 'GEO', 'USA', 'CHN', 'IND', 'ZWE', 'ALA']) {
      expect(isValidCountryCode(code, plain), code).toBe(true);
    }
  });

  it('accepts every Home Office extra code', () => {
    expect(HOME_OFFICE_EXTRA_CODES).toEqual([
      'BNO',
      'BOC',
      'BTC',
      'GBD',
      'GBN',
      'GBO',
      'GBP',
      'GBS',
      'UNA',
      'UNO',
      'XXA',
      'XXB',
      'XXC',
      'XXX',
      'UNS',
      'XXK',
    ]);
    for (const code of HOME_OFFICE_EXTRA_CODES) {
      expect(isValidCountryCode(code, plain), code).toBe(true);
    }
  });

  it('refuses codes that only look like country codes', () => {
    for (const code of ['ZZZ', 'UKK', 'XKX', 'EUR', 'ABC', 'gbr', 'GB', 'GBRR', ' GBR', '']) {
      expect(isValidCountryCode(code, nationality), JSON.stringify(code)).toBe(false);
    }
  });

  it('accepts STATELESS, with or without its quotes, only for Nationality', () => {
    expect(isValidCountryCode('"STATELESS"', nationality)).toBe(true);
    expect(isValidCountryCode('STATELESS', nationality)).toBe(true);
    expect(isValidCountryCode('"STATELESS"', plain)).toBe(false);
    expect(isValidCountryCode('STATELESS', plain)).toBe(false);
    expect(isValidCountryCode('stateless', nationality)).toBe(false);
  });
});
