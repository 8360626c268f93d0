import { describe, expect, it } from 'vitest';
import { escapeControls } from '../src/escape.ts';

describe('escapeControls', () => {
  it.each([
    ['plain name.xml', 'plain name.xml'],
    ['a\x1b[2Kb.xml', 'a\\x1B[2Kb.xml'],
    ['line\nnext\r\tx', 'line\\nnext\\r\\tx'],
    ['gpj.\u202Exml', 'gpj.\\u202Exml'],
    ['\u2066isolate\u2069 \u200Bzw \uFEFFbom \u0085nel \u007Fdel', '\\u2066isolate\\u2069 \\u200Bzw \\uFEFFbom \\x85nel \\x7Fdel'],
    ['Zoë Łukasz 中文 café', 'Zoë Łukasz 中文 café'],
  ])('%j -> %j', (raw, shown) => {
    expect(escapeControls(raw)).toBe(shown);
    expect(escapeControls(escapeControls(raw))).toBe(shown);
  });
});

describe('text log lines', () => {
  it('escape control and bidi characters of file names in the message and in fields', async () => {
    const { createLogger } = await import('../src/log.ts');
    const lines: string[] = [];
    const log = createLogger({ write: (l) => void lines.push(l) });
    log.info({ sponsor: 'QHDGHB91X', file: 'evil\x1b[2K\u202Elmx.exe' }, 'processed \x1b[31mred');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).not.toMatch(/[\x00-\x09\x0b-\x1f\u202e]/);
    expect(line).toContain('processed \\x1B[31mred');
    expect(line).toContain('file=evil\\x1B[2K\\u202Elmx.exe');
  });
});
