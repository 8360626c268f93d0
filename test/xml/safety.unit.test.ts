/** The safety pass: what the prolog may hold, the limits, nesting, and what it records. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, scanDocument } from '../../src/xml/safety.ts';

const DECL = '<?xml version="1.0" encoding="UTF-8"?>';
const ROOT = '<r xmlns="urn:x"><a>1</a><b/></r>';

const codeOf = (text: string) => {
  const s = scanDocument(text);
  return s.ok ? 'OK' : s.error.code;
};

describe('the prolog', () => {
  it.each([
    ['a declaration and the root', `${DECL}\n${ROOT}`],
    ['no declaration', ROOT],
    [
      'comments and processing instructions',
      `${DECL}\n<!-- a comment -->\n<?pi data?>\n<!-- <!DOCTYPE r> inside a comment is text -->\n${ROOT}`,
    ],
    ['a PI whose data looks like markup', `${DECL}<?x <!DOCTYPE y> ?>${ROOT}`],
    ['a comment holding <?', `<!-- <? -->${ROOT}`],
    ['white space of every kind', ` \t\r\n${ROOT}\n \t`],
  ])('accepts %s', (_, text) => {
    expect(codeOf(text)).toBe('OK');
  });

  it.each([
    ['a DOCTYPE after the declaration', `${DECL}\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n${ROOT}`],
    ['a DOCTYPE hidden after a PI holding a comment start', `${DECL}\n<?x <!-- ?>\n<!DOCTYPE r [<!ENTITY x "y">]>\n<!-- -->\n${ROOT}`],
    ['a DOCTYPE after a comment holding a PI start', `<!-- <? -->\n<!DOCTYPE r>${ROOT}`],
    ['an ENTITY declaration alone', `<!ENTITY x "y">${ROOT}`],
    ['a lower-case doctype', `<!doctype r>${ROOT}`],
    ['a CDATA section in the prolog', `<![CDATA[x]]>${ROOT}`],
    ['a parameter entity', `<!DOCTYPE r [<!ENTITY % pe SYSTEM "http://127.0.0.1:9/x.dtd"> %pe;]>${ROOT}`],
    ['a DOCTYPE after the root', `${ROOT}<!DOCTYPE r>`],
    ['a DOCTYPE inside the root', '<r><!DOCTYPE r></r>'],
  ])('refuses %s with E_DOCTYPE_FORBIDDEN', (_, text) => {
    expect(codeOf(text)).toBe('E_DOCTYPE_FORBIDDEN');
  });

  it('names the line and column of the DOCTYPE', () => {
    const s = scanDocument(`${DECL}\n<?x <!-- ?>\n  <!DOCTYPE r>${ROOT}`);
    expect(s.ok).toBe(false);
    if (!s.ok) expect(s.error).toMatchObject({ code: 'E_DOCTYPE_FORBIDDEN', line: 3, column: 3 });
  });

  it.each([
    ['a declaration that is not at the start', `<!-- x -->${DECL}${ROOT}`],
    ['text before the root', `hello${ROOT}`],
    ['a comment holding --', `<!-- a -- b -->${ROOT}`],
    ['an unclosed comment', `<!-- ${ROOT}`],
    ['an unclosed PI', `<?x ${ROOT}`],
    ['no root at all', `${DECL}<!-- only -->`],
    ['text after the root', `${ROOT}trailing`],
    ['a second root', `${ROOT}<r/>`],
    ['a control character', `<r>\u0001</r>`],
  ])('refuses %s as not well-formed', (_, text) => {
    expect(codeOf(text)).toBe('E_NOT_WELL_FORMED');
  });
});

describe('structure', () => {
  it('records the root, its namespace and its children', () => {
    const text = `${DECL}\n<p:r xmlns:p="urn:p" xmlns="urn:d" a='>'>\n  <H>x</H>\n  <C><d/></C><C/>\n</p:r>\n`;
    const s = scanDocument(text);
    expect(s.ok).toBe(true);
    if (!s.ok) return;
    expect(s.doc.root).toMatchObject({ qname: 'p:r', local: 'r', prefix: 'p', namespace: 'urn:p' });
    expect(text.slice(s.doc.root.start, s.doc.root.contentStart)).toBe(`<p:r xmlns:p="urn:p" xmlns="urn:d" a='>'>`);
    expect(s.doc.children.map((c) => text.slice(c.start, c.end))).toEqual(['<H>x</H>', '<C><d/></C>', '<C/>']);
  });

  it('reports a mismatched end tag where it stands', () => {
    const s = scanDocument('<a>\n  <b>\n</a>\n');
    expect(s.ok).toBe(false);
    if (!s.ok) expect(s.error).toMatchObject({ code: 'E_NOT_WELL_FORMED', line: 3, column: 1 });
  });

  it('reports a truncated file at its end, naming the open elements', () => {
    const s = scanDocument('<r>\n  <a>\n    <b>tex');
    expect(s.ok).toBe(false);
    if (!s.ok) {
      expect(s.error).toMatchObject({ code: 'E_NOT_WELL_FORMED', line: 3, column: 11 });
      expect(s.error.message).toContain('r, a, b');
    }
  });

  it('is not fooled by > and quotes inside attribute values', () => {
    expect(codeOf(`<r a="x>y" b='"'><c d="</r>"/></r>`)).toBe('OK');
  });
});

describe('limits', () => {
  const nested = (depth: number) => '<e>'.repeat(depth) + '</e>'.repeat(depth);

  it('accepts nesting up to 64 and refuses 65 with E_LIMIT, naming the limit and line', () => {
    expect(codeOf(nested(DEFAULT_LIMITS.maxDepth))).toBe('OK');
    const s = scanDocument(`<r>\n${nested(DEFAULT_LIMITS.maxDepth)}</r>`);
    expect(s.ok).toBe(false);
    if (!s.ok) {
      expect(s.error.code).toBe('E_LIMIT');
      expect(s.error.message).toMatch(/nested deeper than the limit of 64 \(line 2\)/);
    }
  });

  it('refuses 300,000 nested elements at once', () => {
    expect(codeOf(nested(300_000))).toBe('E_LIMIT');
  });

  it('accepts a value of 100,000 characters and refuses one more, in text, CDATA or an attribute', () => {
    const max = DEFAULT_LIMITS.maxValueChars;
    expect(codeOf(`<r><v>${'a'.repeat(max)}</v></r>`)).toBe('OK');
    expect(codeOf(`<r><v>${'a'.repeat(max + 1)}</v></r>`)).toBe('E_LIMIT');
    expect(codeOf(`<r><v>${'a'.repeat(max / 2)}<!-- split -->${'a'.repeat(max / 2 + 1)}</v></r>`)).toBe('E_LIMIT');
    expect(codeOf(`<r><v><![CDATA[${'a'.repeat(max + 1)}]]></v></r>`)).toBe('E_LIMIT');
    expect(codeOf(`<r><v x="${'a'.repeat(max + 1)}"/></r>`)).toBe('E_LIMIT');
    expect(codeOf(`<r x="${'a'.repeat(max)}"/>`)).toBe('OK');
  });

  it('refuses a child of the root that holds more elements than any record can', () => {
    const n = DEFAULT_LIMITS.maxElementsPerChild;
    expect(codeOf(`<r><H>${'<x/>'.repeat(n - 1)}</H></r>`)).toBe('OK');
    expect(codeOf(`<r><H>${'<x/>'.repeat(n)}</H></r>`)).toBe('E_LIMIT');
    // Many small children of the root are records, not one large piece.
    expect(codeOf(`<r>${'<C/>'.repeat(n * 3)}</r>`)).toBe('OK');
  });
});

describe('cost', () => {
  // Each of these made an earlier scanner quadratic; the pass must stay linear. The bound
  // is far above the linear cost (milliseconds) and far below the quadratic one (hours).
  it.each([
    ['5 MB of <!ENTITY inside a comment', `<!--${'<!ENTITY '.repeat(600_000)}-->${ROOT}`],
    ['100,000 PIs holding a comment start', `${'<?x <!-- ?>'.repeat(100_000)}${ROOT}`],
    ['100,000 comments in the document', `<r>${'<!-- <!ENTITY -->'.repeat(100_000)}</r>`],
    ['a 5 MB run of < in attribute values', `<r>${'<v a="<<<<<<<<<<"/>'.repeat(250_000)}</r>`],
  ])('scans %s in linear time', (_, text) => {
    const started = performance.now();
    scanDocument(text);
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});
