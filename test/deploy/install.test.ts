/**
 * Installable outside the clone: `npm pack` (from a copy of the package, so that a build
 * never rewrites the dist/ that other tests are running) gives a tarball with the
 * compiled code, schemas, migrations and the lock file as a shrinkwrap, and nothing of
 * the tests; `npm install -g --prefix` of it (offline when the npm cache has every
 * package) gives a `cas-bdt` that starts and processes a file from any folder. The
 * systemd unit in deploy/ runs that binary (not npx) and passes `systemd-analyze verify`.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/stores.ts';
import { builtAfterSources } from '../helpers/build.ts';
import { REPO } from '../helpers/watch.ts';

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
const NPM_ENV = { npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

describe('the npm package, installed outside the clone', () => {
  let work: string;
  let prefix: string;
  let tarball: string;
  let files: string[];

  beforeAll(() => {
    work = tempDir('cas-bdt-install-');
    const copy = path.join(work, 'source');
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { files: string[] };
    // The compiled code as `npm test` built it; without a current build, the sources, and
    // `prepare` compiles them in the copy (it builds only where the sources are).
    const current = builtAfterSources();
    for (const f of [
      ...pkg.files,
      'package.json',
      'package-lock.json',
      ...(current ? [] : ['src', 'tsconfig.json', 'tsconfig.build.json']),
    ]) {
      if ((f === 'dist/' && !current) || !existsSync(path.join(REPO, f))) continue;
      cpSync(path.join(REPO, f), path.join(copy, f), { recursive: true });
    }
    symlinkSync(path.join(REPO, 'node_modules'), path.join(copy, 'node_modules'));
    const packed = sh('npm', ['pack', '--json', '--pack-destination', work], copy, NPM_ENV);
    expect(packed.code, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(work, info!.filename);
    files = info!.files.map((f) => f.path);
    expect(existsSync(path.join(copy, 'npm-shrinkwrap.json')), 'the shrinkwrap is removed after packing').toBe(false);

    prefix = path.join(work, 'prefix');
    const installed = sh('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', tarball], work, NPM_ENV);
    expect(installed.code, installed.stderr).toBe(0);
  }, 600_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('holds the compiled code, schemas, migrations and the pinned dependency tree, and no tests or sources', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/cas-bdt.js',
        'dist/cli/main.js',
        'dist/xml/xsd-worker.js',
        'schemas/upload-general.xsd',
        'drizzle/meta/_journal.json',
        'npm-shrinkwrap.json',
        'deploy/cas-bdt.service',
      ]),
    );
    expect(files.filter((f) => /^(src|test|fixtures|bench)\//.test(f))).toEqual([]);
    expect(existsSync(path.join(prefix, 'lib/node_modules/cas-bdt/node_modules/vitest'))).toBe(false);
  });

  it('installs no TypeScript loader, no native build tool and no PGlite extension', () => {
    const modules = path.join(prefix, 'lib/node_modules/cas-bdt/node_modules');
    for (const dev of ['tsx', 'esbuild', '@esbuild']) expect(existsSync(path.join(modules, dev)), dev).toBe(false);
    expect(readdirSync(path.join(modules, '@electric-sql'))).toEqual(['pglite']);
  });

  it('gives a cas-bdt on the PATH that processes a file from another folder', () => {
    const bin = path.join(prefix, 'bin');
    const elsewhere = path.join(work, 'elsewhere');
    mkdirSync(elsewhere);
    const cli = (...args: string[]) => sh('cas-bdt', args, elsewhere, { PATH: `${bin}:${process.env.PATH}` });
    const help = cli('--help');
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/watch/);
    expect(cli('sponsor', 'add', 'QHDGHB91X', '--name', 'Example University', '--allocation', '10').code).toBe(0);
    const fixture = path.join(work, 'general-basic.xml');
    cpSync(path.join(REPO, 'fixtures/upload/general-basic.xml'), fixture);
    const processed = cli('process', fixture, '--sponsor', 'QHDGHB91X');
    expect(processed.code, processed.stderr).toBe(0);
    // Defaults are relative to where it runs: ./.cas-bdt and ./bdt.
    const result = readFileSync(path.join(elsewhere, 'bdt/QHDGHB91X/outbox/general-basic.result.xml'), 'utf8');
    expect(result).toMatch(/<Outcome>ACCEPTED<\/Outcome>/);
    expect(existsSync(path.join(elsewhere, '.cas-bdt'))).toBe(true);
  });

  it('is a file git ignores where npm pack leaves it, in the clone', () => {
    const ignored = sh('git', ['check-ignore', '--no-index', '-q', path.basename(tarball)], REPO);
    expect(ignored.code, 'cas-bdt-*.tgz in .gitignore').toBe(0);
  });

  it.skipIf(!SYSTEMD_ANALYZE)('has a systemd unit that runs the installed binary and passes systemd-analyze verify', () => {
    const unit = readFileSync(path.join(REPO, 'deploy/cas-bdt.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/cas-bdt watch /m);
    expect(unit).not.toMatch(/npx/);
    for (const key of [
      'User=cas-bdt',
      'Restart=on-failure',
      'KillSignal=SIGTERM',
      'ProtectSystem=strict',
      'NoNewPrivileges=yes',
      'UMask=0027',
    ])
      expect(unit).toContain(key);
    // '-': a folder missing at start must not fail every start with 226/NAMESPACE.
    expect(unit).toMatch(/^ReadWritePaths=-\/srv\/bdt -\/var\/lib\/cas-bdt$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/cas-bdt watch --config \/etc\/cas-bdt\/config.json$/m);
    expect(unit).toMatch(/^TimeoutStopSec=\d+/m);
    // Where `npm install -g` put it here instead of /usr/local; the unit is otherwise as shipped.
    const dir = path.join(work, 'units');
    mkdirSync(dir);
    const copy = path.join(dir, 'cas-bdt.service');
    writeFileSync(copy, unit.replaceAll('/usr/local/bin/cas-bdt', path.join(prefix, 'bin/cas-bdt')));
    const verified = sh(SYSTEMD_ANALYZE!, ['verify', copy], dir);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr.trim()).toBe('');
  });
});
