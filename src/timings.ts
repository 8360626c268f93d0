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
let peaks: Record<string, number> = {};
let sampler: NodeJS.Timeout | undefined;

function sample(): void {
  for (const [k, v] of Object.entries(process.memoryUsage())) peaks[k] = Math.max(peaks[k] ?? 0, v);
}

/** Starts collecting (again, from zero), with the peaks of process.memoryUsage() sampled every 50 ms. */
export function startTimings(): void {
  active = new Map();
  peaks = {};
  clearInterval(sampler);
  sampler = setInterval(sample, 50).unref();
}

/** The highest memory figures sampled so far, in MB (each at its own moment). */
export function memoryPeaksMb(): Record<string, number> {
  sample();
  return Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, Math.round(v / 1048576)]));
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
