/**
 * Real `cas-bdt watch` processes for the chaos suite: started, killed with SIGKILL at the
 * moments a scenario picks, restarted, and stopped with SIGTERM at the end. Each keeps
 * the tail of what it logged; an exit nobody asked for is counted (the service must
 * outlive a database outage and a full disk).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/cas-bdt.js');

export interface Instance {
  proc: ChildProcess;
  /** The last 200 kB of its stderr. */
  log(): string;
  /** Whether it has logged `pattern` since it started. */
  saw(pattern: RegExp): boolean;
  exited: Promise<number>;
  /** Peak resident memory (kB) so far, from /proc, or 0 once it has exited. */
  peakRssKb(): number;
  /** Its instance key (the owner of its claims), once it has logged it. */
  key(): number | undefined;
}

export function startWatch(args: string[], env: NodeJS.ProcessEnv = {}): Instance {
  const proc = spawn(process.execPath, [BIN, 'watch', ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  let key: number | undefined;
  const seen: RegExp[] = [];
  const hits = new Set<RegExp>();
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    tail = (tail + s).slice(-200_000);
    key ??= Number(/\binstance=(\d+)/.exec(tail)?.[1] ?? NaN) || undefined;
    for (const p of seen) if (!hits.has(p) && p.test(s)) hits.add(p);
  });
  const exited = new Promise<number>((resolve) =>
    proc.once('close', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : 128))),
  );
  return {
    proc,
    log: () => tail,
    saw: (p) => {
      if (!seen.includes(p)) seen.push(p);
      if (!hits.has(p) && p.test(tail)) hits.add(p);
      return hits.has(p);
    },
    exited,
    key: () => key,
    peakRssKb: () => {
      try {
        return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? 0);
      } catch {
        return 0;
      }
    },
  };
}

/** A fleet of `n` instances with the same arguments, each replaced when killed. */
export class Fleet {
  readonly members: Instance[] = [];
  /** Exits no scenario asked for (a crash), with the end of what the instance logged. */
  readonly crashes: string[] = [];
  kills = 0;
  private readonly expected = new WeakSet<Instance>();

  constructor(
    private readonly args: (slot: number) => string[],
    n: number,
  ) {
    for (let i = 0; i < n; i++) this.members.push(this.spawn(i));
  }

  private spawn(slot: number): Instance {
    const inst = startWatch(this.args(slot));
    void inst.exited.then((code) => {
      if (!this.expected.has(inst)) this.crashes.push(`instance ${slot} exited ${code}:\n${inst.log().slice(-4000)}`);
    });
    return inst;
  }

  /** Whether every instance has logged that it is ready. */
  ready(): boolean {
    return this.members.every((m) => m.saw(/INFO\s+ready/));
  }

  /** The slot of the instance whose key is `key`. */
  slotOf(key: number): number | undefined {
    const i = this.members.findIndex((m) => m.key() === key);
    return i < 0 ? undefined : i;
  }

  /** SIGKILL to the instance in `slot`, then a new one in its place. */
  async killAndRestart(slot: number): Promise<void> {
    const victim = this.members[slot]!;
    this.expected.add(victim);
    victim.proc.kill('SIGKILL');
    await victim.exited;
    this.kills++;
    this.members[slot] = this.spawn(slot);
  }

  /**
   * SIGTERM to every instance once it is ready (one still starting has no handler yet and
   * would die of the signal, 143); resolves with the exit codes (0 is a clean stop).
   */
  async stop(): Promise<number[]> {
    for (const m of this.members) this.expected.add(m);
    await Promise.all(this.members.map((m) => untilReadyOrExited(m)));
    for (const m of this.members) m.proc.kill('SIGTERM');
    return Promise.all(this.members.map((m) => m.exited));
  }

  /** SIGKILL to everything still running (cleanup after a failure). */
  async kill(): Promise<void> {
    for (const m of this.members) this.expected.add(m);
    for (const m of this.members) m.proc.kill('SIGKILL');
    await Promise.all(this.members.map((m) => m.exited));
  }
}

/** Resolves once `inst` has logged that it is ready or has exited, or after a minute. */
async function untilReadyOrExited(inst: Instance): Promise<void> {
  let done = false;
  void inst.exited.then(() => (done = true));
  const until = Date.now() + 60_000;
  while (!done && !inst.saw(/INFO\s+ready/) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}
