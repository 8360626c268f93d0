/**
 * A large file is read from its open handle while it is validated and stored. On a
 * network mount whose server stops answering (a hung sshfs or NFS server), that read
 * waits, and only that file waits: the reads are asynchronous, so the service's timers,
 * its other files and its console go on. A blocking read would stop the whole process
 * until the server came back. Real sshfs over OpenSSH's sftp-server (run directly, no
 * ssh), mounted with direct_io so that every read reaches the server; the server is
 * stopped with SIGSTOP and continued with SIGCONT.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReceivedFile, release } from '../../src/inbox/read-file.ts';
import { inspectFile } from '../../src/pipeline/inspect.ts';
import { casXml, uploadText } from '../helpers/bdt.ts';
import { tempDir } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';

const SFTP_SERVER = '/usr/lib/openssh/sftp-server';

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'it needs root (a FUSE mount)';
  if (!existsSync(SFTP_SERVER)) return `${SFTP_SERVER} is missing (apt-get install openssh-sftp-server)`;
  if (spawnSync('sshfs', ['--version']).error) return 'sshfs is missing (apt-get install sshfs)';
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/fuse is not usable';
  }
  return undefined;
}

const why = unavailable();

describe.skipIf(why !== undefined)(`a large file on a mount whose server hangs${why ? ` (skipped: ${why})` : ''}`, () => {
  const dir = tempDir('cas-bdt-hung-read-');
  const remote = path.join(dir, 'remote');
  const mount = path.join(dir, 'mnt');
  const pidFile = path.join(dir, 'sftp.pid');
  let server = 0;

  beforeAll(() => {
    mkdirSync(remote);
    mkdirSync(mount);
    // sshfs runs this instead of ssh and speaks SFTP over its stdin and stdout.
    const command = path.join(dir, 'sftp.sh');
    writeFileSync(command, `#!/bin/sh\necho $$ > ${pidFile}\nexec ${SFTP_SERVER}\n`, { mode: 0o755 });
    const r = spawnSync('sshfs', ['-o', `ssh_command=${command},direct_io`, `localhost:${remote}`, mount]);
    if (r.status !== 0) throw new Error(`sshfs failed: ${r.stderr.toString()}`);
    server = Number(readFileSync(pidFile, 'utf8'));
  });
  afterAll(() => {
    if (server) process.kill(server, 'SIGCONT');
    spawnSync('fusermount', ['-u', mount]);
  });

  it('waits for the server without stopping the event loop, then gives the file its verdict', async () => {
    const records = Array.from({ length: 300 }, (_, i) => casXml({ applicantId: `H-${i}`, passport: `H${String(i).padStart(8, '0')}` }));
    writeFileSync(path.join(remote, 'big.xml'), uploadText({ licence: 'HUNG00001', fileId: 'HUNG-1', records }));
    // As a large file is read (keepOpenAbove 0): whole once, then again from its handle.
    const got = await readReceivedFile(path.join(mount, 'big.xml'), 'HUNG00001', 1 << 30, new Date(), { keepOpenAbove: 0 });
    expect(got.open).toBeDefined();
    process.kill(server, 'SIGSTOP');
    // A safety net, in another process: were this thread blocked in a read, nothing here could continue the server.
    const rescue = spawn('sh', ['-c', `sleep 20; kill -CONT ${server}`], { stdio: 'ignore' });
    let ticks = 0;
    let last = performance.now();
    let longestGapMs = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
      ticks++;
    }, 20);
    try {
      let settled = false;
      const inspecting = inspectFile(got.bytes!, { fd: got.open!.handle.fd }).finally(() => (settled = true));
      // Half a second of timers while the file's reads wait on the stopped server.
      await waitFor(() => ticks >= 25, { intervalMs: 10, what: 'the timer to keep firing' });
      expect(settled).toBe(false);
      expect(longestGapMs).toBeLessThan(1_000);
      process.kill(server, 'SIGCONT');
      const inspected = await inspecting;
      expect(inspected.ok).toBe(true);
    } finally {
      clearInterval(timer);
      rescue.kill();
      process.kill(server, 'SIGCONT');
      await release(got);
    }
  });
});
