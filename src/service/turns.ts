/**
 * Ready files, sponsor by sponsor: sponsors with waiting files take turns (round-robin),
 * and within a sponsor the oldest file (by mtime) goes first. A sponsor's own dates
 * decide only its own order, so backdating thousands of files gains it nothing over the
 * others.
 */
import { MinHeap } from './heap.ts';

interface Turn {
  mtimeMs: number;
  key: string;
  gen: number;
}

export class SponsorTurns {
  private readonly heaps = new Map<string, MinHeap<Turn>>();
  /** Sponsors with ready files, in the order their turn comes. */
  private readonly order: string[] = [];

  push(licence: string, item: Turn): void {
    let heap = this.heaps.get(licence);
    if (!heap) {
      heap = new MinHeap<Turn>((a, b) => a.mtimeMs < b.mtimeMs || (a.mtimeMs === b.mtimeMs && a.key < b.key));
      this.heaps.set(licence, heap);
      this.order.push(licence);
    }
    heap.push(item);
  }

  /**
   * Up to `max` more of one sponsor's oldest items, in order, without passing its turn on:
   * `judge` takes an item, drops it (stale), or stops at it (it stays for its own turn).
   */
  more(licence: string, judge: (item: Turn) => 'take' | 'drop' | 'stop', max: number): Turn[] {
    const heap = this.heaps.get(licence);
    const taken: Turn[] = [];
    for (let top = heap?.peek(); heap && top && taken.length < max; top = heap.peek()) {
      const verdict = judge(top);
      if (verdict === 'stop') break;
      heap.pop();
      if (verdict === 'take') taken.push(top);
    }
    return taken;
  }

  /** The next sponsor's oldest item that `valid` accepts (stale items are dropped); that sponsor goes to the back. */
  next(valid: (item: Turn) => boolean): Turn | undefined {
    while (this.order.length > 0) {
      const licence = this.order.shift()!;
      const heap = this.heaps.get(licence)!;
      let found: Turn | undefined;
      for (let top = heap.pop(); top; top = heap.pop()) {
        if (valid(top)) {
          found = top;
          break;
        }
      }
      if (heap.size > 0) this.order.push(licence);
      else this.heaps.delete(licence);
      if (found) return found;
    }
    return undefined;
  }
}
