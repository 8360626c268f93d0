/**
 * This service instance's identity in the database: a key whose advisory lock it holds on
 * a dedicated connection for as long as it runs (other instances read liveness from
 * pg_locks), and the periodic renewal of its claims' leases.
 */
import type { Db } from '../db/client.ts';
import { acquireInstanceKey, holdsInstanceKey, relockInstanceKey, releaseInstanceKey, renewLeases } from '../db/claims.ts';
import { describeError, type Logger } from '../log.ts';

export interface Instance {
  key: number;
  close(): Promise<void>;
}

export async function registerInstance(session: Db, db: Db, opts: { leaseMs: number; log: Logger }): Promise<Instance> {
  const key = await acquireInstanceKey(session);
  let failing = false;
  let busy = false;
  const renew = async () => {
    if (busy) return;
    busy = true;
    try {
      // After a reconnect the lock is gone with the old session: take it again.
      if (!(await holdsInstanceKey(session, key)) && !(await relockInstanceKey(session, key))) {
        opts.log.error({ instance: key }, 'lost the instance lock to another session; claims may be taken over');
      }
      await renewLeases(db, key, opts.leaseMs);
      if (failing) opts.log.info({ instance: key }, 'claim leases renewed again');
      failing = false;
    } catch (err) {
      if (!failing) opts.log.warn({ instance: key, err: describeError(err) }, 'could not renew claim leases; retrying');
      failing = true;
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void renew(), Math.max(50, Math.floor(opts.leaseMs / 3)));
  return {
    key,
    close: async () => {
      clearInterval(timer);
      while (busy) await new Promise((r) => setTimeout(r, 10));
      await releaseInstanceKey(session, key).catch(() => {});
    },
  };
}
