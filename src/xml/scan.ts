/**
 * Positions in decoded text: the spans of elements that the safety pass (safety.ts)
 * records, and line and column of an offset.
 */

export interface ElementSpan {
  qname: string;
  local: string;
  /** Offset of '<' of the start tag. */
  start: number;
  /** Offset just past the end tag (or past '/>'). */
  end: number;
}

export interface RootInfo extends ElementSpan {
  prefix: string;
  namespace: string | undefined;
  /** Offset just past the root's start tag. */
  contentStart: number;
}

export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** The line and column a message has, without undefined fields (results omit what is unknown). */
export function position(v: { line?: number; column?: number }): { line?: number; column?: number } {
  return { ...(v.line !== undefined ? { line: v.line } : {}), ...(v.column !== undefined ? { column: v.column } : {}) };
}

/** Offsets of line starts, found by moving forward (back to the start for an earlier line). */
export class LineStarts {
  private line = 1;
  private offset = 0;

  constructor(private readonly text: string) {}

  of(line: number): number {
    if (line < this.line) {
      this.line = 1;
      this.offset = 0;
    }
    while (this.line < line) {
      const nl = this.text.indexOf('\n', this.offset);
      if (nl === -1) break;
      this.offset = nl + 1;
      this.line++;
    }
    return this.offset;
  }
}
