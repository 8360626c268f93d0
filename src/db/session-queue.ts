/**
 * PGlite is one database session; the socket server lends it to one client at a time.
 *
 * The stock PGLiteSocketServer queue hands the session over between any two messages
 * unless an explicit transaction is open. postgres.js uses the extended protocol (Parse,
 * Bind, Execute, Sync as separate messages), so two clients' exchanges interleave there
 * and bind to each other's unnamed statement ("portal does not exist", wrong results).
 * This queue keeps the session with a client until it sends Sync or a simple Query and
 * the session is outside a transaction block.
 *
 * Session state lives no longer than a client's turn. When the session passes to another
 * client its settings, role, temporary tables and held cursors are reset, so one client's
 * `SET default_transaction_read_only = on` or `SET search_path` never reaches the service.
 * When a client disconnects, whatever it left is ended on its behalf (an exchange without
 * Sync, an open transaction, its named prepared statements, its LISTENs). Advisory locks
 * are left alone: the service's liveness lock lives in this session too. A client that
 * holds the session (inside a transaction or an unfinished exchange) and sends nothing for
 * `idleMs` is reported through `onIdle`, which disconnects it.
 */
import type { PGlite } from '@electric-sql/pglite';

interface Queued {
  handlerId: number;
  /** A protocol message from the client, or work of the queue itself on its behalf. */
  message?: Uint8Array;
  job?: () => Promise<void>;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: Error) => void;
}

const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const PARSE = 0x50; // 'P'
const CLOSE = 0x43; // 'C'
const SYNC_MESSAGE = new Uint8Array([SYNC, 0, 0, 0, 4]);

/**
 * What one client may have left in the shared session that the next one must not see.
 * RESET ALL leaves the role and session user alone, and PGlite's single-user session has
 * no DEFAULT to go back to: the session's own user is named.
 */
const handoverReset = (sessionUser: string) =>
  `RESET ALL; SET SESSION AUTHORIZATION ${quoteIdent(sessionUser)}; RESET ROLE; CLOSE ALL; DISCARD TEMP`;

/** True for a startup packet (no type byte: length, then protocol version 3.0). */
function isStartup(m: Uint8Array): boolean {
  return m.length >= 8 && m[4] === 0 && m[5] === 3 && m[6] === 0 && m[7] === 0;
}

