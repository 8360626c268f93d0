/**
 * Defaults are relative to the current directory: a command run elsewhere uses another
 * store. A new store is announced on stderr with its absolute path, and `watch --help`
 * and `sponsor list` say which store (and folder tree) is in use.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOnStore, runCli } from '../helpers/cli.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';

describe('the default embedded store, relative to the current directory', () => {
  it('is made only by the commands that set one up, and announced with its absolute path then', async () => {
    const cwd = tempDir('cas-bdt-elsewhere-');
    const dataDir = path.join(cwd, '.cas-bdt');
    const help = await runCli(['watch', '--help'], { cwd });
    expect(help.stdout).toContain(`store:   embedded store at ${dataDir} (none there yet`);
    expect(help.stdout).toContain(`folders: ${path.join(cwd, 'bdt')}`);

    // A listing in a directory without a store (a mistyped --data, another folder) is refused, at once.
    const list = await runCli(['sponsor', 'list'], { cwd });
    expect(list.code).toBe(2);
    expect(list.stderr).toContain(`cas-bdt: no store at ${dataDir}: is --data (or CAS_BDT_DATA`);
    expect(list.stderr).toContain("'cas-bdt sponsor add LICENCE --name NAME'");
    expect(existsSync(dataDir)).toBe(false);
    const mistyped = path.join(cwd, 'tyop');
    const json = await runCli(['--data', mistyped, 'cas', 'list', '--sponsor', 'QHDGHB91X', '--json'], { cwd });
    expect(json.code).toBe(2);
    expect(json.json<{ error: { code: string; message: string } }>().error).toMatchObject({
      code: 'usage',
      message: expect.stringContaining(`no store at ${mistyped}`),
    });
    expect(existsSync(mistyped)).toBe(false);

    // The first sponsor makes it, and says where.
    const first = await runCli(['sponsor', 'add', 'ELSEWHER1', '--name', 'Elsewhere College'], { cwd });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`created a new, empty embedded store at ${dataDir}`);
    const second = await runCli(['sponsor', 'list'], { cwd });
    expect(second.stderr).toBe('');
    expect(second.stdout).toContain(`Store: embedded store at ${dataDir}; folders under ${path.join(cwd, 'bdt')}`);
    expect((await runCli(['watch', '--help'], { cwd })).stdout).toMatch(
      new RegExp(`store: +embedded store at ${dataDir.replaceAll('.', '\\.')}\\n`),
    );
    // So does `db migrate`; JSON output stays what cli.md promises, the announcement is on stderr only.
    const other = tempDir('cas-bdt-elsewhere-');
    const migrated = await runCli(['db', 'migrate'], { cwd: other });
    expect(migrated.code).toBe(0);
    expect(migrated.stderr).toContain(path.join(other, '.cas-bdt'));
    expect((await runCli(['sponsor', 'list', '--json'], { cwd: other })).json()).toEqual([]);
  }, 120_000);
});

describe.each(STORE_KINDS)('the store in use on %s', (kind) => {
  const { t, cwd } = cliOnStore(kind, 'cas-bdt-storeinfo-');

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
