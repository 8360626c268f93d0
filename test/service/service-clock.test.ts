/**
 * Time is the service's own (spec section 3): how long a file has been unchanged and the
 * grace given to a file that is not well-formed yet count from when the service saw it
 * change, never from the file's modification time. A file dated 2099 is treated like any
 * other; so is one dated 2000.
 */
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { storeTest as it } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { ls, upload, waitProcessed } from '../helpers/watch.ts';

const FUTURE = new Date('2099-06-30T12:00:00Z');
const PAST = new Date('2000-01-01T00:00:00Z');

describe.each(STORE_KINDS)("the service's own clock on %s", (kind) => {
  it.override({ kind });

  const dir = (root: string, licence: string, f: 'inbox' | 'outbox' | 'archive' | 'rejected') => path.join(root, licence, f);
  const put = (file: string, bytes: Buffer | string, when: Date) => {
    writeFileSync(file, bytes);
    utimesSync(file, when, when);
  };

  it('rejects a broken file dated 2099 once the grace has passed, and takes a good one dated 2099', async ({ root, licence, start }) => {
    const svc = await start({ unfinishedGraceMs: 1500 });
    await waitFor(() => svc.service.sponsors().includes(licence));
    const started = Date.now();
    put(path.join(dir(root, licence, 'inbox'), 'future-broken.xml'), '<?xml version="1.0"?><a><b></a>', FUTURE);
    put(path.join(dir(root, licence, 'inbox'), 'future-good.xml'), upload(licence, `${licence}G`), FUTURE);
    await waitProcessed(root, licence, ['future-broken.xml', 'future-good.xml'], 30_000);
    expect(svc.logs.some((l) => l.includes('deferred') && l.includes('future-broken.xml'))).toBe(true);
    expect(readFileSync(path.join(dir(root, licence, 'outbox'), 'future-broken.result.xml'), 'utf8')).toContain('E_NOT_WELL_FORMED');
    expect(readFileSync(path.join(dir(root, licence, 'outbox'), 'future-good.result.xml'), 'utf8')).toContain(
      '<Outcome>ACCEPTED</Outcome>',
    );
    expect(ls(dir(root, licence, 'rejected'))).toHaveLength(1);
    // The grace was the service's 1.5 s, not "2099 plus a minute".
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  });

  it('gives a broken file dated 2000 the same grace from when the service first saw it', async ({ root, licence, start }) => {
    const svc = await start({ unfinishedGraceMs: 1500 });
    await waitFor(() => svc.service.sponsors().includes(licence));
    put(path.join(dir(root, licence, 'inbox'), 'old-broken.xml'), '<?xml version="1.0"?><a><b>', PAST);
    await waitFor(() => svc.logs.some((l) => l.includes('deferred') && l.includes('old-broken.xml')), { what: 'the deferral' });
    await waitProcessed(root, licence, ['old-broken.xml'], 30_000);
    expect(readFileSync(path.join(dir(root, licence, 'outbox'), 'old-broken.result.xml'), 'utf8')).toContain('E_NOT_WELL_FORMED');
  });
});
