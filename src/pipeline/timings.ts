/**
 * Where the time of one `cas-bdt process` goes, stage by stage (`process --timings`, read
 * by the bench). Off unless started: then each stage adds its milliseconds to a total of
 * its name. Stages that overlap (validation in the engine threads while records are
 * stored) are each timed on their own, so their sum can exceed the wall time.
 *
 * One collector per process, which is what `process` needs; the watch service never
 * starts it.
 */

let active: Map<string, number> | undefined;

/** Starts collecting (again, from zero). */
export function startTimings(): void {
  active = new Map();
}

/** The totals so far in milliseconds, in the order stages were first seen; undefined when off. */
export function timingsSoFar(): Record<string, number> | undefined {
  if (!active) return undefined;
  return Object.fromEntries([...active].map(([k, v]) => [k, Math.round(v * 10) / 10]));
}

/** Adds `ms` to a stage. */
export function addTiming(stage: string, ms: number): void {
  if (active) active.set(stage, (active.get(stage) ?? 0) + ms);
}

/** Runs `fn`, adding its time to `stage` when collecting. */
export function timed<T>(stage: string, fn: () => T): T {
  if (!active) return fn();
  const started = performance.now();
  const out = fn();
  if (out instanceof Promise) {
    return out.finally(() => addTiming(stage, performance.now() - started)) as T;
  }
  addTiming(stage, performance.now() - started);
  return out;
}
