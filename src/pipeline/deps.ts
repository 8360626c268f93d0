/** What the pipeline is given: the store, its settings, and hooks of its callers. */
import type { AssignSettings } from '../db/assign.ts';
import type { Db } from '../db/client.ts';
import type { Nation } from '../domain/working-days.ts';
import type { XsdValidator } from './inspect.ts';
import type { Processed } from './store-submission.ts';

/** Settings of the pipeline besides the size limit. */
export interface FileSettings extends AssignSettings {
  /** Longest XSD validation of one file before it is refused with E_LIMIT (default 60000 ms). */
  validateTimeoutMs?: number;
  /** No garbage collection between a large file's record chunks (default false: see heap-nudge.ts). */
  noHeapNudge?: boolean;
  /** Whose bank holidays a student activity report's due date skips (default england-and-wales). */
  holidays?: Nation | undefined;
}

export interface PipelineDeps {
  db: Db;
  settings: FileSettings & { maxFileBytes: number };
  clock?: () => Date;
  validate?: XsdValidator | undefined;
  /** Progress of record handling, 0..1, for large files. */
  onProgress?: ((fraction: number) => void) | undefined;
  /**
   * Runs in the same transaction that stores the submission, whatever the outcome
   * (the watch service ties its claim on the file to the submission here).
   */
  onStored?: ((tx: Db, submissionId: number) => Promise<void>) | undefined;
  /**
   * A dry run (`cas-bdt validate`): every step runs as for real, against the sponsor's
   * current state, in transactions that are rolled back once the outcome is known, so
   * nothing is stored, no allocation used and no CAS number given (default false).
   * The would-be result names no CAS number and no payment.
   */
  dryRun?: boolean;
  /**
   * Runs each of the file's transactions as a part of a transaction the caller holds (a
   * group's savepoint, see handle-group.ts) instead of one of its own: rolled back alone
   * when it throws, committed with the caller's.
   */
  nest?: (<T>(work: (tx: Db) => Promise<T>) => Promise<T>) | undefined;
  /**
   * Given a file's last writes instead of their being awaited, in a transaction given by
   * `nest` that the caller commits (a group's): the next file's statements go out behind
   * them at once, and the caller awaits them all before its commit. A write that fails
   * aborts the transaction, so every statement after it fails too.
   */
  lateWrites?: ((writes: Promise<unknown>) => void) | undefined;
  /** Zips: what the service remembers of their entries across a crash (see EntryMemo). */
  entryMemo?: EntryMemo;
}

/**
 * What the service remembers of a zip's entries across a crash (tied to its claim on
 * the zip): an entry stored before the crash keeps that one submission.
 */
export interface EntryMemo {
  /** The submission stored earlier for the entry at `index` with these bytes, if any. */
  stored(index: number, sha256: string): Promise<number | undefined>;
  /** Runs in the entry's own transaction. */
  onStored(tx: Db, index: number, sha256: string, submissionId: number): Promise<void>;
  /** The stored result of an earlier submission. */
  load(submissionId: number): Promise<Processed | undefined>;
}
