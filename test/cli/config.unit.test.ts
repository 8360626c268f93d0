/**
 * Configuration precedence, flag > environment > config file > default, through the same
 * commander options the CLI has; every source checked by the same parser (a bad value is
 * a usage error wherever it came from). Only a temporary config file, no store.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import {
  applyEnvironmentAndFile,
  commandLineSecretWarning,
  configFrom,
  passwordFromFile,
  settingOptions,
  type SettingValues,
} from '../../src/cli/config.ts';
import { tempDir } from '../helpers/stores.ts';
import { binFor } from '../helpers/watch.ts';

function resolve(argv: string[], env: NodeJS.ProcessEnv, file?: Record<string, unknown>) {
  const cwd = tempDir('cas-bdt-config-');
  if (file) writeFileSync(path.join(cwd, 'cas-bdt.config.json'), JSON.stringify(file));
  const program = new Command('cas-bdt').exitOverride().configureOutput({ writeErr: () => {} });
  for (const option of settingOptions()) program.addOption(option);
  program.parse(argv, { from: 'user' });
  applyEnvironmentAndFile(program, env, cwd);
  return { config: configFrom(program.opts() as SettingValues, cwd), cwd };
}

describe('configuration', () => {
  it('takes the defaults when nothing is given', () => {
    const { config, cwd } = resolve([], {});
    expect(config).toEqual({
      databaseUrl: undefined,
      dataDir: path.join(cwd, '.cas-bdt'),
      rootDir: path.join(cwd, 'bdt'),
      feePence: 2500,
      validityMonths: 6,
      settleMs: 2000,
      scanIntervalMs: 30_000,
      maxFileBytes: 200 * 1024 * 1024,
      concurrency: 2,
      groupFiles: 64,
      poll: false,
      validateTimeoutMs: 60_000,
      minFreeBytes: 512 * 1024 * 1024,
      retainDays: 0,
      exportEveryMs: undefined,
      http: { host: '127.0.0.1', port: 8470 },
      httpHosts: [],
      httpTokenFile: path.join(cwd, '.cas-bdt', 'console-token'),
      httpToken: undefined,
      secretsOnCommandLine: [],
      holidays: 'england-and-wales',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes the free-space floor and the retention from any source, in range', () => {
    const { config } = resolve(['--min-free-mb', '64'], { CAS_BDT_RETAIN_DAYS: '30' });
    expect(config.minFreeBytes).toBe(64 * 1024 * 1024);
    expect(config.retainDays).toBe(30);
    expect(() => resolve(['--retain-days', '-1'], {})).toThrow();
    expect(() => resolve([], { CAS_BDT_MIN_FREE_MB: 'lots' })).toThrow(/min-free-mb/);
  });

  it('takes --export-every as a duration of at least 5 minutes, or off', () => {
    expect(resolve(['--export-every', '12h'], {}).config.exportEveryMs).toBe(12 * 3_600_000);
    expect(resolve([], { CAS_BDT_EXPORT_EVERY: '5m' }).config.exportEveryMs).toBe(300_000);
    expect(resolve([], {}, { 'export-every': '1d' }).config.exportEveryMs).toBe(86_400_000);
    expect(resolve([], { CAS_BDT_EXPORT_EVERY: 'off' }).config.exportEveryMs).toBeUndefined();
    for (const bad of ['4m', '299s', '12', 'often', '1w', '-5m'])
      expect(() => resolve([], { CAS_BDT_EXPORT_EVERY: bad }), bad).toThrow(/export-every must be a duration from 5m/);
    expect(() => resolve(['--export-every', '1m'], {})).toThrow(/export-every must be a duration from 5m/);
  });

  it('the HTTP settings: --http-host repeated or as a list from any source, the token file beside --data, a token of 32 bytes', () => {
    const { config } = resolve(['--http-host', 'console.example.org', '--http-host', 'a.example,B.example', '--data', 'store'], {});
    expect(config.httpHosts).toEqual(['console.example.org', 'a.example', 'b.example']);
    expect(config.httpTokenFile).toMatch(/\/store\/console-token$/);
    expect(resolve([], { CAS_BDT_HTTP_HOST: 'x.example, y.example' }).config.httpHosts).toEqual(['x.example', 'y.example']);
    expect(resolve([], {}, { 'http-host': ['f.example'], http: '0.0.0.0:9000' }).config).toMatchObject({
      httpHosts: ['f.example'],
      http: { host: '0.0.0.0', port: 9000 },
    });
    expect(resolve([], { CAS_BDT_HTTP: 'off' }).config.http).toBe('off');
    expect(() => resolve(['--http-host', 'http://evil.example/'], {})).toThrow();
    expect(() => resolve([], { CAS_BDT_HTTP_TOKEN: 'x'.repeat(31) })).toThrow(/at least 32 bytes/);
    expect(resolve([], { CAS_BDT_HTTP_TOKEN: 'x'.repeat(32) }).config.httpToken).toBe('x'.repeat(32));
  });

  it('names a secret given as a flag (every local user sees it in ps), not one from the environment', () => {
    const cwd = tempDir('cas-bdt-config-');
    const program = new Command('cas-bdt').exitOverride();
    for (const option of settingOptions()) program.addOption(option);
    program.parse(['--http-token', 'y'.repeat(40)], { from: 'user' });
    applyEnvironmentAndFile(program, {}, cwd);
    expect(configFrom(program.opts() as SettingValues, cwd, {}, (n) => program.getOptionValueSource(n)).secretsOnCommandLine).toEqual([
      '--http-token',
    ]);
    const viaEnv = new Command('cas-bdt').exitOverride();
    for (const option of settingOptions()) viaEnv.addOption(option);
    viaEnv.parse([], { from: 'user' });
    applyEnvironmentAndFile(viaEnv, { CAS_BDT_HTTP_TOKEN: 'y'.repeat(40) }, cwd);
    expect(configFrom(viaEnv.opts() as SettingValues, cwd, {}, (n) => viaEnv.getOptionValueSource(n)).secretsOnCommandLine).toEqual([]);
  });

  it('ranks a flag over the environment, the environment over the config file, the file over the default', () => {
    const file = { concurrency: 3, 'settle-ms': 300, validityMonths: 12, fee: '10.00', root: 'from-file' };
    const env = { CAS_BDT_CONCURRENCY: '5', CAS_BDT_SETTLE_MS: '500', CAS_BDT_POLL: 'yes' };
    const { config, cwd } = resolve(['--concurrency', '7'], env, file);
    expect(config.concurrency).toBe(7); // flag
    expect(config.settleMs).toBe(500); // environment over file
    expect(config.poll).toBe(true); // environment over default
    expect(config.validityMonths).toBe(12); // file over default
    expect(config.feePence).toBe(1000); // file, parsed like a flag
    expect(config.rootDir).toBe(path.join(cwd, 'from-file'));
    expect(config.scanIntervalMs).toBe(30_000); // default
  });

  it('reads the config file named by the environment, and a flag names another', () => {
    const cwd = tempDir('cas-bdt-config-');
    writeFileSync(path.join(cwd, 'a.json'), JSON.stringify({ concurrency: 4 }));
    writeFileSync(path.join(cwd, 'b.json'), JSON.stringify({ concurrency: 9 }));
    const build = (argv: string[]) => {
      const program = new Command('cas-bdt').exitOverride();
      for (const option of settingOptions()) program.addOption(option);
      program.parse(argv, { from: 'user' });
      applyEnvironmentAndFile(program, { CAS_BDT_CONFIG: 'a.json' }, cwd);
      return configFrom(program.opts() as SettingValues, cwd);
    };
    expect(build([]).concurrency).toBe(4);
    expect(build(['--config', 'b.json']).concurrency).toBe(9);
  });

  it('refuses an out-of-range value as a usage error from the environment and from the file alike', () => {
    expect(() => resolve([], { CAS_BDT_CONCURRENCY: '65' })).toThrow(
      expect.objectContaining({ code: 'usage', message: expect.stringContaining('from 1 to 64') }),
    );
    expect(() => resolve([], {}, { validityMonths: 600 })).toThrow(expect.objectContaining({ code: 'usage' }));
    expect(() => resolve([], {}, { colour: 'blue' })).toThrow(/unknown setting "colour"/);
    // A flag with a bad value is refused by commander before anything else.
    expect(() => resolve(['--fee', '10000.01'], {})).toThrow(/fee must be at most 10000.00/);
  });

  it('takes the nation whose bank holidays due dates skip from a flag, the environment or the file, and refuses others', () => {
    expect(resolve(['--holidays', 'scotland'], {}).config.holidays).toBe('scotland');
    expect(resolve([], { CAS_BDT_HOLIDAYS: 'Northern-Ireland' }).config.holidays).toBe('northern-ireland');
    expect(resolve([], {}, { holidays: 'scotland' }).config.holidays).toBe('scotland');
    expect(() => resolve([], { CAS_BDT_HOLIDAYS: 'wales' })).toThrow(
      expect.objectContaining({ code: 'usage', message: expect.stringContaining('england-and-wales, scotland, northern-ireland') }),
    );
  });

  it('keeps a valid flag when the environment holds a bad value for the same setting', () => {
    expect(resolve(['--concurrency', '3'], { CAS_BDT_CONCURRENCY: 'lots' }).config.concurrency).toBe(3);
  });

  describe('the system-wide config file', () => {
    /** A program resolved in `cwd` with `system` standing for /etc/cas-bdt/config.json. */
    function withSystem(cwd: string, system: string, argv: string[] = [], env: NodeJS.ProcessEnv = {}) {
      const program = new Command('cas-bdt').exitOverride();
      for (const option of settingOptions()) program.addOption(option);
      program.parse(argv, { from: 'user' });
      applyEnvironmentAndFile(program, env, cwd, system);
      return configFrom(program.opts() as SettingValues, cwd, env);
    }

    it("is read from any folder when no other config is given, so every command sees the service's store", () => {
      const etc = tempDir('cas-bdt-etc-');
      const system = path.join(etc, 'config.json');
      writeFileSync(system, JSON.stringify({ root: '/srv/bdt', data: '/var/lib/cas-bdt', 'settle-ms': 5000 }));
      const config = withSystem(tempDir('cas-bdt-elsewhere-'), system);
      expect(config).toMatchObject({ rootDir: '/srv/bdt', dataDir: '/var/lib/cas-bdt', settleMs: 5000 });
    });

    it('gives way to ./cas-bdt.config.json, to CAS_BDT_CONFIG and to --config; a missing one is no error', () => {
      const etc = tempDir('cas-bdt-etc-');
      const system = path.join(etc, 'config.json');
      writeFileSync(system, JSON.stringify({ concurrency: 3 }));
      const cwd = tempDir('cas-bdt-config-');
      writeFileSync(path.join(cwd, 'other.json'), JSON.stringify({ concurrency: 5 }));
      expect(withSystem(cwd, system, [], { CAS_BDT_CONFIG: 'other.json' }).concurrency).toBe(5);
      expect(withSystem(cwd, system, ['--config', 'other.json']).concurrency).toBe(5);
      writeFileSync(path.join(cwd, 'cas-bdt.config.json'), JSON.stringify({ concurrency: 4 }));
      expect(withSystem(cwd, system).concurrency).toBe(4);
      expect(withSystem(tempDir('cas-bdt-config-'), path.join(etc, 'absent.json')).concurrency).toBe(2);
    });

    it('says how to read one the user may not read (as another user, through the CLI)', () => {
      const etc = tempDir('cas-bdt-etc-');
      chmodSync(etc, 0o755);
      const system = path.join(etc, 'config.json');
      writeFileSync(system, '{}', { mode: 0o600 });
      chmodSync(system, 0o600);
      if (process.getuid?.() !== 0) {
        chmodSync(system, 0o000);
        expect(() => withSystem(tempDir('cas-bdt-config-'), system)).toThrow(
          /cannot be read \(EACCES\): run the command as the service user/,
        );
        return;
      }
      const r = spawnSync(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, binFor('65534'), '--config', system, 'sponsor', 'list'],
        { cwd: '/', encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/cannot be read \(EACCES\): run the command as the service user/);
    });
  });

  describe('the database password', () => {
    const url = 'postgres://cas_bdt@db.example.ac.uk:5432/cas_bdt?sslmode=verify-full';

    function passfile(body: string, mode = 0o600): string {
      const dir = tempDir('cas-bdt-pgpass-');
      const file = path.join(dir, 'pgpass');
      writeFileSync(file, body, { mode });
      chmodSync(file, mode);
      return file;
    }

    it('takes the first matching line of a libpq password file, with wildcards and escapes', () => {
      const file = passfile(
        [
          '# comment',
          'other.example:5432:cas_bdt:cas_bdt:wrong-host',
          'db.example.ac.uk:5433:*:*:wrong-port',
          'db.example.ac.uk:*:cas_bdt:someone:wrong-user',
          'db.example.ac.uk:5432:*:cas_bdt:pa\\:ss\\\\word:with-colon',
          '*:*:*:*:fallback',
          '',
        ].join('\n'),
      );
      expect(passwordFromFile(file, url)).toBe('pa:ss\\word:with-colon');
      expect(passwordFromFile(file, 'postgres://x@h/d')).toBe('fallback');
      expect(passwordFromFile(passfile('h:5432:d:u:p\n'), 'postgres://cas_bdt@db.example.ac.uk/cas_bdt')).toBeUndefined();
    });

    it('refuses a password file that group or others may read, as libpq does, and says how to fix it', () => {
      const file = passfile('*:*:*:*:secret\n', 0o640);
      expect(() => passwordFromFile(file, url)).toThrow(/may be read or written by group or others \(mode 0640\): chmod 600/);
      expect(() => passwordFromFile(file, url)).not.toThrow(/secret/);
      expect(passwordFromFile(path.join(tempDir('cas-bdt-pgpass-'), 'absent'), url)).toBeUndefined();
    });

    it('comes from the URL, else PGPASSWORD, else --db-passfile / PGPASSFILE / the config file, else ~/.pgpass', () => {
      const file = passfile('*:*:*:*:from-file\n');
      const home = tempDir('cas-bdt-home-');
      writeFileSync(path.join(home, '.pgpass'), '*:*:*:*:from-home\n', { mode: 0o600 });
      const { config: inUrl } = resolve(['--db', 'postgres://u:in-url@h/d'], { PGPASSWORD: 'env', HOME: home });
      expect(inUrl.databasePassword).toBeUndefined(); // the URL's own, which the driver reads
      const cases: [string[], NodeJS.ProcessEnv, Record<string, unknown> | undefined, string | undefined][] = [
        [['--db', url], { PGPASSWORD: 'from-env', PGPASSFILE: file, HOME: home }, undefined, 'from-env'],
        [['--db', url, '--db-passfile', file], { HOME: home }, undefined, 'from-file'],
        [['--db', url], { PGPASSFILE: file, HOME: home }, undefined, 'from-file'],
        [[], { HOME: home }, { db: url, 'db-passfile': file }, 'from-file'],
        [['--db', url], { HOME: home }, undefined, 'from-home'],
        [['--db', url], { HOME: tempDir('cas-bdt-home-') }, undefined, undefined],
        [[], { PGPASSWORD: 'unused', HOME: home }, undefined, undefined], // the embedded store needs none
      ];
      for (const [argv, env, file, want] of cases) {
        const cwd = tempDir('cas-bdt-config-');
        if (file) writeFileSync(path.join(cwd, 'cas-bdt.config.json'), JSON.stringify(file));
        const program = new Command('cas-bdt').exitOverride();
        for (const option of settingOptions()) program.addOption(option);
        program.parse(argv, { from: 'user' });
        applyEnvironmentAndFile(program, env, cwd, path.join(cwd, 'no-system.json'));
        expect(configFrom(program.opts() as SettingValues, cwd, env).databasePassword, JSON.stringify([argv, env, file])).toBe(want);
      }
    });

    it('warns about a password in a --db URL, and only there', () => {
      const warning = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
        const program = new Command('cas-bdt').exitOverride();
        for (const option of settingOptions()) program.addOption(option);
        program.parse(argv, { from: 'user' });
        applyEnvironmentAndFile(program, env, tempDir('cas-bdt-config-'), '/nonexistent/config.json');
        return commandLineSecretWarning(program);
      };
      expect(warning(['--db', 'postgres://u:hunter2@h/d'])).toMatch(/--db URL holds a password.*process list/);
      expect(warning(['--db', 'postgres://u:hunter2@h/d'])).not.toMatch(/hunter2/);
      expect(warning(['--db', 'postgres://u@h/d'])).toBeUndefined();
      expect(warning([], { DATABASE_URL: 'postgres://u:hunter2@h/d' })).toBeUndefined();
    });
  });
});
