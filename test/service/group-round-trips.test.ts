/**
 * The round trips a backlog's files take on PostgreSQL, counted on the wire by
 * bench/statements-per-file.ts (the real service, with a tap on its connections to the
 * database): a group locks its sponsor first, sends each file's look-ups with its first
 * statements and each file's last writes with the next file's first ones (handle-group.ts),
 * and writes its batch, payment and CAS without waiting for an answer between them
 * (StoreContext.pipelined): a little over one round trip per file. Waiting for the batch's
 * and payment's ids takes it to over two; without the first two, more than three. The
 * statements per file are held where they are too, and each group's transaction lets its
 * statements be planned once (allowGenericPlans): one statement per group.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/stores.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe.skipIf(!STORE_KINDS.includes('postgres'))('round trips of a group on PostgreSQL', () => {
  it('takes fewer than two round trips and eleven statements per file', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'bench/statements-per-file.ts'), '--files', '150', '--warmup', '5'],
      { cwd: ROOT, encoding: 'utf8', timeout: 300_000 },
    );
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const figure = (name: string) => Number(new RegExp(`^${name} per file\\s+([\\d.]+)`, 'm').exec(run.stdout)?.[1]);
    expect(run.stdout).toMatch(/155 of 155 submissions accepted/);
    expect(figure('round trips'), run.stdout).toBeLessThan(2);
    expect(figure('statements'), run.stdout).toBeLessThan(11);
    const generic = /^\s+([\d.]+)\s+set local plan_cache_mode = auto$/m.exec(run.stdout);
    expect(generic, run.stdout).not.toBeNull();
    expect(Number(generic![1]), run.stdout).toBeLessThan(0.5);
  });
});