/** The NUL-terminated string at `from` (a statement name in Parse or Close). */
function cstring(m: Uint8Array, from: number): string {
  const end = m.indexOf(0, from);
  return Buffer.from(m.subarray(from, end === -1 ? m.length : end)).toString('utf8');
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

export interface SessionQueueOptions {
  /** The session's user when the server started (what every turn starts as). */
  sessionUser: string;
  /** Longest silence of a client that holds the session (ms). */
  idleMs: number;
  /** Called with a handler that held the session idle for `idleMs`; it must disconnect it. */
  onIdle: (handlerId: number) => void;
}

export class SessionQueue {
  private queue: Queued[] = [];
  private running = false;
  /** The handler that holds the session between messages, if any. */
  private owner: number | undefined;
  /** The handler whose turn last ran: a turn of another one starts with a reset. */
  private lastUser: number | undefined;
  private readonly seen = new Map<number, number>();
  private readonly statements = new Map<number, Set<string>>();
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pg: PGlite,
    private readonly opts: SessionQueueOptions,
  ) {}

  /** Any byte from the client counts as activity, even before its message is queued. */
  touch(handlerId: number): void {
    this.seen.set(handlerId, Date.now());
  }

  // pg.exec takes PGlite's query lock itself; the raw protocol calls take it with runExclusive.
  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    this.touch(handlerId);
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.pump();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    const mine = this.queue.filter((q) => q.handlerId === handlerId && q.message);
    this.queue = this.queue.filter((q) => !(q.handlerId === handlerId && q.message));
    for (const q of mine) q.reject(new Error('client disconnected'));
  }

  /** Called when a client goes away: end whatever it left, in its turn, so the next client starts clean. */
  clearTransactionIfNeeded(handlerId: number): Promise<void> {
    this.seen.delete(handlerId);
    const statements = this.statements.get(handlerId);
    this.statements.delete(handlerId);
    // A client that never ran anything left nothing (a liveness probe, say).
    if (this.owner !== handlerId && this.lastUser !== handlerId && !statements) return Promise.resolve();
    const job = async () => {
      try {
        if (this.owner === handlerId) {
          await this.pg.runExclusive(() => this.pg.execProtocolRawStream(SYNC_MESSAGE, { onRawData: () => {} }));
          if (this.pg.isInTransaction()) await this.pg.exec('ROLLBACK');
        }
      } finally {
        this.owner = undefined;
      }
      for (const name of statements ?? []) await this.pg.exec(`DEALLOCATE ${quoteIdent(name)}`).catch(() => {});
      await this.pg.exec(`${handoverReset(this.opts.sessionUser)}; UNLISTEN *`).catch(() => {});
      this.lastUser = undefined;
    };
    // Queued like a message: it runs in the leaving client's turn, or when the session is free.
    return new Promise<void>((resolve) => {
      this.queue.push({ handlerId, job, onData: () => {}, resolve: () => resolve(), reject: () => resolve() });
      void this.pump();
    });
  }

  private next(): Queued | undefined {
    if (this.owner === undefined) return this.queue.shift();
    const i = this.queue.findIndex((q) => q.handlerId === this.owner);
    return i === -1 ? undefined : this.queue.splice(i, 1)[0];
  }

  /** Remembers the named statements a client prepares, to deallocate them when it leaves. */
  private track(handlerId: number, m: Uint8Array): void {
    const type = m[0];
    if (type === PARSE) {
      const name = cstring(m, 5);
      if (name) {
        const set = this.statements.get(handlerId) ?? new Set<string>();
        set.add(name);
        this.statements.set(handlerId, set);
      }
    } else if (type === CLOSE && m[5] === SYNC) {
      this.statements.get(handlerId)?.delete(cstring(m, 6));
    }
  }

  private async runItem(item: Queued): Promise<number> {
    if (item.job) {
      await item.job();
      return 0;
    }
    const message = item.message!;
    if (this.owner === undefined && this.lastUser !== undefined && this.lastUser !== item.handlerId) {
      // A new turn for another client: nothing of the previous client's session state stays.
      await this.pg.exec(handoverReset(this.opts.sessionUser)).catch(() => {});
    }
    this.lastUser = item.handlerId;
    this.track(item.handlerId, message);
    let bytes = 0;
    await this.pg.runExclusive(() =>
      this.pg.execProtocolRawStream(message, {
        onRawData: (data) => {
          bytes += data.length;
          item.onData(data);
        },
      }),
    );
    // Its idle time counts from the answer, not from when its message began waiting for the turn.
    this.touch(item.handlerId);
    const type = message[0];
    const exchangeEnds = isStartup(message) || type === SYNC || type === QUERY;
    this.owner = exchangeEnds && !this.pg.isInTransaction() ? undefined : item.handlerId;
    return bytes;
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let q = this.next(); q; q = this.next()) {
        try {
          q.resolve(await this.runItem(q));
        } catch (err) {
          q.reject(err as Error);
        }
      }
    } finally {
      this.running = false;
      this.armIdle();
    }
  }

  /** While a client holds the session, check that it keeps talking. */
  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const holder = this.owner;
    if (holder === undefined) return;
    const since = this.seen.get(holder) ?? Date.now();
    this.idleTimer = setTimeout(() => this.checkIdle(holder), Math.max(0, since + this.opts.idleMs - Date.now()));
    this.idleTimer.unref();
  }

  private checkIdle(holder: number): void {
    // Decided after the poll phase: a process that was busy (timers late) may have bytes
    // from this client waiting to be read, and those count.
    setImmediate(() => {
      if (this.owner !== holder || this.running) return;
      const since = this.seen.get(holder) ?? 0;
      if (Date.now() - since >= this.opts.idleMs) this.opts.onIdle(holder);
      else this.armIdle();
    });
  }
}
