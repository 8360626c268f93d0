/**
 * Set-up A with the real programs: cas-bdt runs on the server as its own user, and each
 * sponsor's system logs in with OpenSSH's sftp to its own account, chrooted to its folder
 * by sshd (the project's fragment and account script). Uploads the way clients make them:
 * a large `put` through a throttled link onto the final name, a `.filepart` renamed at the
 * end, an upload cut off and resumed with `reput`, a name used again after its first
 * result. Each file gets exactly one result, which the sponsor downloads over SFTP (the
 * service's files are readable through the sponsor's group); a sponsor sees nothing of
 * another sponsor's folders nor of the store, and cannot touch what it must not.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coerceError } from '../../src/errors.ts';
import { submissions } from '../../src/db/schema.ts';
import { sftpServerForSuite, sftpUnavailable, run } from '../helpers/sshd.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { ls, nextLicence, spawnCli, sponsor, upload, waitForLog, type Child } from '../helpers/watch.ts';

const unavailable = sftpUnavailable();
if (unavailable) console.warn(`SFTP set-up A tests skipped: ${unavailable}`);

/** What a result says, read back from its XML. */
function resultOf(xml: string) {
  const summary = /<Summary records="(\d+)"[^>]* assigned="(\d+)"/.exec(xml);
  return {
    fileName: /<FileName>([^<]*)<\/FileName>/.exec(xml)?.[1],
    outcome: /<\/Submission>\s*<Outcome>([A-Z_]+)<\/Outcome>/.exec(xml)?.[1],
    replay: /<Replay>(\w+)<\/Replay>/.exec(xml)?.[1],
    records: Number(summary?.[1]),
    assigned: Number(summary?.[2]),
  };
}

