/**
 * Runs of an async task, by key, shared among the callers that ask at about the same time.
 * Every answer comes from a run that began after the call: a caller that finds one running
 * waits for the next, which starts when that one ends and serves everyone who asked
 * meanwhile. So a burst of calls costs at most two runs, and none is answered with what
 * was true before it asked (a folder flushed before its link, a check made before a swap).
 */
const ignore = () => {};

export class SharedRuns<T> {
  private readonly slots = new Map<string, { running: Promise<T>; next?: Promise<T> }>();

  constructor(private readonly run: (key: string) => Promise<T>) {}

  /** The answer of a run of `key` that begins after this call. */
  get(key: string): Promise<T> {
    const slot = this.slots.get(key);
    if (!slot) return this.begin(key);
    // Whether the run in progress succeeds or fails, the next one starts after it.
    slot.next ??= slot.running.then(ignore, ignore).then(() => this.begin(key));
    return slot.next;
  }

  /** Keys with a run in progress (an idle key holds nothing). */
  get size(): number {
    return this.slots.size;
  }

  private begin(key: string): Promise<T> {
    const slot: { running: Promise<T>; next?: Promise<T> } = { running: this.run(key) };
    this.slots.set(key, slot);
    void slot.running.then(ignore, ignore).then(() => {
      if (this.slots.get(key) === slot) this.slots.delete(key);
    });
    return slot.running;
  }
}
