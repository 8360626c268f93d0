/**
 * A query's answer reused for a while. The console's hourly chart counts the day's events;
 * on the embedded store that query runs on the service's own thread, so a page reloaded
 * in a loop would slow the files being processed. With this, it runs at most once per
 * period, and requests that arrive while it runs share that one run.
 */
export function reuseFor<T>(periodMs: number, load: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const t = now();
    if (last && t - last.at < periodMs) return last.value;
    const value = load();
    const entry = { at: t, value };
    last = entry;
    // A failed load is not reused: the next request tries again.
    value.catch(() => {
      if (last === entry) last = undefined;
    });
    return value;
  };
}
