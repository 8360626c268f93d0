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

/**
 * Runs `job` one second after each midnight UTC (the service's day: expiry dates and the
 * compliance figures' day), so that a new day's work is done before anyone asks for it.
 */
export function afterEachMidnight(job: () => void) {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const now = new Date();
    const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 0, 0, 1);
    timer = setTimeout(() => {
      job();
      arm();
    }, next - now.getTime());
  };
  arm();
  return { stop: () => clearTimeout(timer) };
}
