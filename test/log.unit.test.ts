/**
 * The service's per-sponsor and per-file loggers (pino child loggers): the bound fields
 * come first on every line, as they did when each call repeated them, once each, and the
 * safety nets (escaping, the censored personal field names) cover them too.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, perSponsor } from '../src/log.ts';

const capture = (format: 'text' | 'json') => {
  const lines: string[] = [];
  return { lines, log: createLogger({ write: (l) => void lines.push(l), format }) };
};

describe('perSponsor', () => {
  it('makes one child per sponsor, kept', () => {
    const { log } = capture('text');
    const sponsorLog = perSponsor(log);
    expect(sponsorLog('QHDGHB91X')).toBe(sponsorLog('QHDGHB91X'));
    expect(sponsorLog('QHDGHB91X')).not.toBe(sponsorLog('ABCDEFGH1'));
  });

  it('puts sponsor= and then file= before the fields of the call, as the calls used to', () => {
    const { lines, log } = capture('text');
    const sponsorLog = perSponsor(log);
    sponsorLog('QHDGHB91X').info('watching a new sponsor');
    sponsorLog('QHDGHB91X').child({ file: 'large.xml' }).info({ done: '50%', bytes: 10 }, 'processing');
    sponsorLog('ABCDEFGH1').warn({ folder: 'archive', removed: 2 }, 'removed 2 files past the retention');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/ INFO {2}watching a new sponsor sponsor=QHDGHB91X\n$/);
    expect(lines[1]).toMatch(/ INFO {2}processing sponsor=QHDGHB91X file=large\.xml done=50% bytes=10\n$/);
    expect(lines[2]).toMatch(/ WARN {2}removed 2 files past the retention sponsor=ABCDEFGH1 folder=archive removed=2\n$/);
    // The same as one call with every field, as before.
    const { lines: flat, log: plain } = capture('text');
    plain.info({ sponsor: 'QHDGHB91X', file: 'large.xml', done: '50%', bytes: 10 }, 'processing');
    expect(flat[0]!.replace(/^\S+ /, '')).toBe(lines[1]!.replace(/^\S+ /, ''));
  });

  it('writes each bound field once in JSON lines, first', () => {
    const { lines, log } = capture('json');
    perSponsor(log)('QHDGHB91X').child({ file: 'a.xml' }).info({ submission: 7 }, 'processed');
    const line = lines[0]!;
    expect(line.match(/"sponsor"/g)).toHaveLength(1);
    expect(line.match(/"file"/g)).toHaveLength(1);
    expect(Object.keys(JSON.parse(line) as object)).toEqual(['level', 'time', 'sponsor', 'file', 'submission', 'msg']);
  });

  it('escapes a bound file name and censors personal field names bound by mistake', () => {
    const { lines, log } = capture('text');
    perSponsor(log)('QHDGHB91X').child({ file: 'evil\x1b[2K\u202Elmx.exe', familyName: 'Oyelaran' }).warn('deferred');
    const line = lines[0]!;
    expect(line).not.toMatch(/[\x00-\x09\x0b-\x1f\u202e]/);
    expect(line).toContain('file=evil\\x1B[2K\\u202Elmx.exe');
    expect(line).not.toContain('Oyelaran');
    expect(line).toContain('familyName=[redacted]');
  });
});
