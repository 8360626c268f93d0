/**
 * Positions in a document: the spans of elements that the safety pass (safety.ts)
 * records, as byte offsets (source.ts reads text and line and column from them).
 */

/** An element's or attribute's name without its namespace prefix (`cmn:CAS` -> `CAS`). */
export const localName = (qname: string): string => qname.slice(qname.indexOf(':') + 1);

export interface ElementSpan {
  qname: string;
  local: string;
  /** Byte offset of '<' of the start tag. */
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

/** The line and column a message has, without undefined fields (results omit what is unknown). */
export function position(v: { line?: number; column?: number }): { line?: number; column?: number } {
  return { ...(v.line !== undefined ? { line: v.line } : {}), ...(v.column !== undefined ? { column: v.column } : {}) };
}
