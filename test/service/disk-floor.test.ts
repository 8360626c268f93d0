/**
 * `--min-free-mb` with the real `watch` on a real small disk (a tmpfs as the sponsor
 * tree; mounting needs root): filled below the floor, the service takes no new file,
 * says so once in its log and in `/healthz`; once space is freed it takes the waiting
 * file by itself, in the same process, and says that once too.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../chaos/cluster.ts';
import { createLogger } from '../../src/log.ts';
import { DiskGuard } from '../../src/service/disk.ts';
import { suiteChildren, suiteCliStore, suiteDir } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';
import { canMountTinyFs, mountTinyFs, unmountTinyFs } from '../helpers/tiny-fs.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, ls, upload, waitForLog, waitProcessed } from '../helpers/watch.ts';

interface HealthBody {
  status: string;
  reasons: string[];
  queue: { known: number; running: number; ready: number; waiting: number };
}

describe.skipIf(!canMountTinyFs).each(STORE_KINDS)('a sponsor tree below --min-free-mb, %s', (kind) => {
  let fs: string;
  const work = suiteDir('cas-bdt-disk-');
  const db = suiteCliStore(kind, path.join(work, 'data'));
  const L = kind === 'pglite' ? 'DISKF0011' : 'DISKF0022';

  beforeAll(() => {
    fs = mountTinyFs(8 * 1024)!;
  });
  afterAll(() => {
    unmountTinyFs(fs);
  });
  // After the unmount hook, so that it runs first: the tree is unmounted once no child holds it.
  const spawn = suiteChildren();

  it('takes no file while space is short, says why, and goes on by itself once it is freed', async () => {
    const root = path.join(fs, 'bdt');
    const add = spawn(['sponsor', 'add', L, '--name', 'Disk College', '--allocation', '10', '--root', root, ...db.cliArgs]);
    expect(await add.exited, add.stderr()).toBe(0);
    const port = await freePort();
    const w = spawn([
      'watch',
      ...db.cliArgs,
      '--root',
      root,
      '--http',
      `127.0.0.1:${port}`,
      '--settle-ms',
      '200',
      '--scan-interval-ms',
      '1000',
      '--min-free-mb',
      '4',
    ]);
    await waitForLog(w, /INFO\s+HTTP: the console/, 90_000);
    const health = async () => {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      return { status: r.status, body: (await r.json()) as HealthBody };
    };
    await waitFor(async () => (await health()).status === 200, { what: 'healthy at first' });

    // Room enough: a file goes through.
    const inbox = path.join(root, L, 'inbox');
    drop(inbox, 'before.xml', upload(L, 'DF1'));
    await waitProcessed(root, L, ['before.xml']);

    // 8 MiB disk, 5 MiB of it taken: 3 MiB free, below the floor of 4.
    const filler = path.join(fs, 'filler');
    writeFileSync(filler, Buffer.alloc(5 * 1024 * 1024));
    await waitForLog(w, /WARN\s+disk space low/);
    await waitFor(async () => (await health()).status === 503, { what: '/healthz unhealthy' });
    const low = await health();
    expect(low.body.reasons.join('\n')).toMatch(/disk: .* MB free, below --min-free-mb 4; no new file is taken/);

    drop(inbox, 'during.xml', upload(L, 'DF2'));
    // Settled and ready, yet not taken.
    await waitFor(async () => (await health()).body.queue.ready === 1, { what: 'the new file settled and held' });
    expect(ls(inbox)).toEqual(['during.xml']);
    expect(ls(path.join(root, L, 'outbox')).filter((n) => n.startsWith('during'))).toEqual([]);

    rmSync(filler);
    await waitProcessed(root, L, ['during.xml']);
    await waitFor(async () => (await health()).status === 200, { what: 'healthy again' });
    expect(w.stderr().match(/disk space low/g)).toHaveLength(1);
    expect(w.stderr().match(/disk space freed: taking files again/g)).toHaveLength(1);
    w.kill('SIGTERM');
    expect(await w.exited, w.stderr()).toBe(0);
  }, 180_000);
});

describe.skipIf(!canMountTinyFs)('the free-space guard over several folders', () => {
  it('pauses when any one of them (the embedded store, say) is short of space, once, and resumes once', async () => {
    const small = mountTinyFs(4 * 1024)!;
    const big = tempDir('cas-bdt-disk-big-');
    try {
      const lines: string[] = [];
      const changes: boolean[] = [];
      const guard = new DiskGuard({
        paths: [big, small],
        minFreeBytes: 2 * 1024 * 1024,
        log: createLogger({ write: (l) => void lines.push(l) }),
        onChange: (paused) => changes.push(paused),
      });
      expect(await guard.check()).toBe(false);
      writeFileSync(path.join(small, 'filler'), Buffer.alloc(3 * 1024 * 1024));
      expect(await guard.check()).toBe(true);
      expect(await guard.check()).toBe(true);
      expect(guard.reason()).toContain(`disk: ${small} has`);
      rmSync(path.join(small, 'filler'));
      expect(await guard.check()).toBe(false);
      expect(guard.reason()).toBeUndefined();
      expect(changes).toEqual([true, false]);
      expect(lines.filter((l) => /disk space low/.test(l))).toHaveLength(1);
      expect(lines.filter((l) => /disk space freed/.test(l))).toHaveLength(1);
    } finally {
      unmountTinyFs(small);
      rmSync(big, { recursive: true, force: true });
    }
  });
});
