/**
 * Set-up B with the real programs: cas-bdt runs elsewhere and its root is an sshfs mount
 * of the sponsors' server, logged in as the service's account there (no events cross the
 * mount: `--poll`; attributes are cached; times have whole seconds; the server refuses
 * to hard-link a sponsor's file the service may only read, and a link it allows shows
 * through sshfs as another inode). Files written slowly on the server side by the
 * sponsor's account, one with a pause longer than the settle time, one group-writable,
 * each get exactly one result with all of their records, and are moved whole; a
 * half-written file is deferred, never read as the whole.
 */
import { closeSync, fchmodSync, fchownSync, openSync, readFileSync, realpathSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submissions } from '../../src/db/schema.ts';
import { moveNoClobber } from '../../src/inbox/move.ts';
import { run, sftpServerForSuite, sftpUnavailable } from '../helpers/sshd.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS, tempDir } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { ls, nextLicence, sponsor, startInProcess, upload, type InProcessService } from '../helpers/watch.ts';

const unavailable = sftpUnavailable({ sshfs: true });
if (unavailable) console.warn(`SFTP set-up B (sshfs) tests skipped: ${unavailable}`);

/** The user and group ids of an account on the server. */
const idsOf = (account: string) => ({ uid: Number(run('id', ['-u', account]).trim()), gid: Number(run('id', ['-g', account]).trim()) });

/** The mount options the README gives for set-up B. */
const MOUNT_OPTIONS = ['dir_cache=no', 'reconnect', 'ServerAliveInterval=15'];

