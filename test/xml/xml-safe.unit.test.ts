/** Escaping for XML and reading escaped text back (xml/xml-safe.ts): one decoder of entities and character references. */
import { describe, expect, it } from 'vitest';
import { referencedChar, unescapeXml, xmlAttr, xmlText } from '../../src/xml/xml-safe.ts';

describe('unescapeXml', () => {
  it('decodes the predefined entities and character references', () => {
    expect(unescapeXml('A &amp; B &lt;x&gt; &quot;q&quot; &apos;a&apos;')).toBe(`A & B <x> "q" 'a'`);
    expect(unescapeXml('Caf&#233; &#xC9;t&#XE9;')).toBe('Café Ét&#XE9;');
    expect(unescapeXml('&#x1F600;')).toBe('\u{1F600}');
  });

  it('decodes in one pass: an escaped ampersand before a reference stays a reference as text', () => {
    expect(unescapeXml('&amp;#233; &amp;amp;')).toBe('&#233; &amp;');
  });

  it('leaves what names no character, and unknown entities, as they are', () => {
    expect(unescapeXml('&#xD800; &#1114112; &nbsp; & alone')).toBe('&#xD800; &#1114112; &nbsp; & alone');
  });

  it('reads back what xmlText and xmlAttr write', () => {
    for (const s of [`O'Brien & "Sons" <Ltd>`, ']]>', '&amp;', 'plain']) {
      expect(unescapeXml(xmlText(s))).toBe(s);
      expect(unescapeXml(xmlAttr(s))).toBe(s);
    }
  });
});

describe('referencedChar', () => {
  it('gives the character of decimal and hex digits, or undefined for none', () => {
    expect(referencedChar('233', false)).toBe('é');
    expect(referencedChar('e9', true)).toBe('é');
    expect(referencedChar('dc00', true)).toBeUndefined();
    expect(referencedChar('110000', true)).toBeUndefined();
    expect(referencedChar('9'.repeat(30), false)).toBeUndefined();
  });
});
