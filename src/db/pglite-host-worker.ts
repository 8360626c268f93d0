/**
 * The embedded store's thread (pglite-host.ts): PGlite opened and migrated here, then
 * served on a Unix socket (socket-server.ts), so that PostgreSQL's work runs beside the
 * main thread's instead of in its turns. Says 'ready' (or 'failed'); when asked to
 * (`process --timings`), reports its memory (WebAssembly, its own heap and buffers) as it
 * changes; on 'close' stops serving, closes the store and says 'closed'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { coerceError } from '../errors.ts';
import { openPglite } from './pglite-open.ts';
import type { HostInit, HostReply, HostRequest } from './pglite-host.ts';
import { serveOnSocket } from './socket-server.ts';

const init = workerData as HostInit;
const say = (m: HostReply) => parentPort!.postMessage(m);

try {
  const { pglite, created, heapBytes } = await openPglite(init.dataDir, { migrate: init.migrate });
  const server = await serveOnSocket(pglite, init.socketFile).catch(async (err: unknown) => {
    await pglite.close().catch(() => {});
    throw err;
  });
  let last = '';
  const report = () => {
    const { heapTotal, arrayBuffers } = process.memoryUsage();
    const m: HostReply = { kind: 'memory', wasm: heapBytes() ?? 0, heap: heapTotal, buffers: arrayBuffers };
    const key = `${m.wasm} ${m.heap >> 20} ${m.buffers >> 20}`;
    if (key !== last) say(m);
    last = key;
  };
  const reporter = init.reportMemory ? setInterval(report, 50).unref() : undefined;
  if (reporter) report();
  parentPort!.on('message', (m: HostRequest) => {
    if (m.kind !== 'close') return;
    clearInterval(reporter);
    void (async () => {
      try {
        await server.close();
        await pglite.close();
        say({ kind: 'closed' });
      } catch (err) {
        say({ kind: 'failed', message: coerceError(err).message });
      }
      parentPort!.close();
    })();
  });
  say({ kind: 'ready', created });
} catch (err) {
  say({ kind: 'failed', message: coerceError(err).message });
  parentPort!.close();
}