describe.skipIf(unavailable !== undefined)("cas-bdt on an sshfs mount of the sponsors' server (set-up B)", () => {
  const server = sftpServerForSuite();

  it('moves files the server lets it link, leaving nothing else in archive/ (no .fuse_hidden file)', async () => {
    const L = nextLicence('M');
    server().addSponsor(L);
    const mnt = tempDir('cas-bdt-sshfs-');
    server().mount(server().serviceUser, server().root, mnt, MOUNT_OPTIONS);
    try {
      const { uid, gid } = idsOf(server().account(L));
      // A name unlinked just after a close stays behind as .fuse_hidden only now and then
      // (libfuse races the close's late release): 300 moves make it likely to show.
      const names = Array.from({ length: 300 }, (_, i) => `f${String(i).padStart(3, '0')}.xml`);
      for (const name of names) {
        // Group-writable, so that the server allows the link (which sshfs shows as another inode).
        const fd = openSync(path.join(server().root, L, 'inbox', name), 'wx', 0o660);
        fchownSync(fd, uid, gid);
        fchmodSync(fd, 0o660);
        writeSync(fd, name);
        closeSync(fd);
        const from = path.join(mnt, L, 'inbox', name);
        const to = path.join(mnt, L, 'archive', name);
        expect(await moveNoClobber(from, to, statSync(from), path.join(realpathSync(mnt), L, 'archive', name))).toBe('moved');
      }
      expect(ls(path.join(server().root, L, 'archive'))).toEqual(names);
      expect(ls(path.join(server().root, L, 'inbox'))).toEqual([]);
    } finally {
      run('fusermount3', ['-u', mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });

  describe.each(STORE_KINDS)('on %s', (kind) => {
    const t = suiteStore(kind);
    let mnt: string;
    let running: InProcessService | undefined;
    const L = nextLicence('M');
    const onServer = (f: string) => path.join(server().root, L, f);

    beforeAll(async () => {
      await sponsor(t.store.db, L, 5000);
      server().addSponsor(L);
      mnt = tempDir('cas-bdt-sshfs-');
      server().mount(server().serviceUser, server().root, mnt, MOUNT_OPTIONS);
      running = await startInProcess(t.store, mnt, { poll: true, settleMs: 1000, scanIntervalMs: 1000 });
    });
    afterAll(async () => {
      await running?.stop();
      run('fusermount3', ['-u', mnt]);
      rmSync(mnt, { recursive: true, force: true });
    });

    /**
     * The sponsor's system writing `bytes` into its inbox on the server, in `pauses.length + 1`
     * pieces; between two pieces it sleeps (a number of ms) or waits for a state (a function).
     */
    async function writeSlowly(name: string, bytes: Buffer, pauses: (number | (() => Promise<unknown>))[], mode = 0o640): Promise<void> {
      const { uid, gid } = idsOf(server().account(L));
      const fd = openSync(onServer(`inbox/${name}`), 'wx', mode);
      try {
        fchownSync(fd, uid, gid);
        fchmodSync(fd, mode);
        const size = Math.ceil(bytes.length / (pauses.length + 1));
        for (let i = 0, off = 0; off < bytes.length; i++, off += size) {
          writeSync(fd, bytes, off, Math.min(size, bytes.length - off));
          const pause = pauses[i];
          if (typeof pause === 'function') await pause();
          else if (pause) await sleep(pause);
        }
      } finally {
        closeSync(fd);
      }
    }

    it('gives each slowly written file one result with all its records, deferring what is half-written', async () => {
      const files = {
        'slow.xml': upload(L, `${L}SL`, 300),
        'paused.xml': upload(L, `${L}PA`, 200),
        'quick.xml': upload(L, `${L}QU`, 3),
        'shared.xml': upload(L, `${L}SH`, 2),
      };
      await Promise.all([
        writeSlowly('slow.xml', files['slow.xml'], Array(15).fill(250)),
        // Half, then nothing until the service has looked at it and deferred it (the settle time
        // and the attribute cache have passed), then the rest.
        writeSlowly('paused.xml', files['paused.xml'], [
          () => waitFor(() => /deferred .*file=paused\.xml/.test(running!.logs.join('')), { timeoutMs: 60_000, what: 'the half deferred' }),
        ]),
        writeSlowly('quick.xml', files['quick.xml'], []),
        // Group-writable: the server lets the service hard-link it, and sshfs shows the link as another inode.
        writeSlowly('shared.xml', files['shared.xml'], [], 0o660),
      ]);
      await waitFor(() => ls(onServer('inbox')).length === 0 && ls(onServer('outbox')).length >= 4, {
        timeoutMs: 120_000,
        what: 'four results',
      });

      expect(ls(onServer('outbox'))).toEqual(['paused.result.xml', 'quick.result.xml', 'shared.result.xml', 'slow.result.xml']);
      const records = (f: string) => Number(/<Summary records="(\d+)"/.exec(readFileSync(onServer(`outbox/${f}`), 'utf8'))?.[1]);
      expect([records('slow.result.xml'), records('paused.result.xml'), records('quick.result.xml')]).toEqual([300, 200, 3]);
      expect(ls(onServer('rejected'))).toEqual([]);
      const archived = ls(onServer('archive'));
      expect(archived.map((f) => f.replace(/^\d{8}T\d{6}Z(\.\d+)?_/, '')).sort()).toEqual([
        'paused.xml',
        'quick.xml',
        'shared.xml',
        'slow.xml',
      ]);
      // Archived whole, byte for byte.
      for (const f of archived)
        expect(readFileSync(onServer(`archive/${f}`)).equals(files[f.replace(/^[^_]+_/, '') as keyof typeof files]), f).toBe(true);
      // The half-written file was seen and deferred, not rejected.
      expect(running!.logs.join('')).toMatch(/deferred .*file=paused\.xml/);
      const subs = await t.store.db
        .select({ outcome: submissions.outcome })
        .from(submissions)
        .where(eq(submissions.sponsorLicenceNumber, L));
      expect(subs.map((s) => s.outcome)).toEqual(Array(4).fill('ACCEPTED'));

      // On the server the service's account wrote them, in the sponsor's group, 0640: the sponsor reads them.
      const { gid } = idsOf(server().account(L));
      for (const f of ls(onServer('outbox'))) expect(statSync(onServer(`outbox/${f}`))).toMatchObject({ gid, mode: 0o100640 });
    });
  });
});
