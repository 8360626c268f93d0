/**
 * Serves an in-process PGlite to other processes on a Unix socket (the `watch` service's
 * embedded store). PGlite is a single session; SessionQueue lends it to one client at a
 * time and keeps the clients' session state apart; SocketClient cuts each client's bytes
 * into messages (and answers SSL requests, ignores cancel requests).
 *
 * Only the owner's user may connect. Node offers no peer credentials (SO_PEERCRED) without
 * native code, so the file system is the control: the socket is 0600 inside the data
 * directory, which is 0700 (so it is unreachable in the moment between listen and chmod).
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { SocketClient } from './socket-client.ts';
import { SessionQueue } from './session-queue.ts';

export interface SocketServer {
  path: string;
  close(): Promise<void>;
}

interface ServeOptions {
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

/** PostgreSQL's ErrorResponse for why a client is disconnected, so the client can say why. */
const DISMISSALS = {
  idle: ['25P03', 'terminating connection due to idle-in-transaction timeout'],
  held: ['25P04', "terminating connection: it held the store's session too long"],
  'too-long': ['54000', 'terminating connection: message too long'],
} as const;

/**
 * Tells the client why and closes its side: what it still sends is read and dropped, so
 * that it reads the reason before the connection goes; gone for good within a second.
 */
function dismissSocket(socket: net.Socket, why: keyof typeof DISMISSALS): void {
  socket.end(dismissalError(why));
  setTimeout(() => socket.destroy(), 1000).unref();
}

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
  const clients = new Set<SocketClient>();
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
      // Closing the socket ends what the client left in the session (SessionQueue).
      dismissSocket(socket, why);
    },
  });
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (clients.size >= maxConnections) {
      socket.destroy();
      return;
    }
    const client = new SocketClient(socket, queue, { maxMessageBytes, onTooLong: () => dismissSocket(socket, 'too-long') });
    clients.add(client);
    socketOf.set(client.id, socket);
    socket.on('data', () => queue.touch(client.id));
    const silent = setTimeout(() => socket.destroy(), opts.silentConnectionMs ?? 10_000);
    silent.unref();
    socket.once('data', () => clearTimeout(silent));
    socket.once('close', () => {
      clearTimeout(silent);
      socketOf.delete(client.id);
      void client.done.then(() => clients.delete(client));
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
      for (const s of sockets) s.destroy();
      // What each client left in the session is cleaned before the store closes.
      await Promise.all([...clients].map((c) => c.done));
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
