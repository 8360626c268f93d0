/**
 * The scrubber that keeps personal data out of printed errors: a failed query's wrapper
 * quotes its SQL and parameters (names, passport numbers), and integrity errors quote the
 * offending values; neither reaches a log line or the CLI's message. Also the error
 * vocabulary: one error type whose code decides the exit code.
 */
import { describe, expect, it } from 'vitest';
import { CasBdtError, causeChain, coerceError, describeError, exitCodeOf, isCasBdtError, sqlState } from '../src/errors.ts';
import { createLogger } from '../src/log.ts';

/** What drizzle throws for a failed insert: its own wrapper around the driver's error. */
function failedQuery(driver: Error & { code?: string }): Error {
  return new Error(`Failed query: insert into "cas" ("family_name", "passport_number") values ($1, $2)\nparams: Oyelaran,P99887766`, {
    cause: driver,
  });
}

const PERSONAL = /Oyelaran|P99887766|1990-02-03/;

describe('describeError', () => {
  it("never says a failed query's parameters or the values an integrity error quotes", () => {
    const unique = Object.assign(
      new Error('duplicate key value violates unique constraint "cas_key_uq"; Key (passport_number)=(P99887766) already exists.'),
      {
        code: '23505',
      },
    );
    const d = describeError(failedQuery(unique));
    expect(d.code).toBe('23505');
    expect(d.message).not.toMatch(PERSONAL);
    expect(d.message).toContain('duplicate key value violates unique constraint');
  });

  it('drops the wrapper text even when the cause says nothing itself', () => {
    const d = describeError(
      new Error('Failed query: select 1\nparams: Oyelaran', { cause: new Error('Failed query: nested\nparams: P99887766') }),
    );
    expect(d.message).toBe('database query failed');
  });

  it('drops quoted values of data errors (class 22)', () => {
    const bad = Object.assign(new Error('invalid input syntax for type date: "1990-02-03x"'), { code: '22007' });
    const d = describeError(failedQuery(bad));
    expect(d).toEqual({ code: '22007', message: 'invalid input syntax for type date: …' });
  });

  it('keeps a log line free of them too (the logger serialises errors the same way)', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (s) => lines.push(s), format: 'json' });
    const unique = Object.assign(new Error('Key (passport_number)=(P99887766) already exists.'), { code: '23505' });
    log.error({ err: failedQuery(unique) }, 'could not store the file');
    expect(lines.join('')).not.toMatch(PERSONAL);
    expect(lines.join('')).toContain('23505');
  });

  it('finds the SQLSTATE down the cause chain, not an errno code that looks like one', () => {
    expect(sqlState(new Error('outer', { cause: Object.assign(new Error('inner'), { code: '40P01' }) }))).toBe('40P01');
    expect(sqlState(Object.assign(new Error('pipe'), { code: 'EPIPE', syscall: 'write' }))).toBeUndefined();
  });

  it('walks a cause chain that loops without hanging', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect([...causeChain(a)]).toHaveLength(2);
  });
});

describe('CasBdtError', () => {
  it('maps each code to the exit code of cli.md', () => {
    expect(exitCodeOf(new CasBdtError('usage', 'x'))).toBe(2);
    expect(exitCodeOf(new CasBdtError('refused', 'x'))).toBe(3);
    expect(exitCodeOf(new CasBdtError('not-found', 'x'))).toBe(4);
    expect(exitCodeOf(new CasBdtError('store-busy', 'x'))).toBe(1);
    expect(isCasBdtError(new CasBdtError('claim-lost', 'x'), 'claim-lost')).toBe(true);
    expect(isCasBdtError(new Error('x'), 'claim-lost')).toBe(false);
  });
});

describe('coerceError', () => {
  it('gives back an Error as it is', () => {
    const err = Object.assign(new TypeError('bad'), { code: 'EX' });
    expect(coerceError(err)).toBe(err);
  });

  it('makes an Error of a thrown string, number or nothing, the value kept as its cause', () => {
    for (const [thrown, message] of [
      ['plain words', 'plain words'],
      [42, '42'],
      [undefined, 'undefined'],
      [null, 'null'],
    ] as const) {
      const err = coerceError(thrown);
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toBe(message);
      expect(err.cause).toBe(thrown);
    }
  });

  it("takes the message of an object that has one (an error from another realm or a driver's plain object), and keeps its code reachable", () => {
    const thrown = { message: 'connection lost', code: 'ECONNRESET' };
    const err = coerceError(thrown);
    expect(err.message).toBe('connection lost');
    expect(describeError(err)).toEqual({ code: 'ECONNRESET', message: 'connection lost' });
  });
});
