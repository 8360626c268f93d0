/**
 * cas-bdt needs no Java: the real CLI processes a Home Office format file, valid and
 * invalid, with an empty PATH (no `java` to be found) on the embedded store.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/stores.ts';
import { BIN, REPO } from '../helpers/watch.ts';

const work = tempDir('cas-bdt-nojava-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cli = (args: string[]) =>
  spawnSync(process.execPath, [BIN, '--data', path.join(work, 'data'), '--root', path.join(work, 'bdt'), ...args], {
    cwd: work,
    encoding: 'utf8',
    env: { PATH: '', HOME: work },
  });

describe('without Java', () => {
  it('validates and processes files with nothing but Node.js on the PATH', () => {
    expect(spawnSync('sh', ['-c', 'command -v java'], { env: { PATH: '' } }).status).not.toBe(0);
    expect(cli(['sponsor', 'add', 'QHDGHB91X', '--name', 'No Java College', '--allocation', '5']).status).toBe(0);
    const good = cli(['process', path.join(REPO, 'fixtures/upload/general-basic.xml'), '--sponsor', 'QHDGHB91X', '--json']);
    expect(good.status, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)[0]).toMatchObject({ outcome: 'ACCEPTED' });

    const bad = path.join(work, 'bad.xml');
    writeFileSync(
      bad,
      readFileSync(path.join(REPO, 'fixtures/upload/general-basic.xml'), 'latin1').replace(/<Gender>[^<]*</, '<Gender>9<'),
      'latin1',
    );
    const refused = cli(['process', bad, '--sponsor', 'QHDGHB91X', '--json']);
    expect(refused.status, refused.stderr).toBe(3);
    expect(JSON.parse(refused.stdout)[0].fileErrors.map((e: { code: string }) => e.code)).toEqual(['E_SCHEMA']);
  });
});
