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
/** Stages running now (a stage may run more than once at a time), and those running when RSS peaked. */
const running = new Map<string, number>();
let atPeakRss: string[] = [];
/** Every figure at the moment RSS peaked. */
let figuresAtPeakRss: Record<string, number> = {};

/** Memory outside process.memoryUsage()'s own figures, sampled with them (the embedded store's WebAssembly heap). */
const sources = new Map<string, () => number | undefined>();

/** Samples `bytes()` as `name` with the memory figures from now on. */
export function sampleMemoryOf(name: string, bytes: () => number | undefined): void {
  sources.set(name, bytes);
}

function sample(): void {
  const usage = process.memoryUsage();
  const now: Record<string, number> = { ...usage };
  for (const [name, bytes] of sources) {
    const b = bytes();
    if (b !== undefined) now[name] = b;
  }
  if (usage.rss > (peaks.rss ?? 0)) {
    atPeakRss = [...running.keys()];
    figuresAtPeakRss = now;
  }
  for (const [k, v] of Object.entries(now)) peaks[k] = Math.max(peaks[k] ?? 0, v);
}

/** Starts collecting (again, from zero), with the peaks of process.memoryUsage() sampled every 50 ms. */
export function startTimings(): void {
  active = new Map();
  peaks = {};
  atPeakRss = [];
  figuresAtPeakRss = {};
  clearInterval(sampler);
  sampler = setInterval(sample, 50).unref();
}

/** The highest memory figures sampled so far, in MB (each at its own moment). */
export function memoryPeaksMb(): Record<string, number> {
  sample();
  return Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, Math.round(v / 1048576)]));
}

/** Every memory figure (MB) as it was when the highest RSS was sampled: what the peak was made of. */
export function memoryAtPeakRssMb(): Record<string, number> {
  return Object.fromEntries(Object.entries(figuresAtPeakRss).map(([k, v]) => [k, Math.round(v / 1048576)]));
}

/** The stages that were running when the highest RSS was sampled (innermost last). */
export function stagesAtPeakRss(): string[] {
  return atPeakRss;
}

/** Whether timings are being collected (`process --timings`). */
export const timingsOn = (): boolean => active !== undefined;

/** The totals so far in milliseconds, in the order stages were first seen; undefined when off. */
export function timingsSoFar(): Record<string, number> | undefined {
  if (!active) return undefined;
  return Object.fromEntries([...active].map(([k, v]) => [k, Math.round(v * 10) / 10]));
}

/** Adds `ms` to a stage. */
function addTiming(stage: string, ms: number): void {
  if (active) active.set(stage, (active.get(stage) ?? 0) + ms);
}

/** Runs `fn`, adding its time to `stage` when collecting. */
export function timed<T>(stage: string, fn: () => T): T {
  if (!active) return fn();
  const started = performance.now();
  running.set(stage, (running.get(stage) ?? 0) + 1);
  const end = () => {
    addTiming(stage, performance.now() - started);
    const left = running.get(stage)! - 1;
    if (left) running.set(stage, left);
    else running.delete(stage);
  };
  let out: T;
  try {
    out = fn();
  } catch (err) {
    end();
    throw err;
  }
  if (out instanceof Promise) return out.finally(end) as T;
  end();
  return out;
}
