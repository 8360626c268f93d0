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
import { coerceError } from '../errors.ts';

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
  `RESET ALL; SET SESSION AUTHORIZATION ${quoteIdent(sessionUser)}; RESET ROLE; CLOSE ALL; DISCARD TEMP; ${FORGET_PERSISTED}`;

/**
 * What a client could leave behind beyond the session: statements it prepared in SQL
 * (PREPARE; those of the protocol are its own until it leaves), and settings stored for a
 * role or a database (ALTER ROLE/DATABASE ... SET, whatever the spelling, a DO block's
 * dynamic SQL included), which the store would apply at its next start. The embedded
 * store stores none of its own, so every one found is undone.
 */
const FORGET_PERSISTED = `DO $cas_bdt$
DECLARE r record;
BEGIN
  FOR r IN SELECT name FROM pg_prepared_statements WHERE from_sql LOOP
    EXECUTE format('DEALLOCATE %I', r.name);
  END LOOP;
  FOR r IN SELECT s.setdatabase AS db, d.datname, s.setrole AS role, a.rolname
           FROM pg_db_role_setting s
           LEFT JOIN pg_database d ON d.oid = s.setdatabase
           LEFT JOIN pg_roles a ON a.oid = s.setrole LOOP
    IF r.role = 0 AND r.db = 0 THEN EXECUTE 'ALTER ROLE ALL RESET ALL';
    ELSIF r.role = 0 THEN EXECUTE format('ALTER DATABASE %I RESET ALL', r.datname);
    ELSIF r.db = 0 THEN EXECUTE format('ALTER ROLE %I RESET ALL', r.rolname);
    ELSE EXECUTE format('ALTER ROLE %I IN DATABASE %I RESET ALL', r.rolname, r.datname);
    END IF;
  END LOOP;
END $cas_bdt$`;

/**
 * Statements refused on the socket, for what they store beyond the session: ALTER SYSTEM
 * (which can only run alone, so comments are all that can surround it), ALTER ROLE, ALTER
 * USER and ALTER DATABASE. The text is looked at as sent and with its comments blanked out.
 */
const PERSISTING = /\balter\s+(system|role|user|database)\b/i;

/** The text with its comments (`--` to the end of the line, nested block comments) replaced by spaces, in one pass. */
function blankComments(sql: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (depth === 0 && c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      out += ' ';
      if (end === -1) break;
      i = end - 1;
    } else if (c === '/' && next === '*') {
      depth++;
      i++;
      out += ' ';
    } else if (depth > 0 && c === '*' && next === '/') {
      depth--;
      i++;
      out += ' ';
    } else if (depth === 0) out += c;
  }
  return out;
}

/** Why a statement's text is refused, or undefined. */
function refusedStatement(sql: string): string | undefined {
  const m = PERSISTING.exec(sql) ?? PERSISTING.exec(blankComments(sql));
  return m ? `ALTER ${m[1]!.toUpperCase()} is refused on the store's socket (it would outlive the session)` : undefined;
}

/** `message` with its statement text replaced by one that fails with `reason` (SQLSTATE 42501), for the client to read. */
function refusalInstead(message: Uint8Array, reason: string): Uint8Array {
  const raise = `DO $cas_bdt$ BEGIN RAISE EXCEPTION '%', ${`'${reason.replace(/'/g, "''")}'`} USING ERRCODE = '42501'; END $cas_bdt$`;
  const type = message[0]!;
  let body: Buffer;
  if (type === QUERY) body = Buffer.from(`${raise}\0`, 'utf8');
  else {
    // Parse: name, text, then the parameter types (kept: the Bind that follows must still fit).
    const nameEnd = message.indexOf(0, 5);
    const textEnd = message.indexOf(0, nameEnd + 1);
    body = Buffer.concat([
      Buffer.from(message.subarray(5, nameEnd + 1)),
      Buffer.from(`${raise}\0`, 'utf8'),
      Buffer.from(message.subarray(textEnd + 1)),
    ]);
  }
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** The statement text of a Query or Parse message, or undefined for any other message. */
function statementText(m: Uint8Array): string | undefined {
  if (m[0] === QUERY) return cstring(m, 5);
  if (m[0] === PARSE) return cstring(m, m.indexOf(0, 5) + 1);
  return undefined;
}

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

interface SessionQueueOptions {
  /** The session's user when the server started (what every turn starts as). */
  sessionUser: string;
  /** Longest silence of a client that holds the session (ms). */
  idleMs: number;
  /** Longest time one client may hold the session at a stretch, however busy (ms). */
  maxHoldMs: number;
  /** Largest message a client may send (bytes). */
  maxMessageBytes: number;
  /**
   * Called with a handler that held the session idle for `idleMs` (`idle`), held it
   * longer than `maxHoldMs` (`held`) or sent a message over `maxMessageBytes` (`too-long`);
   * it must disconnect it.
   */
  onIdle: (handlerId: number, why: 'idle' | 'held' | 'too-long') => void;
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
  /** When the current owner took the session (it keeps it across messages until its exchange ends). */
  private heldSince = 0;
  /** Clients told to go: nothing more of theirs runs, only the cleanup after them. */
  private readonly dismissed = new Set<number>();

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
    if (message.length > this.opts.maxMessageBytes) {
      this.dismiss(handlerId, 'too-long');
      return Promise.reject(new Error('message too long'));
    }
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
    this.dismissed.delete(handlerId);
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

  private dismiss(handlerId: number, why: 'idle' | 'held' | 'too-long'): void {
    if (this.dismissed.has(handlerId)) return;
    this.dismissed.add(handlerId);
    this.opts.onIdle(handlerId, why);
  }

  private async runItem(item: Queued): Promise<number> {
    if (item.job) {
      await item.job();
      return 0;
    }
    // A client that keeps its messages coming keeps the queue busy: its hold is checked here too.
    if (this.owner === item.handlerId && Date.now() - this.heldSince >= this.opts.maxHoldMs) this.dismiss(item.handlerId, 'held');
    if (this.dismissed.has(item.handlerId)) throw new Error('client dismissed');
    const message = item.message!;
    if (this.owner === undefined && this.lastUser !== undefined && this.lastUser !== item.handlerId) {
      // A new turn for another client: nothing of the previous client's session state stays.
      await this.pg.exec(handoverReset(this.opts.sessionUser)).catch(() => {});
    }
    this.lastUser = item.handlerId;
    if (this.owner !== item.handlerId) this.heldSince = Date.now();
    this.track(item.handlerId, message);
    const text = statementText(message);
    const refused = text === undefined ? undefined : refusedStatement(text);
    let bytes = 0;
    await this.pg.runExclusive(() =>
      this.pg.execProtocolRawStream(refused ? refusalInstead(message, refused) : message, {
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
          q.reject(coerceError(err));
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
    const at = Math.min(since + this.opts.idleMs, this.heldSince + this.opts.maxHoldMs);
    this.idleTimer = setTimeout(() => this.checkIdle(holder), Math.max(0, at - Date.now()));
    this.idleTimer.unref();
  }

  private checkIdle(holder: number): void {
    // Decided after the poll phase: a process that was busy (timers late) may have bytes
    // from this client waiting to be read, and those count.
    setImmediate(() => {
      if (this.owner !== holder || this.running) return;
      const since = this.seen.get(holder) ?? 0;
      // Talking does not extend a hold for ever: the others get their turn.
      if (Date.now() - this.heldSince >= this.opts.maxHoldMs) this.dismiss(holder, 'held');
      else if (Date.now() - since >= this.opts.idleMs) this.dismiss(holder, 'idle');
      else this.armIdle();
    });
  }
}
