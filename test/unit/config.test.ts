/**
 * Configuration precedence, flag > environment > config file > default, through the same
 * commander options the CLI has; every source checked by the same parser (a bad value is
 * a usage error wherever it came from). Only a temporary config file, no store.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { applyEnvironmentAndFile, configFrom, settingOptions, type SettingValues } from '../../src/config.ts';
import { tempDir } from '../helpers/stores.ts';

function resolve(argv: string[], env: NodeJS.ProcessEnv, file?: Record<string, unknown>) {
  const cwd = tempDir('cas-bdt-config-');
  if (file) writeFileSync(path.join(cwd, 'cas-bdt.config.json'), JSON.stringify(file));
  const program = new Command('cas-bdt').exitOverride().configureOutput({ writeErr: () => {} });
  for (const option of settingOptions()) program.addOption(option);
  program.parse(argv, { from: 'user' });
  applyEnvironmentAndFile(program, env, cwd);
  return { config: configFrom(program.opts<SettingValues>(), cwd), cwd };
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
      poll: false,
      validateTimeoutMs: 60_000,
      http: { host: '127.0.0.1', port: 8470 },
      httpHosts: [],
      httpTokenFile: path.join(cwd, '.cas-bdt', 'console-token'),
      httpToken: undefined,
      secretsOnCommandLine: [],
    });
    expect(Object.isFrozen(config)).toBe(true);
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
    expect(configFrom(program.opts<SettingValues>(), cwd, (n) => program.getOptionValueSource(n)).secretsOnCommandLine).toEqual([
      '--http-token',
    ]);
    const viaEnv = new Command('cas-bdt').exitOverride();
    for (const option of settingOptions()) viaEnv.addOption(option);
    viaEnv.parse([], { from: 'user' });
    applyEnvironmentAndFile(viaEnv, { CAS_BDT_HTTP_TOKEN: 'y'.repeat(40) }, cwd);
    expect(configFrom(viaEnv.opts<SettingValues>(), cwd, (n) => viaEnv.getOptionValueSource(n)).secretsOnCommandLine).toEqual([]);
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
      return configFrom(program.opts<SettingValues>(), cwd);
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

  it('keeps a valid flag when the environment holds a bad value for the same setting', () => {
    expect(resolve(['--concurrency', '3'], { CAS_BDT_CONCURRENCY: 'lots' }).config.concurrency).toBe(3);
  });
});
