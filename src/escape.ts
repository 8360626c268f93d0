/**
 * Text from outside (file names above all) on its way to a terminal: text logs and CLI
 * tables. Control characters (C0, DEL, C1: `\x1b[2K` erases the line, `\r` rewrites it)
 * and the invisible characters that reorder or hide text (bidi overrides and isolates such
 * as U+202E, zero-width characters, line and paragraph separators) are written as escapes,
 * so what an operator reads is what is on disk. Idempotent: escaped text is left as it is.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const named = NAMED[ch];
    if (named) return named;
    const code = ch.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`
      : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  });
}
