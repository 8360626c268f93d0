/**
 * Country and nationality codes accepted in BDT records: ISO 3166-1 alpha-3 (as listed by
 * i18n-iso-countries) plus the codes the Home Office guidance adds for British nationality
 * categories, UN/refugee travel documents and unspecified or other nationalities.
 */
import countries from 'i18n-iso-countries';

/** Home Office codes that are not ISO 3166-1 alpha-3 but are valid in BDT files. */
export const HOME_OFFICE_EXTRA_CODES: readonly string[] = Object.freeze([
  // Home Office codes for British nationality categories.
  'BNO',
  'BOC',
  'BTC',
  // ICAO Doc 9303 codes: GBD British Overseas Territories Citizen, GBN British National
  // (Overseas), GBO British Overseas Citizen, GBP British Protected Person, GBS British
  // Subject, UNA/UNO United Nations agency/organisation, XXA stateless person, XXB and
  // XXC refugees, XXX unspecified nationality.
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
  // Further codes listed by the Home Office guidance.
  'UNS',
  'XXK',
]);

/** The reference NationalityType pattern spells it with the double quotes. */
const STATELESS = new Set(['"STATELESS"', 'STATELESS']);

const VALID_CODES: ReadonlySet<string> = new Set([...Object.keys(countries.getAlpha3Codes()), ...HOME_OFFICE_EXTRA_CODES]);

/**
 * Whether `code` is an accepted country code. Exact match, case-sensitive: the reference
 * schema only admits upper case. `allowStateless` is for Nationality only, which may also
 * be the literal `"STATELESS"` (with or without the double quotes).
 */
export function isValidCountryCode(code: string, opts: { allowStateless: boolean }): boolean {
  if (opts.allowStateless && STATELESS.has(code)) return true;
  return VALID_CODES.has(code);
}