describe.skipIf(unavailable !== undefined)('sponsors uploading over SFTP (set-up A)', () => {
  const server = sftpServerForSuite();

  describe.each(STORE_KINDS)('on %s', (kind) => {
    const t = suiteStore(kind);
    let service: Child | undefined;
    let client: string;
    const A = nextLicence('S');
    const B = nextLicence('S');
    const dir = (licence: string, f: string) => path.join(server().root, licence, f);

    beforeAll(async () => {
      await sponsor(t.store.db, A, 5000);
      await sponsor(t.store.db, B, 5000);
      server().addSponsor(A);
      server().addSponsor(B);
      client = path.join(server().base, `client-${kind}`);
      mkdirSync(client, { mode: 0o700 });
      if (kind === 'pglite') {
        // The embedded store belongs to the service user, which opens it alone.
        await t.store.close();
        const data = t.cliArgs[1]!;
        run('chown', ['-R', `${server().serviceUser}:`, path.dirname(data)]);
      }
      service = spawnCli(
        ['watch', ...t.cliArgs, '--root', server().root, '--settle-ms', '1000', '--scan-interval-ms', '1000', '--http', 'off'],
        {
          asUser: server().serviceUser,
          cwd: server().base,
          env: { HOME: server().base },
        },
      );
      await waitForLog(service, /INFO\s+ready/, 90_000);
    });
    afterAll(async () => {
      service?.kill('SIGKILL');
      await service?.exited;
    });

    const local = (name: string, bytes: Buffer) => {
      writeFileSync(path.join(client, name), bytes);
      return path.join(client, name);
    };
    const sftpOk = async (user: string, commands: string[], opts: { limitKbit?: number } = {}) => {
      const r = await server().sftp(user, commands, opts);
      expect(r.code, `sftp ${commands.join('; ')}:\n${r.stderr}`).toBe(0);
      return r;
    };
    const results = (licence: string) => ls(dir(licence, 'outbox')).filter((f) => f.endsWith('.result.xml'));
    const waitResults = (licence: string, n: number) =>
      waitFor(() => results(licence).length >= n && ls(dir(licence, 'inbox')).length === 0, {
        timeoutMs: 120_000,
        what: `${n} results for ${licence}`,
      });

    /** A failure says what the service logged and what the sponsor's folders hold (a slow machine's stall is seen, not guessed). */
    const explained = async (licence: string, work: () => Promise<void>) => {
      try {
        await work();
      } catch (err) {
        const folders = ['inbox', 'outbox', 'archive', 'rejected'].map((f) => `${f}: ${ls(dir(licence, f)).join(' ')}`).join('\n');
        throw new Error(`${coerceError(err).message}\n${folders}\nthe service's last log lines:\n${service?.stderr().slice(-8000)}`, {
          cause: err,
        });
      }
    };

    it(
      'gives each upload exactly one result, whatever the client does, readable by the sponsor over SFTP',
      () =>
        explained(A, async () => {
          const userA = server().account(A);
          const big = local('big.xml', upload(A, `${A}BIG`, 500));
          const filepart = local('fp.xml', upload(A, `${A}FP`, 250));
          const resumed = local('resumed.xml', upload(A, `${A}RS`, 400));
          const first = local('again.xml', upload(A, `${A}AG1`, 3));
          expect(statSync(big).size).toBeGreaterThan(1_000_000);

          // A direct put through a slow link: the file grows on its final name for seconds.
          const direct = sftpOk(userA, [`put ${big} big.xml`], { limitKbit: 2400 });
          // WinSCP and FileZilla: a temporary name, renamed at the end.
          const renamed = sftpOk(userA, [`put ${filepart} fp.xml.filepart`, 'rename fp.xml.filepart fp.xml'], { limitKbit: 2400 });

          // An upload cut off half-way: the part on the server is deferred, never rejected...
          const cut = server().sftpProcess(userA, [`put ${resumed} resumed.xml`], { limitKbit: 1600 });
          const cutExited = new Promise((r) => cut.once('close', r));
          await waitFor(() => existsSync(dir(A, 'inbox/resumed.xml')) && statSync(dir(A, 'inbox/resumed.xml')).size > 200_000, {
            what: 'half of resumed.xml uploaded',
          });
          cut.kill('SIGKILL');
          await cutExited;
          expect(statSync(dir(A, 'inbox/resumed.xml')).size).toBeLessThan(statSync(resumed).size);
          await waitForLog(service!, /deferred .*file=resumed\.xml/);
          // ...and the client resumes it where it stopped.
          await sftpOk(userA, [`reput ${resumed} resumed.xml`]);
          await Promise.all([direct, renamed]);

          // Same name again once the first one has its result.
          await sftpOk(userA, [`put ${first} again.xml`]);
          await waitFor(() => results(A).includes('again.result.xml'), { timeoutMs: 120_000, what: 'the first again.xml processed' });
          const second = local('again-2.xml', upload(A, `${A}AG2`, 2));
          await sftpOk(userA, [`put ${second} again.xml`]);
          await waitResults(A, 5);

          const outbox = results(A);
          expect(outbox.filter((f) => !f.startsWith('again.')).sort()).toEqual(['big.result.xml', 'fp.result.xml', 'resumed.result.xml']);
          expect(outbox.filter((f) => f.startsWith('again.'))).toHaveLength(2);
          // The sponsor takes its results over SFTP: they are readable through its group.
          const got = path.join(client, 'got');
          mkdirSync(got);
          await sftpOk(userA, [`lcd ${got}`, 'cd /outbox', 'mget *.result.xml']);
          expect(ls(got)).toEqual(outbox.sort());
          const byName = new Map(ls(got).map((f) => [f, resultOf(readFileSync(path.join(got, f), 'utf8'))]));
          for (const f of ls(got)) expect(readFileSync(path.join(got, f)).equals(readFileSync(dir(A, `outbox/${f}`))), f).toBe(true);
          expect(byName.get('big.result.xml')).toMatchObject({ fileName: 'big.xml', outcome: 'ACCEPTED', records: 500, assigned: 500 });
          expect(byName.get('fp.result.xml')).toMatchObject({ fileName: 'fp.xml', outcome: 'ACCEPTED', records: 250, assigned: 250 });
          expect(byName.get('resumed.result.xml')).toMatchObject({
            fileName: 'resumed.xml',
            outcome: 'ACCEPTED',
            records: 400,
            assigned: 400,
          });
          const again = [...byName].filter(([f]) => f.startsWith('again.')).map(([, r]) => r);
          expect(again.map((r) => `${r.outcome} ${r.records} ${r.replay}`).sort()).toEqual(['ACCEPTED 2 false', 'ACCEPTED 3 false']);
          // Nothing half-read: no temporary name was taken, nothing was rejected.
          expect(ls(dir(A, 'rejected'))).toEqual([]);
          expect(
            ls(dir(A, 'archive'))
              .map((f) => f.replace(/^\d{8}T\d{6}Z(\.\d+)?_/, ''))
              .sort(),
          ).toEqual(['again.xml', 'again.xml', 'big.xml', 'fp.xml', 'resumed.xml']);

          // What the service wrote belongs to the sponsor's group, 0640, in the set-group-id folders.
          const gid = Number(run('id', ['-g', userA]).trim());
          for (const f of outbox) expect(statSync(dir(A, `outbox/${f}`))).toMatchObject({ gid, mode: 0o100640 });
          for (const f of ls(dir(A, 'archive'))) expect(statSync(dir(A, `archive/${f}`)).gid).toBe(gid);
        }),
      300_000,
    );

    it("keeps a sponsor out of other sponsors' folders and the store, and its own processed files read-only", async () => {
      const userA = server().account(A);
      const userB = server().account(B);
      const mine = local('b1.xml', upload(B, `${B}B1`, 2));
      await sftpOk(userB, [`put ${mine} b1.xml`]);
      await waitResults(B, 1);
      expect(results(B)).toEqual(['b1.result.xml']);

      // Inside its chroot: its four folders, nothing above.
      const listing = await sftpOk(userA, ['ls -a /', 'ls -a /..', 'ls -a /../..']);
      const seen = listing.stdout
        .split(/\s+/)
        .filter((w) => w.startsWith('/'))
        .map((w) => path.basename(w))
        .filter((w) => w !== '' && w !== '.' && w !== '..');
      expect([...new Set(seen)].sort()).toEqual(['archive', 'inbox', 'outbox', 'rejected']);
      const refused = async (commands: string[]) => {
        const r = await server().sftp(userA, commands);
        expect(r.code, `${commands.join('; ')} should fail:\n${r.stdout}`).not.toBe(0);
      };
      const store = t.kind === 'pglite' ? t.cliArgs[1]! : '/var/lib/postgresql';
      await refused([`ls ${server().root}/${B}`]);
      await refused([`get ${dir(B, 'outbox/b1.result.xml')} ${client}/stolen.xml`]);
      await refused([`get /../${B}/outbox/b1.result.xml ${client}/stolen.xml`]);
      await refused([`ls ${store}`]);
      // Its processed inputs are there to read, not to change; its folders stay as they are.
      const archived = ls(dir(A, 'archive'))[0]!;
      await refused([`rm /archive/${archived}`]);
      await refused([`put ${mine} /archive/planted.xml`]);
      await refused(['mkdir /mine']);
      await refused(['rename /inbox /elsewhere']);
      await refused(['chmod 777 /outbox']);
      expect(existsSync(path.join(client, 'stolen.xml'))).toBe(false);
      expect(ls(dir(A, 'archive'))).toContain(archived);
      expect(statSync(dir(A, 'outbox')).mode & 0o7777).toBe(0o2770);
    });

    it('stored one submission per upload, all accepted', async () => {
      service!.kill('SIGTERM');
      expect(await service!.exited, service!.stderr()).toBe(0);
      service = undefined;
      // The embedded store was handed to the service user: taken back once it has stopped.
      if (t.kind === 'pglite') run('chown', ['-R', 'root:', path.dirname(t.cliArgs[1]!)]);
      const store = await t.reopen();
      const count = async (l: string) =>
        (await store.db.select({ outcome: submissions.outcome }).from(submissions).where(eq(submissions.sponsorLicenceNumber, l))).map(
          (r) => r.outcome,
        );
      expect(await count(A)).toEqual(Array(5).fill('ACCEPTED'));
      expect(await count(B)).toEqual(['ACCEPTED']);
    });
  });
});
