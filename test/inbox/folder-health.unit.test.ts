/**
 * The sponsor folder check shared by callers that ask while one runs: every answer comes
 * from a check that began after the call (a check already running may have looked before
 * a folder was swapped), and all who asked meanwhile share the next one.
 */
import { describe, expect, it } from 'vitest';
import { SponsorFolderHealth } from '../../src/inbox/folder-health.ts';

type Result = Awaited<ReturnType<ConstructorParameters<typeof SponsorFolderHealth>[2] & object>>;

function pacedChecks() {
  const started: { licence: string; finish: (ok: boolean) => void }[] = [];
  const check = (root: string, licence: string) =>
    new Promise<Result>((resolve) => {
      // The check's number, from 1, as its real root: the answer says which check gave it.
      const n = started.length + 1;
      started.push({
        licence,
        finish: (ok) =>
          resolve(
            ok
              ? { health: { ok: true }, realRoot: `${root}#${n}` }
              : { health: { ok: false, unsafe: true, reasons: ['inbox is a symbolic link'] }, realRoot: root },
          ),
      });
    });
  return { started, check };
}

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('SponsorFolderHealth', () => {
  it('answers each call from a check begun after it, one check for all who asked meanwhile', async () => {
    const { started, check } = pacedChecks();
    const warnings: string[] = [];
    const health = new SponsorFolderHealth('/root', () => ({ warn: (_f, m) => void warnings.push(m), info: () => {} }), check);

    const a = health.checkResolved('A');
    const b = health.checkResolved('A');
    const c = health.checkResolved('A');
    const other = health.checkResolved('B');
    expect(started.map((s) => s.licence)).toEqual(['A', 'B']);

    started[0]!.finish(true);
    await settle();
    // a had its answer from the first check; b and c wait for the second, begun after they asked.
    expect(await a).toEqual({ usable: true, realRoot: '/root#1' });
    expect(started.map((s) => s.licence)).toEqual(['A', 'B', 'A']);
    const d = health.checkResolved('A');
    const bothSettled = Promise.all([b, c]);

    // The second check finds a link: b and c are told not to use the folders; d waits for a third.
    started[2]!.finish(false);
    expect(await bothSettled).toEqual([
      { usable: false, realRoot: '/root' },
      { usable: false, realRoot: '/root' },
    ]);
    await settle();
    expect(started).toHaveLength(4);
    started[3]!.finish(true);
    expect(await d).toEqual({ usable: true, realRoot: '/root#4' });
    started[1]!.finish(true);
    expect(await other).toEqual({ usable: true, realRoot: '/root#2' });
    // One warning for the one check that found the link, whoever shared it.
    expect(warnings).toHaveLength(1);

    // Nothing running: the next call begins a check of its own at once.
    const e = health.checkResolved('A');
    expect(started).toHaveLength(5);
    started[4]!.finish(true);
    expect((await e).usable).toBe(true);
  });
});
