/**
 * The embedded store's commits are on disk before anything that depends on them: a
 * traced `cas-bdt process` (strace) must flush the WAL segment it wrote the submission
 * to, after its last write there, before the result file is linked into the outbox.
 * Without it a power cut could leave a result whose CAS numbers the store has lost.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasStrace, tracedRun } from '../../chaos/flush-order.ts';
import { runCli } from '../helpers/cli.ts';
import { suiteCliStore, suiteDir } from '../helpers/fixture.ts';
import { upload } from '../helpers/watch.ts';

describe.skipIf(!hasStrace())('embedded store durability (strace)', () => {
  const work = suiteDir('cas-bdt-durable-');
  const store = suiteCliStore('pglite', path.join(work, 'data'));

  it('flushes the WAL after the commit and before the result is linked', async () => {
    const root = path.join(work, 'bdt');
    const cli = (...args: string[]) => runCli([...args, ...store.cliArgs, '--root', root]);
    const licence = 'DURAB0001';
    const added = await cli('sponsor', 'add', licence, '--name', 'Durable College', '--allocation', '100');
    expect(added.code, added.stderr).toBe(0);
    const input = path.join(work, 'durable.xml');
    writeFileSync(input, upload(licence, 'DUR', 5));
    const { status, stderr, order } = tracedRun(
      ['process', input, '--sponsor', licence, ...store.cliArgs, '--root', root],
      path.join(work, 'trace'),
    );
    expect(status, stderr).toBe(0);
    expect(order.results).toBe(1);
    expect(order.walFlushes, 'the WAL was flushed').toBeGreaterThan(0);
    expect(order.unflushed).toEqual([]);

    // The store reopens with the CAS the result gives.
    const list = await cli('cas', 'list', '--sponsor', licence, '--json');
    expect(list.code, list.stderr).toBe(0);
    const result = readFileSync(path.join(root, licence, 'outbox', 'durable.result.xml'), 'utf8');
    for (const cas of list.json<{ casNumber: string }[]>()) expect(result).toContain(cas.casNumber);
    expect(list.json<unknown[]>()).toHaveLength(5);
  });
});
