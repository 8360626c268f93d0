/**
 * The values of the command line, one parser per kind. Argument parsers for commander
 * (`Option.argParser`, `Argument.argParser`): a bad value is a usage error (exit 2)
 * reported by commander with the option's name, before any store is opened. Numbers are
 * bounded so that nothing out of range ever reaches the database. The checks that an
 * action makes (licence numbers, routes, dates) name their flag and are told like
 * commander's, with the usage line.
 */
import { Argument, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { CAS_NUMBER_PATTERN, casNumberCheckChar } from '../domain/cas-number.ts';
import { isIsoDate } from '../domain/dates.ts';
import { parsePounds } from '../domain/fees.ts';
import { wholeNumberIn } from '../domain/numbers.ts';
import { LICENCE_PATTERN, ROUTES, type Route } from '../domain/types.ts';
import { usage } from './context.ts';

/** Most CAS granted at once (the allocation columns are 32-bit). */
export const MAX_GRANT = 1_000_000;

export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = wholeNumberIn(value, min, max);
    if (n === undefined) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** Internal ids (CAS, submissions): what a JavaScript number holds exactly. */
export const parseId = wholeNumber(1, Number.MAX_SAFE_INTEGER);

/** A CAS number: the pattern, then the check character, so a mistyped number is not "not found". */
export function parseCasNumber(value: string): string {
  const n = value.trim().toUpperCase();
  if (!CAS_NUMBER_PATTERN.test(n)) throw new InvalidArgumentError('not a CAS number (14 characters starting E4G or E4C)');
  if (casNumberCheckChar(n.slice(0, 13)) !== n[13])
    throw new InvalidArgumentError('not a valid CAS number: its check character does not match (mistyped?)');
  return n;
}

/** An amount in GBP as the BDT files write it (`5000`, `5000.5`, `5000.00`), in pence; undefined when it is not one. */
export function gbpPence(value: string): number | undefined {
  const s = value.trim();
  return /^\d{1,9}(\.\d{1,2})?$/.test(s) ? parsePounds(s) : undefined;
}

/** An amount in GBP (`--course-paid`): pence. */
export function parseGbp(value: string): number {
  const pence = gbpPence(value);
  if (pence === undefined) throw new InvalidArgumentError('expected an amount in GBP from 0 to 999999999.99, e.g. 5000.00');
  return pence;
}

/** Longest operator reason kept in a CAS's history. */
export const MAX_REASON = 500;

/** An operator's reason (`--reason`): one line of printable text, kept in the history. */
export function parseReason(value: string): string {
  const s = value.trim();
  if (!s) throw new InvalidArgumentError('must not be empty');
  if (s.length > MAX_REASON) throw new InvalidArgumentError(`at most ${MAX_REASON} characters`);
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(s)) throw new InvalidArgumentError('one line of text, without control characters');
  return s;
}

/** One of `values`, after `normalize` maps what people type (any case, spaces for underscores) to it. */
function oneOf<T extends string>(values: readonly T[], normalize: (value: string) => string): (value: string) => T {
  return (value) => {
    const v = normalize(value.trim());
    if (!(values as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return v as T;
  };
}

const asTyped = (v: string) => v;

/**
 * An option that takes one of `values`: commander's choices (which type it, list the values
 * in --help unless the description does, and let the usage test find it), with `normalize`
 * applied before the check.
 */
export function choiceOption<const Flags extends string, T extends string>(
  flags: Flags,
  description: string,
  values: readonly T[],
  normalize: (value: string) => string = asTyped,
) {
  return new Option(flags, description).choices(values).argParser(oneOf(values, normalize));
}

/** An argument that takes one of `values`, as `choiceOption`. */
export function choiceArgument<const Name extends string, T extends string>(
  name: Name,
  description: string,
  values: readonly T[],
  normalize: (value: string) => string = asTyped,
) {
  return new Argument(name, description).choices(values).argParser(oneOf(values, normalize));
}

export const upperCase = (v: string) => v.toUpperCase().replaceAll(' ', '_');
export const lowerCase = (v: string) => v.toLowerCase();

export function parseLicence(value: string): string {
  const licence = value.trim().toUpperCase();
  if (!LICENCE_PATTERN.test(licence)) throw usage(`"${value}" is not a sponsor licence number (9 characters, [A-Z0-9]{8}[0-9X])`);
  return licence;
}

/** `--routes`: student, child or both, comma-separated. */
export function parseRoutes(value: string): Route[] {
  const routes = [
    ...new Set(
      value
        .split(',')
        .map((r) => r.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  if (routes.length === 0 || routes.some((r) => !(ROUTES as readonly string[]).includes(r))) {
    throw usage(`--routes takes student, child or student,child; got "${value}"`);
  }
  return routes as Route[];
}

/** A day `YYYY-MM-DD` given with `flag`. */
export function parseDate(value: string, flag: string): string {
  const s = value.trim();
  if (!isIsoDate(s)) throw usage(`${flag} must be a date YYYY-MM-DD, got "${value}"`);
  return s;
}
