/**
 * Export deliveries of the watch service (`--export-every`): each sponsor whose last
 * delivery is at least a period old gets a zip of every CAS whose history changed since
 * (deliverExport says how instances sharing a database deliver each change once). The
 * sponsors are looked at every minute (or every period, when shorter), so a restart or a
 * second instance never delivers more often than the period; SIGUSR2 delivers at once.
 */
import path from 'node:path';
import { realSponsorDir } from '../inbox/fd-path.ts';
import { sponsorDir } from '../inbox/layout.ts';
import { describeError } from '../log.ts';
import { deliverExport, type Delivered, type DeliveryPause } from '../ops/export.ts';
import type { ServiceContext } from './context.ts';

export type { DeliveryPause } from '../ops/export.ts';

/** How often sponsors are looked at for a due delivery (at most). */
export const EXPORT_TICK_MS = 60_000;

export interface ExportRound {
  delivered: Delivered[];
  failed: number;
}

/**
 * One round over the watched sponsors. `force`: deliver whatever changed, however recent
 * the last delivery. One sponsor's failure is logged and the others go on. A sponsor found
 * due with nothing changed is looked at again a period later (`quiet`, this instance's
 * memory), not every minute: looking costs a scan of everyone's history since its last
 * delivery, and a change made meanwhile goes out at the next period, as a period says.
 */
export async function exportRound(
  ctx: ServiceContext,
  licences: readonly string[],
  o: { everyMs: number; force: boolean; pause?: DeliveryPause | undefined; isStopping: () => boolean; quiet: Map<string, number> },
): Promise<ExportRound> {
  const out: ExportRound = { delivered: [], failed: 0 };
  for (const licence of licences) {
    if (o.isStopping()) break;
    const quietSince = o.quiet.get(licence);
    if (!o.force && quietSince !== undefined && ctx.monotonic() - quietSince < o.everyMs) continue;
    o.quiet.delete(licence);
    const log = ctx.sponsorLog(licence);
    try {
      const d = await deliverExport(ctx.db, licence, {
        me: ctx.me,
        leaseMs: ctx.leaseMs,
        now: ctx.clock(),
        minAgeMs: o.force ? 0 : o.everyMs,
        onNothing: () => o.quiet.set(licence, ctx.monotonic()),
        outbox: async (l) => {
          // A sponsor whose folders must not be used (links) is skipped quietly: its state is logged once, by the folder checks.
          const { usable, realRoot } = await ctx.folders.checkResolved(l);
          if (!usable) return undefined;
          const realDir = realRoot !== undefined ? path.join(realRoot, l, 'outbox') : await realSponsorDir(ctx.rootDir, l, 'outbox');
          return { dir: sponsorDir(ctx.rootDir, l, 'outbox'), realDir };
        },
        pause:
          o.pause === undefined
            ? undefined
            : async (at, row) => {
                if (at !== o.pause) return;
                log.warn({ delivery: row.id, at }, 'export delivery paused for a test (CAS_BDT_TEST_DELIVERY_PAUSE)');
                await new Promise(() => {});
              },
      });
      if (d) {
        out.delivered.push(d);
        log.info(
          {
            file: path.basename(d.file),
            cas: d.casCount,
            lastEvent: d.lastEventId,
            ...(d.resumed ? { resumed: true } : {}),
          },
          d.found ? 'export delivery finished (its file was written before a stop)' : 'export delivered',
        );
      }
    } catch (err) {
      out.failed++;
      log.warn({ err: describeError(err) }, 'export delivery failed; retrying at the next round');
    }
  }
  return out;
}
