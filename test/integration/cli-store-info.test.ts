/**
 * Defaults are relative to the current directory: a command run elsewhere uses another
 * store. A new store is announced on stderr with its absolute path, and `watch --help`
 * and `sponsor list` say which store (and folder tree) is in use.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { openTestStore, STORE_KINDS, tempDir, type TestStore } from '../helpers/stores.ts';

describe('the default embedded store, relative to the current directory', () => {
  it('is announced with its absolute path when a command creates it, and only then', async () => {
    const cwd = tempDir('cas-bdt-elsewhere-');
    const dataDir = path.join(cwd, '.cas-bdt');
    const help = await runCli(['watch', '--help'], { cwd });
    expect(help.stdout).toContain(`store:   embedded store at ${dataDir} (none there yet`);
    expect(help.stdout).toContain(`folders: ${path.join(cwd, 'bdt')}`);

    const first = await runCli(['sponsor', 'list'], { cwd });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`created a new, empty embedded store at ${dataDir}`);
    expect(first.stdout).toContain(`Store: embedded store at ${dataDir}; folders under ${path.join(cwd, 'bdt')}`);
    const second = await runCli(['sponsor', 'list'], { cwd });
    expect(second.stderr).toBe('');
    expect((await runCli(['watch', '--help'], { cwd })).stdout).toMatch(
      new RegExp(`store: +embedded store at ${dataDir.replaceAll('.', '\\.')}\\n`),
    );
    // JSON output stays the array cli.md promises; the announcement is on stderr only.
    const other = tempDir('cas-bdt-elsewhere-');
    const json = await runCli(['sponsor', 'list', '--json'], { cwd: other });
    expect(json.json()).toEqual([]);
    expect(json.stderr).toContain(path.join(other, '.cas-bdt'));
  }, 120_000);
});

describe.each(STORE_KINDS)('the store in use on %s', (kind) => {
  let t: TestStore;
  let cwd: string;
  beforeAll(async () => {
    t = await openTestStore(kind);
    if (kind === 'pglite') await t.store.close();
    cwd = tempDir('cas-bdt-storeinfo-');
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('is named by watch --help and sponsor list, never with a password', async () => {
    const where = kind === 'pglite' ? `embedded store at ${t.cliArgs[1]}` : `PostgreSQL ${t.cliArgs[1]}`;
    const help = await runCli([...t.cliArgs, 'watch', '--help'], { cwd });
    expect(help.stdout).toContain(`store:   ${where}`);
    const added = await runCli([...t.cliArgs, 'sponsor', 'add', 'STOREINF1', '--name', 'Store College'], { cwd });
    expect(added.stderr).toBe('');
    expect(added.stdout).toContain(`Folders:      ${path.join(cwd, 'bdt', 'STOREINF1')}/{inbox,outbox,archive,rejected}`);
    const list = await runCli([...t.cliArgs, 'sponsor', 'list'], { cwd });
    expect(list.stdout).toContain(`Store: ${where}; folders under ${path.join(cwd, 'bdt')}`);
    if (kind === 'postgres') {
      const withPassword = t.cliArgs[1]!.replace('postgres@', 'postgres:s3cret@');
      const h = await runCli(['--db', withPassword, 'watch', '--help'], { cwd });
      expect(h.stdout).toContain('postgres:***@');
      expect(h.stdout).not.toContain('s3cret');
    }
  });
});
