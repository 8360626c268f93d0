/** Opening the store: concurrent migrations on PostgreSQL, one process per embedded directory. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { acquireLock } from '../../src/db/lock.ts';
import { waitFor } from '../helpers/wait.ts';
import { describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openStore } from '../../src/db/client.ts';
import { openPgliteDirect } from '../../src/db/pglite-store.ts';
import { rowsOf } from '../../src/db/sql-util.ts';
import { suiteCliStore, suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';

describe.skipIf(!STORE_KINDS.includes('postgres'))('PostgreSQL store', () => {
  const db = suiteCliStore('postgres', '/nonexistent');

  it('applies migrations once when several processes start at once', async () => {
    const stores = await Promise.all([1, 2, 3, 4].map(() => db.open()));
    const [first] = stores;
    const applied = await rowsOf<{ n: number }>(first!.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    const files = (await import('node:fs'))
      .readdirSync(path.resolve(import.meta.dirname, '../../drizzle'))
      .filter((f) => f.endsWith('.sql'));
    expect(applied[0]!.n).toBe(files.length);
    await Promise.all(stores.map((s) => s.close()));
  });
});

describe.skipIf(!STORE_KINDS.includes('pglite'))('embedded store', () => {
  const t = suiteStore('pglite');

  it('refuses a second opener of the same data directory with a clear error, and frees it on close', async () => {
    const dataDir = t.cliArgs[1]!;
    const first = t.store;
    try {
      const second = openPgliteDirect(dataDir, { lockWaitMs: 300 });
      await expect(second).rejects.toMatchObject({ code: 'store-busy' });
      await expect(second).rejects.toThrow(/in use by another cas-bdt process/);
    } finally {
      await first.close();
    }
    const again = await openStore({ databaseUrl: undefined, dataDir, lockWaitMs: 300 });
    await again.close();
  });
});

describe('the embedded store lock', () => {
  it('is held against other processes while the owner lives, and taken over at once after kill -9', async () => {
    const dir = tempDir();
    const lockFile = path.join(dir, 'cas-bdt.lock');
    const script = path.join(dir, 'hold.mts');
    const lockModule = path.resolve(import.meta.dirname, '../../src/db/lock.ts');
    writeFileSync(
      script,
      `import { acquireLock } from ${JSON.stringify(lockModule)};\nconst l = await acquireLock(${JSON.stringify(lockFile)}, 5000);\nconsole.log(l ? 'held' : 'busy');\nsetInterval(() => {}, 1000);\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    try {
      await waitFor(() => out.includes('held'), { what: 'the child to hold the lock' });
      expect(await acquireLock(lockFile, 300)).toBeUndefined();
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const mine = await acquireLock(lockFile, 2000);
      expect(mine).toBeDefined();
      await mine!.release();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
