/**
 * `cas-bdt watch` on the embedded store, as a real process: it serves the store to the
 * other commands while it runs (a sponsor added meanwhile is watched at once, queries and
 * allocation work, several at a time), refuses a second service on the same store, and on
 * SIGTERM finishes the file in progress and exits 0, leaving the store to the next opener.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socketPath } from '../../src/db/store-paths.ts';
import { runCli } from '../helpers/cli.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, ls, spawnCli, upload, waitForLog, waitProcessed, type Child } from '../helpers/watch.ts';

describe.skipIf(!STORE_KINDS.includes('pglite'))('watch on the embedded store', () => {
  let work: string;
  let root: string;
  let data: string;
  const children: Child[] = [];
  const cli = (...args: string[]) => runCli([...args, '--data', data, '--root', root]);

  beforeAll(() => {
    work = tempDir('cas-bdt-embedded-');
    root = path.join(work, 'bdt');
    data = path.join(work, 'data');
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    rmSync(work, { recursive: true, force: true });
  });

  it('serves the other commands, watches a sponsor added meanwhile, refuses a second service, stops cleanly on SIGTERM', async () => {
    expect((await cli('sponsor', 'add', 'EMBED0001', '--name', 'First College', '--allocation', '5000')).code).toBe(0);
    const service = spawnCli(['watch', '--data', data, '--root', root, '--settle-ms', '200', '--scan-interval-ms', '500']);
    children.push(service);
    await waitForLog(service, /INFO\s+ready/, 90_000);
    expect(service.stderr()).toMatch(/store: embedded store at .* \(served to other commands on .*\.s\.PGSQL\.5432\)/);
    expect(service.stderr()).toMatch(/watching 1 sponsor: EMBED0001/);

    // A sponsor added through the running service is watched without a restart.
    const added = await cli('sponsor', 'add', 'EMBED0002', '--name', 'Second School', '--allocation', '3', '--json');
    expect(added.code, added.stderr).toBe(0);
    await waitForLog(service, /watching a new sponsor sponsor=EMBED0002/, 30_000);
    drop(path.join(root, 'EMBED0002', 'inbox'), 'first.xml', upload('EMBED0002', 'E2A', 2));
    await waitProcessed(root, 'EMBED0002', ['first.xml']);
    await waitForLog(
      service,
      /processed sponsor=EMBED0002 file=first.xml outcome=ACCEPTED submission=\d+ records=2 created=2 amended=0 assigned=2/,
    );

    const list = await cli('cas', 'list', '--sponsor', 'EMBED0002', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect(list.json<{ status: string }[]>().map((c) => c.status)).toEqual(['ASSIGNED', 'ASSIGNED']);
    expect((await cli('sponsor', 'allocate', 'EMBED0002', '5')).code).toBe(0);
    const shown = await cli('sponsor', 'show', 'EMBED0002', '--json');
    expect(shown.json<{ allocation: unknown }>().allocation).toEqual({ granted: 8, used: 2, unused: 6 });

    // A second service on the same store is refused.
    const second = spawnCli(['watch', '--data', data, '--root', root]);
    children.push(second);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/another cas-bdt watch is already serving the embedded store/);

    // Commands run while a backlog is being processed, several at once.
    const inbox1 = path.join(root, 'EMBED0001', 'inbox');
    const outbox1 = path.join(root, 'EMBED0001', 'outbox');
    const bulk = Array.from({ length: 16 }, (_, i) => `bulk-${String(i).padStart(2, '0')}.xml`);
    for (const [i, name] of bulk.entries()) writeFileSync(path.join(inbox1, name), upload('EMBED0001', `E1B${i}`, 500));
    // Under way: a first result is out and files are still waiting.
    await waitFor(() => ls(outbox1).length >= 1, { timeoutMs: 120_000, what: 'the backlog under way' });
    const busy = await Promise.all([
      cli('sponsor', 'list', '--json'),
      cli('submissions', '--json'),
      cli('cas', 'list', '--sponsor', 'EMBED0002', '--json'),
      cli('sponsor', 'show', 'EMBED0001', '--json'),
    ]);
    for (const r of busy) expect(r.code, r.stderr).toBe(0);
    expect(busy[0]!.json<unknown[]>()).toHaveLength(2);
    // SIGTERM with work in progress: what was taken is finished, then the service exits 0.
    service.kill('SIGTERM');
    expect(await service.exited, service.stderr()).toBe(0);
    expect(service.stderr()).toMatch(/INFO\s+stopped/);
    expect(existsSync(socketPath(data))).toBe(false);
    const results = ls(outbox1);
    const waiting = ls(inbox1);
    // Every file is either finished (result and archive) or untouched in the inbox: none is left half-way.
    expect(results.length + waiting.length).toBe(bulk.length);
    expect(ls(path.join(root, 'EMBED0001', 'archive'))).toHaveLength(results.length);

    // The store is free again: commands open it directly, and no claim is left unfinished.
    const after = await cli('submissions', '--json');
    expect(after.code, after.stderr).toBe(0);
    expect(
      after
        .json<{ file: string; outcome: string }[]>()
        .map((s) => [s.file, s.outcome])
        .sort(),
    ).toEqual([['first.xml', 'ACCEPTED'], ...results.map((r) => [r.replace('.result.xml', '.xml'), 'ACCEPTED'])].sort());
  }, 300_000);
});
