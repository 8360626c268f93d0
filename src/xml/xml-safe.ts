/** Making any stored text safe to write as XML 1.0 character data, and escaping it for text or attributes. */

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
