/**
 * The console's reused query answer (src/http/reuse.ts): one load per period, shared by
 * requests that arrive while it runs, and a failure never kept.
 */
import { describe, expect, it } from 'vitest';
import { reuseFor } from '../../src/http/reuse.ts';

describe('reuseFor', () => {
  it('loads once per period and shares a load in progress', async () => {
    let t = 0;
    let loads = 0;
    const get = reuseFor(
      5_000,
      async () => ++loads,
      () => t,
    );
    const [a, b] = await Promise.all([get(), get()]);
    expect([a, b, loads]).toEqual([1, 1, 1]);
    t = 4_999;
    expect(await get()).toBe(1);
    t = 5_000;
    expect(await get()).toBe(2);
    expect(loads).toBe(2);
  });

  it('does not keep a failed load', async () => {
    let fail = true;
    let loads = 0;
    const get = reuseFor(
      60_000,
      async () => {
        loads++;
        if (fail) throw new Error('store down');
        return 'ok';
      },
      () => 0,
    );
    await expect(get()).rejects.toThrow('store down');
    fail = false;
    expect(await get()).toBe('ok');
    expect(loads).toBe(2);
  });
});
