/**
 * `node --import tsx bench/wire-tap.ts bin/cas-bdt.js ARGS...` runs cas-bdt (as
 * statements-per-file.ts runs `watch`) with this tap in its process (not in its worker
 * threads, which a `--import` of it would reach too): it reads the
 * PostgreSQL protocol on the service's connections to the database (those to port
 * CAS_BDT_WIRE_TAP_PORT), in the service's own process, so that what it sends and when it
 * has read the answers are known exactly. Between the parent's 'start' and 'stop' (IPC)
 * it counts every Execute and simple Query under its statement's text, every Parse, and
 * every round trip: a message written while everything written before it on that
 * connection had been answered and read (each Sync and Query by ReadyForQuery, a Flush by
 * the statement's description). Statements written behind others before their answers
 * were read are pipelined: they add no round trip. On 'stop' the counts go to the parent.
 */
import net from 'node:net';
import { pathToFileURL } from 'node:url';

export interface WireTally {
  statements: [string, number][];
  roundTrips: number;
  parses: number;
  connections: number;
}

const port = Number(process.env.CAS_BDT_WIRE_TAP_PORT);
let counting = false;
let tally = { statements: new Map<string, number>(), roundTrips: 0, parses: 0, connections: 0 };

/**
 * Splits a stream of protocol messages: type byte, then int32 length (itself included) and
 * body; the client's first message (startup) has no type byte and comes as type ''.
 */
function messages(onMessage: (type: string, body: Buffer) => void, untypedFirst: boolean): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  let untyped = untypedFirst;
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      const head = untyped ? 0 : 1;
      if (buf.length < head + 4) return;
      const len = buf.readInt32BE(head);
      if (buf.length < head + len) return;
      onMessage(untyped ? '' : String.fromCharCode(buf[0]!), buf.subarray(head + 4, head + len));
      buf = buf.subarray(head + len);
      untyped = false;
    }
  };
}

const cstring = (b: Buffer, at: number): [string, number] => {
  const end = b.indexOf(0, at);
  return [b.toString('utf8', at, end), end + 1];
};

interface Tap {
  sent(chunk: Buffer): void;
  received(chunk: Buffer): void;
}

function tap(): Tap {
  const prepared = new Map<string, string>();
  let bound = '';
  /** Syncs, simple queries and the startup not yet answered by ReadyForQuery. */
  let pendingSyncs = 0;
  /** A Flush written (postgres.js describes a new statement first) whose description has not been read. */
  let flushPending = false;
  /** Something written is unanswered: what is written now goes behind it, in the same round trip. */
  let waiting = false;
  const sent = messages((type, body) => {
    if (type === 'X') return;
    if (counting && !waiting) tally.roundTrips++;
    waiting = true;
    if (type === '') {
      if (counting) tally.connections++;
    } else if (type === 'P') {
      const [name, at] = cstring(body, 0);
      prepared.set(name, cstring(body, at)[0]);
      if (counting) tally.parses++;
    } else if (type === 'B') {
      const [, at] = cstring(body, 0);
      bound = prepared.get(cstring(body, at)[0]) ?? '?';
    } else if (type === 'E' || type === 'Q') {
      const text = type === 'Q' ? cstring(body, 0)[0] : bound;
      if (counting) tally.statements.set(text, (tally.statements.get(text) ?? 0) + 1);
    }
    if (type === 'S' || type === 'Q' || type === '') pendingSyncs++;
    if (type === 'H') flushPending = true;
  }, true);
  const received = messages((type) => {
    if (type === 'Z') pendingSyncs--;
    if (flushPending && pendingSyncs === 0 && (type === 'T' || type === 'n' || type === 'E')) flushPending = false;
    if (pendingSyncs === 0 && !flushPending) waiting = false;
  }, false);
  return { sent, received };
}

const taps = new WeakMap<net.Socket, Tap>();
const tapOf = (socket: net.Socket): Tap | undefined => {
  if (socket.remotePort !== port) return undefined;
  let t = taps.get(socket);
  if (!t) taps.set(socket, (t = tap()));
  return t;
};

type Write = (this: net.Socket, chunk: unknown, ...rest: unknown[]) => boolean;
type Emit = (this: net.Socket, event: string | symbol, ...args: unknown[]) => boolean;
const proto = net.Socket.prototype as unknown as { write: Write; emit: Emit };
const write = proto.write;
const emit = proto.emit;
proto.write = function (chunk, ...rest) {
  if (Buffer.isBuffer(chunk)) tapOf(this)?.sent(chunk);
  return write.call(this, chunk, ...rest);
};
// Read before postgres.js's own 'data' listener: what it writes in answer follows a read answer.
proto.emit = function (event, ...args) {
  if (event === 'data' && Buffer.isBuffer(args[0])) tapOf(this)?.received(args[0]);
  return emit.call(this, event, ...args);
};

process.on('message', (m) => {
  if (m === 'start') {
    tally = { statements: new Map(), roundTrips: 0, parses: 0, connections: 0 };
    counting = true;
  } else if (m === 'stop') {
    counting = false;
    const out: WireTally = { ...tally, statements: [...tally.statements] };
    process.send?.(out);
  }
});

// The program: its own arguments follow it, as if it had been started itself.
const [program] = process.argv.splice(2, 1);
if (!program) throw new Error('usage: node --import tsx bench/wire-tap.ts PROGRAM [ARGS...]');
await import(pathToFileURL(program).href);
