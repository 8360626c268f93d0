/** Making any stored text safe to write as XML 1.0 character data. */

/**
 * Replaces characters XML 1.0 cannot carry (C0 controls other than tab, CR and LF,
 * U+FFFE, U+FFFF, unpaired surrogates) with U+FFFD, so a hostile value never breaks a
 * written file. Escaping of `&`, `<` and quotes is the builder's job.
 */
export function xmlSafe(s: string): string {
  return s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD').replace(/[\uD800-\uDFFF]/g, (c, i: number, str: string) => {
    const code = c.charCodeAt(0);
    const next = str.charCodeAt(i + 1);
    const prev = str.charCodeAt(i - 1);
    const paired = code <= 0xdbff ? next >= 0xdc00 && next <= 0xdfff : prev >= 0xd800 && prev <= 0xdbff;
    return paired ? c : '\uFFFD';
  });
}
