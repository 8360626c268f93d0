/**
 * Signals and sinks (spec section 7), on a real `cas-bdt watch` process: SIGHUP lists the
 * inboxes at once and never stops the service; when the process reading its stderr goes
 * away, the service neither stops nor spins (its CPU time is read from /proc) and goes on
 * processing files.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { suiteChildren, suiteDir } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, upload, waitForLog, waitProcessed } from '../helpers/watch.ts';

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describe.skipIf(!STORE_KINDS.includes('pglite'))('watch and signals, watch and a lost stderr', () => {
  const work = suiteDir('cas-bdt-signals-');
  const spawn = suiteChildren();

  const setUp = async (name: string, licence: string) => {
    const root = path.join(work, name, 'bdt');
    const store = ['--data', path.join(work, name, 'data'), '--root', root];
    const added = await runCli(['sponsor', 'add', licence, '--name', 'Signals College', '--allocation', '100', ...store]);
    expect(added.code, added.stderr).toBe(0);
    // A long scan interval: what SIGHUP does is not the periodic scan's doing.
    const service = spawn(['watch', ...store, '--settle-ms', '200', '--scan-interval-ms', '3600000']);
    await waitForLog(service, /INFO\s+ready/, 90_000);
    return { root, service };
  };

  it('rescans on SIGHUP and carries on; SIGTERM still stops it cleanly', async () => {
    const { root, service } = await setUp('hup', 'SIGHUP001');
    service.kill('SIGHUP');
    await waitForLog(service, /SIGHUP rescan finished/);
    service.kill('SIGHUP');
    await waitFor(() => (service.stderr().match(/SIGHUP rescan finished/g) ?? []).length === 2, { what: 'the second rescan' });
    expect(service.proc.exitCode).toBeNull();
    drop(path.join(root, 'SIGHUP001', 'inbox'), 'after-hup.xml', upload('SIGHUP001', 'HUP1', 1));
    await waitProcessed(root, 'SIGHUP001', ['after-hup.xml']);
    service.kill('SIGTERM');
    expect(await service.exited, service.stderr()).toBe(0);
  }, 300_000);

  it('neither stops nor spins when the reader of its stderr goes away, and still processes files', async () => {
    const { root, service } = await setUp('epipe', 'EPIPE0001');
    const inbox = path.join(root, 'EPIPE0001', 'inbox');
    // The reader goes away: every later write to the pipe fails with EPIPE.
    service.proc.stderr!.destroy();
    drop(inbox, 'first.xml', upload('EPIPE0001', 'EP1', 1));
    await waitProcessed(root, 'EPIPE0001', ['first.xml']);

    const pid = service.proc.pid!;
    const before = cpuSeconds(pid);
    const startedAt = Date.now();
    await waitFor(() => Date.now() - startedAt >= 3000, { what: 'a 3 s measuring window', intervalMs: 100 });
    const share = (cpuSeconds(pid) - before) / ((Date.now() - startedAt) / 1000);
    // Idle, it uses a few percent; failing writes in a loop took a third of a core or more.
    expect(share).toBeLessThan(0.15);

    drop(inbox, 'second.xml', upload('EPIPE0001', 'EP2', 1));
    await waitProcessed(root, 'EPIPE0001', ['second.xml']);
    expect(service.proc.exitCode).toBeNull();
    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  }, 300_000);
});
