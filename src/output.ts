/** Writing to a process stream that may go away (a closed pipe): the first failure turns the writer off. */

const writers = new WeakMap<NodeJS.WritableStream, (s: string) => void>();

/**
 * A writer for a stream that may go away (stderr read by a process that exited, stdout
 * piped to `head`). The first failure (EPIPE, a destroyed stream) turns it off and later
 * lines are dropped: a lost sink never stops the process, and nothing retries it in a loop.
 */
export function streamWriter(stream: NodeJS.WritableStream & { destroyed?: boolean; writable?: boolean }): (s: string) => void {
  const known = writers.get(stream);
  if (known) return known;
  let broken = false;
  // Without a listener the failure would be an uncaught exception, and logging it would fail again.
  stream.on('error', () => void (broken = true));
  const write = (s: string) => {
    if (broken || stream.destroyed || stream.writable === false) return;
    try {
      stream.write(s);
    } catch {
      broken = true;
    }
  };
  writers.set(stream, write);
  return write;
}
