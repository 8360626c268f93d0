/** Messages between the XSD engine's pool (xsd-pool.ts) and its threads (xsd-worker.ts). */

export interface EngineInit {
  /** Every schema file by absolute path: the only bytes the engine may load. */
  files: Record<string, Uint8Array>;
  /** Schema name -> the path of its top-level file. */
  entries: Record<string, string>;
}

export interface EngineJob {
  id: number;
  /** Compiled schema to validate against; null checks well-formedness only. */
  schema: string | null;
  /**
   * The document: text, or its UTF-8 bytes, which are moved to the thread (the sender's
   * copy is detached), so a large file's chunks never pile up in the sender's heap.
   */
  text: string | Uint8Array;
  /** Violations on earlier lines repeat another chunk's and are neither counted nor sent. */
  fromLine: number;
  /** How many violations to send back (all are counted). */
  maxDetails: number;
}

export interface EngineDetail {
  line: number;
  /** 0 when libxml2 gives no column (schema violations). */
  column: number;
  message: string;
}

export type EngineReply =
  | { id: number; kind: 'ready' }
  | { id: number; kind: 'valid' }
  | { id: number; kind: 'invalid'; details: EngineDetail[]; total: number }
  | { id: number; kind: 'fatal'; detail: EngineDetail }
  | { id: number; kind: 'forbidden' }
  | { id: number; kind: 'crashed'; message: string };
