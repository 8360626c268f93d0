/**
 * A bounded nudge to the garbage collector while a large file's records are stored. V8
 * lets garbage grow to several times the live heap before a full collection (measured on
 * 50,000 records: ~130 MB used for ~30 MB live), and a process's peak memory is what an
 * operator provisions for. Between record chunks, once the heap has grown by `growthBytes`
 * since the last collection, one full collection is run. Small files never use it.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null | undefined;

/** The engine's own `gc`, exposed once to a fresh context (null where it cannot be). */
function collector(): (() => void) | null {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  return collect;
}

const used = () => getHeapStatistics().used_heap_size;

/** One full collection now, where the engine allows it (a zip's discarded inflated bytes: see zip-reader.ts). */
export function collectNow(): void {
  collector()?.();
}

export class HeapNudge {
  private base = used();
  /** Collections run so far. */
  collections = 0;

  /** @param growthBytes growth of the used heap since the last collection that triggers one (default 32 MiB). */
  constructor(private readonly growthBytes = 32 * 1024 * 1024) {}

  /** Called between chunks of work: collects if the heap grew past the bound (or `growthBytes`, 0 to collect now). */
  between(growthBytes = this.growthBytes): void {
    if (used() - this.base < growthBytes) return;
    const gc = collector();
    if (!gc) return;
    gc();
    this.collections++;
    this.base = used();
  }
}
