/** A periodic job of the service (scan, sponsor refresh, expiry sweep). */

/** Runs `job` now and then every `ms`, never overlapping itself; a failure is logged once per streak. */
export function every(ms: number, job: () => Promise<void>, onError: (err: unknown, first: boolean) => void) {
  let running: Promise<void> | undefined;
  let failing = false;
  const run = () => {
    if (running) return running;
    running = job()
      .then(() => {
        failing = false;
      })
      .catch((err: unknown) => {
        onError(err, !failing);
        failing = true;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void run(), ms);
  return {
    run,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
