/** Making any stored text safe to write as XML 1.0 character data, escaping it for text or attributes, and reading escaped text back. */

/**
 * Replaces characters XML 1.0 cannot carry (C0 controls other than tab, CR and LF,
 * U+FFFE, U+FFFF, unpaired surrogates) with U+FFFD, so a hostile value never breaks a
 * written file. Escaping is `xmlText` and `xmlAttr`, below.
 */
export function xmlSafe(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
    .replace(/[\uD800-\uDFFF]/g, (c, i: number, str: string) => {
      const code = c.charCodeAt(0);
      const next = str.charCodeAt(i + 1);
      const prev = str.charCodeAt(i - 1);
      const paired = code <= 0xdbff ? next >= 0xdc00 && next <= 0xdfff : prev >= 0xd800 && prev <= 0xdbff;
      return paired ? c : '\uFFFD';
    });
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Character data: `&`, `<` and `>` (the last so that `]]>` never appears). Quotes stay as
 * they are: a plain `'` or `"` is valid text, and `O'Brien` reads better than `O&apos;Brien`.
 */
export const xmlText = (s: string) => (/[&<>]/.test(s) ? s.replace(/[&<>]/g, (c) => ESCAPES[c]!) : s);

/** An attribute value: as text, and both quotes (what fast-xml-parser's builder does to attributes whatever its options). */
export const xmlAttr = (s: string) => (/[&<>"']/.test(s) ? s.replace(/[&<>"']/g, (c) => ESCAPES[c]!) : s);

/** The character a reference (`&#233;`, `&#xE9;`: its digits, decimal or hex) stands for, or undefined when it names none. */
export function referencedChar(digits: string, hex: boolean): string | undefined {
  const cp = parseInt(digits, hex ? 16 : 10);
  if (!Number.isSafeInteger(cp) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
  return String.fromCodePoint(cp);
}

const ENTITY_CHARS: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const REFERENCE = /&(?:(amp|lt|gt|quot|apos)|#x([0-9A-Fa-f]+)|#([0-9]+));/g;

/**
 * Escaped text read back: the predefined entities and character references decoded, in
 * one pass (`&amp;#233;` is `&#233;`); a reference to no character stays as it is.
 */
export const unescapeXml = (s: string) =>
  s.includes('&')
    ? s.replace(REFERENCE, (all, name: string | undefined, hex: string | undefined, dec: string | undefined) =>
        name !== undefined ? ENTITY_CHARS[name]! : (referencedChar((hex ?? dec)!, hex !== undefined) ?? all),
      )
    : s;
