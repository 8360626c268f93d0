/**
 * One client of the store's socket: cuts its byte stream into PostgreSQL protocol
 * messages and hands each to the SessionQueue, writing back what the session answers.
 * Startup-style messages (no type byte) are told by their code: the startup itself goes
 * to the session, an SSL or GSS encryption request is answered `N` (plain only, as on a
 * Unix socket), a cancel request is ignored. A message announced longer than the limit
 * ends the connection before any of it is gathered. One message is in the session at a
 * time; meanwhile the socket is paused, so a client that floods is held by the kernel's
 * buffers, not by this process. Each message is assembled once from its chunks.
 */
import type net from 'node:net';

interface MessageSink {
  enqueue(id: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number>;
  clearQueueForHandler(id: number): void;
  clearTransactionIfNeeded(id: number): Promise<void>;
}

const PROTOCOL_3 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const STARTUP_CODES = new Set([PROTOCOL_3, SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST]);

let nextId = 1;

export class SocketClient {
  readonly id = nextId++;
  private chunks: Buffer[] = [];
  private size = 0;
  private working = false;
  private closed = false;
  /** Refused (a message too long): what it still sends is dropped unread. */
  private refused = false;
  /** Resolves once what the client left in the session is cleaned. */
  readonly done: Promise<void>;

  constructor(
    private readonly socket: net.Socket,
    private readonly sink: MessageSink,
    private readonly opts: { maxMessageBytes: number; onTooLong: () => void },
  ) {
    let finished: () => void = () => {};
    this.done = new Promise((r) => (finished = r));
    socket.on('data', (chunk: Buffer) => {
      if (this.refused) return;
      this.chunks.push(chunk);
      this.size += chunk.length;
      void this.work();
    });
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      this.closed = true;
      this.chunks = [];
      this.size = 0;
      this.sink.clearQueueForHandler(this.id);
      void this.sink
        .clearTransactionIfNeeded(this.id)
        .catch(() => {})
        .finally(finished);
    });
  }

  /** The first `n` bytes gathered (n is small: a header). */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  /** Takes the first `n` bytes gathered, as one buffer. */
  private take(n: number): Buffer {
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const c = this.chunks[0]!;
      if (c.length <= need) {
        parts.push(c);
        this.chunks.shift();
        need -= c.length;
      } else {
        parts.push(c.subarray(0, need));
        this.chunks[0] = c.subarray(need);
        need = 0;
      }
    }
    this.size -= n;
    return parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts, n);
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (!this.closed && !this.refused && this.size >= 5) {
        let length: number;
        let startup = false;
        if (this.size >= 8 && STARTUP_CODES.has(this.peek(8).readInt32BE(4))) {
          startup = true;
          length = this.peek(8).readInt32BE(0);
        } else length = 1 + this.peek(5).readInt32BE(1);
        if (length > this.opts.maxMessageBytes || length < (startup ? 8 : 5)) {
          this.refused = true;
          this.chunks = [];
          this.size = 0;
          this.opts.onTooLong();
          return;
        }
        if (this.size < length) return;
        const message = this.take(length);
        if (startup) {
          const code = message.readInt32BE(4);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            if (this.socket.writable) this.socket.write('N');
            continue;
          }
          if (code === CANCEL_REQUEST) continue;
        }
        this.socket.pause();
        try {
          await this.sink.enqueue(this.id, message, (data) => {
            if (data.length > 0 && this.socket.writable) this.socket.write(Buffer.from(data));
          });
        } catch {
          // Dismissed, disconnected, or a fault of the session's: the connection ends.
          this.socket.destroy();
          return;
        } finally {
          if (!this.closed) this.socket.resume();
        }
      }
    } finally {
      this.working = false;
    }
  }
}
