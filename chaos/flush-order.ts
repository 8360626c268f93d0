/**
 * Reads an strace of the embedded store at work (`strace -f -y -e
 * trace=write,pwrite64,fsync,fdatasync,link`) and checks the order a power cut needs:
 * each result linked into an outbox comes after a flush of the WAL that follows the last
 * WAL write before it (the commit record of the submission the result reports), and after
 * a flush of the result's own temporary file.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BIN } from './instances.ts';

export interface FlushOrder {
  /** Results linked into place. */
  results: number;
  /** Flushes of a WAL segment. */
  walFlushes: number;
  /** Results linked while the WAL written before them was not flushed yet, or unflushed themselves. */
  unflushed: string[];
}

const WAL = String.raw`<[^>]*/pg_wal/[0-9A-F]{24}>`;
const walWrite = new RegExp(String.raw`\bp?write(64)?\(\d+${WAL}`);
const walFlush = new RegExp(String.raw`\bf(data)?sync\(\d+${WAL}\)\s+= 0`);
const tmpFlush = /\bfsync\(\d+<[^>]*\/(\.[^/>]*\.tmp)>\)\s+= 0/;
const resultLink = /\blink\("[^"]*\/(\.[^/"]*\.tmp)", "([^"]*\.result\.xml)"\)\s+= 0/;

/**
 * The trace's calls in the order they completed: a call strace split across lines while
 * another thread ran (`... <unfinished ...>`, then `<... fsync resumed>) = 0`) is joined
 * and placed where it completed. strace pads a resumed call's result for alignment
 * (`<... fsync resumed>)              = 0`): the patterns allow any white space before `=`.
 */
function completedCalls(trace: string): string[] {
  const pending = new Map<string, string>();
  const out: string[] = [];
  for (const line of trace.split('\n')) {
    const unfinished = /^(\d+)\s+(.*) <unfinished \.\.\.>$/.exec(line);
    if (unfinished) {
      pending.set(unfinished[1]!, unfinished[2]!);
      continue;
    }
    const resumed = /^(\d+)\s+<\.\.\. \w+ resumed>(.*)$/.exec(line);
    if (resumed) {
      out.push(`${resumed[1]} ${pending.get(resumed[1]!) ?? ''}${resumed[2]}`);
      pending.delete(resumed[1]!);
      continue;
    }
    out.push(line);
  }
  return out;
}

export function flushOrder(trace: string): FlushOrder {
  const out: FlushOrder = { results: 0, walFlushes: 0, unflushed: [] };
  let walDirty = false;
  const flushedTmp = new Set<string>();
  for (const line of completedCalls(trace)) {
    if (walWrite.test(line)) walDirty = true;
    else if (walFlush.test(line)) {
      walDirty = false;
      out.walFlushes++;
    } else {
      const t = tmpFlush.exec(line);
      if (t) flushedTmp.add(t[1]!);
      const l = resultLink.exec(line);
      if (l) {
        out.results++;
        if (walDirty) out.unflushed.push(`${l[2]}: linked before the WAL written for it was flushed`);
        if (!flushedTmp.has(l[1]!)) out.unflushed.push(`${l[2]}: linked before its content was flushed`);
      }
    }
  }
  return out;
}

/** Runs `cas-bdt ARGS` under strace (writes, flushes, links, each descriptor named) and reads the order. */
export function tracedRun(args: string[], traceFile: string): { status: number | null; stderr: string; order: FlushOrder } {
  const r = spawnSync(
    'strace',
    ['-f', '-y', '-o', traceFile, '-e', 'trace=write,pwrite64,fsync,fdatasync,link', process.execPath, BIN, ...args],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    },
  );
  return { status: r.status, stderr: r.stderr, order: flushOrder(readFileSync(traceFile, 'utf8')) };
}

export const hasStrace = () => spawnSync('strace', ['-V']).status === 0;
