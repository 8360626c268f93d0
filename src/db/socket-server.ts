/**
 * Serves an in-process PGlite to other processes on a Unix socket (the `watch` service's
 * embedded store). PGlite is a single session, so every client shares it; this server
 * gives the session to one client at a time for a whole protocol exchange.
 *
 * The stock PGLiteSocketServer queue hands the session over between any two messages
 * unless an explicit transaction is open. postgres.js uses the extended protocol (Parse,
 * Bind, Execute, Sync as separate messages), so two clients' exchanges interleave there
 * and bind to each other's unnamed statement ("portal does not exist", wrong results).
 * This queue keeps the session with a client until it sends Sync or a simple Query and
 * the session is outside a transaction block; a client that disconnects while owning it
 * gets a Sync and a ROLLBACK on its behalf. Framing, SSL refusal and cancel requests are
 * still handled by the package's PGLiteSocketHandler.
 */
import { existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';

interface Queued {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: Error) => void;
}

const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const SYNC_MESSAGE = new Uint8Array([SYNC, 0, 0, 0, 4]);

/** True for a startup packet (no type byte: length, then protocol version 3.0). */
function isStartup(m: Uint8Array): boolean {
  return m.length >= 8 && m[4] === 0 && m[5] === 3 && m[6] === 0 && m[7] === 0;
}

class SessionQueue {
  private queue: Queued[] = [];
  private running = false;
  /** The handler that holds the session between messages, if any. */
  private owner: number | undefined;

  constructor(private readonly pg: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.pump();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    const mine = this.queue.filter((q) => q.handlerId === handlerId);
    this.queue = this.queue.filter((q) => q.handlerId !== handlerId);
    for (const q of mine) q.reject(new Error('client disconnected'));
  }

  /** Called when a client goes away: end whatever it left open so the next client starts clean. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    // Wait for a message of this client that may still be executing.
    while (this.running) await new Promise((r) => setImmediate(r));
    if (this.owner !== handlerId) return;
    try {
      await this.pg.runExclusive(() => this.pg.execProtocolRawStream(SYNC_MESSAGE, { onRawData: () => {} }));
      if (this.pg.isInTransaction()) await this.pg.exec('ROLLBACK');
    } catch {
      // The session is reset as far as it can be; the next client sees any error itself.
    }
    this.owner = undefined;
    void this.pump();
  }

  private next(): Queued | undefined {
    if (this.owner === undefined) return this.queue.shift();
    const i = this.queue.findIndex((q) => q.handlerId === this.owner);
    return i === -1 ? undefined : this.queue.splice(i, 1)[0];
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let q = this.next(); q; q = this.next()) {
        const item = q;
        let bytes = 0;
        try {
          await this.pg.runExclusive(() =>
            this.pg.execProtocolRawStream(item.message, {
              onRawData: (data) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
        } catch (err) {
          item.reject(err as Error);
        }
        const type = item.message[0];
        const exchangeEnds = isStartup(item.message) || type === SYNC || type === QUERY;
        this.owner = exchangeEnds && !this.pg.isInTransaction() ? undefined : item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.running = false;
    }
  }
}

export interface SocketServer {
  path: string;
  close(): Promise<void>;
}

/**
 * Listens on `socketFile` (removed first if a dead server left it: the caller holds the
 * data directory's lock, so nobody else can be serving it).
 */
export async function serveOnSocket(pg: PGlite, socketFile: string, maxConnections = 64): Promise<SocketServer> {
  if (existsSync(socketFile)) unlinkSync(socketFile);
  const queue = new SessionQueue(pg);
  const handlers = new Set<PGLiteSocketHandler>();
  const sockets = new Set<net.Socket>();
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
    handlers.add(handler);
    const forget = () => handlers.delete(handler);
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
