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
}

/** PostgreSQL's ErrorResponse for idle_in_transaction_session_timeout, so the client can say why. */
function idleError(): Buffer {
  const fields = ['SFATAL', 'VFATAL', 'C25P03', 'Mterminating connection due to idle-in-transaction timeout'];
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
  if (existsSync(socketFile)) unlinkSync(socketFile);
  const handlers = new Set<PGLiteSocketHandler>();
  const sockets = new Set<net.Socket>();
  const socketOf = new Map<number, net.Socket>();
  const [who] = (await pg.query<{ u: string }>('select session_user as u')).rows;
  const queue = new SessionQueue(pg, {
    sessionUser: who?.u ?? 'postgres',
    idleMs: opts.idleInTransactionMs ?? 30_000,
    onIdle: (handlerId) => {
      const socket = socketOf.get(handlerId);
      if (!socket) return;
      // Closing the socket detaches the handler, which ends the transaction (SessionQueue).
      socket.end(idleError(), () => socket.destroy());
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
    socket.on('data', () => queue.touch(id));
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
