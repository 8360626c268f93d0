/**
 * Serves an in-process PGlite to other processes on a Unix socket (the `watch` service's
 * embedded store). PGlite is a single session; SessionQueue lends it to one client at a
 * time and keeps the clients' session state apart. Framing, SSL refusal and cancel
 * requests are handled by the package's PGLiteSocketHandler.
 *
 * Only the owner's user may connect. Node offers no peer credentials (SO_PEERCRED) without
 * native code, so the file system is the control: the socket is 0600 inside the data
 * directory, which is 0700 (so it is unreachable in the moment between listen and chmod).
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';
import { SessionQueue } from './session-queue.ts';

export interface SocketServer {
  path: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Most clients at once (default 64). */
  maxConnections?: number;
  /**
   * A client that holds the session (inside a transaction or an unfinished exchange) and
   * sends nothing this long is disconnected and its transaction rolled back (default 30000 ms).
   */
  idleInTransactionMs?: number;
  /** A connection that sends nothing this long after connecting is closed, so silent ones cannot fill the slots (default 10000 ms). */
  silentConnectionMs?: number;
  /**
   * Longest a client may hold the session at a stretch, however busy it keeps it: then it
   * is disconnected and its transaction rolled back, so the service gets its turn (default
   * 300000 ms; a `process` of the largest file the embedded store takes is well within it).
   */
  maxHoldMs?: number;
  /** Largest protocol message a client may send; a longer one disconnects it before it is read whole (default 128 MiB). */
  maxMessageBytes?: number;
}

/** PostgreSQL's startup-style messages (no type byte): protocol 3.0, SSL and cancel requests, by their code. */
const STARTUP_CODES = new Set([196608, 80877103, 80877102]);

/**
 * Follows the message boundaries of a client's byte stream as the package's handler cuts
 * it (startup-style messages are told by their code) and says when a message announces a
 * length over `max`, before any of it needs to be held.
 */
export function messageLengthGuard(max: number): (chunk: Buffer) => boolean {
  let skip = 0;
  let head = Buffer.alloc(0);
  return (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - at);
        skip -= n;
        at += n;
        continue;
      }
      const take = Math.min(8 - head.length, chunk.length - at);
      head = Buffer.concat([head, chunk.subarray(at, at + take)]);
      at += take;
      if (head.length < 8) return true;
      const startup = STARTUP_CODES.has(head.readInt32BE(4));
      const length = startup ? head.readInt32BE(0) : 1 + head.readInt32BE(1);
      if (length > max || length < (startup ? 8 : 5)) return false;
      // A message shorter than the 8 bytes looked at: the rest of them start the next one.
      if (length < 8) {
        head = Buffer.from(head.subarray(length));
        continue;
      }
      skip = length - 8;
      head = Buffer.alloc(0);
    }
    return true;
  };
}

/** PostgreSQL's ErrorResponse for why a client is disconnected, so the client can say why. */
const DISMISSALS = {
  idle: ['25P03', 'terminating connection due to idle-in-transaction timeout'],
  held: ['25P04', "terminating connection: it held the store's session too long"],
  'too-long': ['54000', 'terminating connection: message too long'],
} as const;

function dismissalError(why: keyof typeof DISMISSALS): Buffer {
  const [code, message] = DISMISSALS[why];
  const fields = ['SFATAL', 'VFATAL', `C${code}`, `M${message}`];
  const body = Buffer.concat([...fields.map((f) => Buffer.from(`${f}\0`, 'utf8')), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write('E', 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/**
 * Listens on `socketFile` (removed first if a dead server left it: the caller holds the
 * data directory's lock, so nobody else can be serving it).
 */
export async function serveOnSocket(pg: PGlite, socketFile: string, opts: ServeOptions = {}): Promise<SocketServer> {
  const maxConnections = opts.maxConnections ?? 64;
  const maxHoldMs = opts.maxHoldMs ?? 300_000;
  const maxMessageBytes = opts.maxMessageBytes ?? 128 * 1024 * 1024;
  if (existsSync(socketFile)) unlinkSync(socketFile);
  const handlers = new Set<PGLiteSocketHandler>();
  const sockets = new Set<net.Socket>();
  const socketOf = new Map<number, net.Socket>();
  const [who] = (await pg.query<{ u: string }>('select session_user as u')).rows;
  const queue = new SessionQueue(pg, {
    sessionUser: who?.u ?? 'postgres',
    idleMs: opts.idleInTransactionMs ?? 30_000,
    maxHoldMs,
    maxMessageBytes,
    onIdle: (handlerId, why) => {
      const socket = socketOf.get(handlerId);
      if (!socket) return;
      // Closing the socket detaches the handler, which ends the transaction (SessionQueue).
      socket.end(dismissalError(why), () => socket.destroy());
      socket.setTimeout(1000, () => socket.destroy());
    },
  });
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (handlers.size >= maxConnections) {
      socket.destroy();
      return;
    }
    const handler = new PGLiteSocketHandler({
      // Structurally the package's queue; its class is not exported.
      queryQueue: queue as unknown as ConstructorParameters<typeof PGLiteSocketHandler>[0]['queryQueue'],
      closeOnDetach: true,
    });
    const id = handler.handlerId;
    handlers.add(handler);
    socketOf.set(id, socket);
    const withinLimit = messageLengthGuard(maxMessageBytes);
    // Ahead of the handler's own listener: a message announced too long is never gathered.
    socket.on('data', (chunk: Buffer) => {
      if (!withinLimit(chunk)) {
        // Nothing more of it is read: the client is told why, then the connection is closed.
        socket.removeAllListeners('data');
        socket.pause();
        socket.end(dismissalError('too-long'), () => socket.destroy());
        socket.setTimeout(1000, () => socket.destroy());
        return;
      }
      queue.touch(id);
    });
    const silent = setTimeout(() => socket.destroy(), opts.silentConnectionMs ?? 10_000);
    silent.unref();
    socket.once('data', () => clearTimeout(silent));
    socket.once('close', () => clearTimeout(silent));
    const forget = () => {
      handlers.delete(handler);
      socketOf.delete(id);
    };
    handler.addEventListener('close', forget);
    handler.addEventListener('error', forget);
    handler.attach(socket).catch(() => {
      forget();
      socket.destroy();
    });
  });
  server.maxConnections = maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketFile, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketFile, 0o600);
  return {
    path: socketFile,
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const h of handlers) await h.detach(true).catch(() => {});
      for (const s of sockets) s.destroy();
      await closed;
      if (existsSync(socketFile)) {
        try {
          unlinkSync(socketFile);
        } catch {
          // Already gone.
        }
      }
    },
  };
}
