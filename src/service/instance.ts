/**
 * This service instance's identity in the database: a key whose advisory lock it holds on
 * a dedicated connection for as long as it runs (other instances read liveness from
 * pg_locks), and the periodic renewal of its claims' leases. When that connection is lost
 * (or stuck, see `Store.reset`), a new one is opened and the lock taken again.
 */
import type { Db, Store } from '../db/client.ts';
import { acquireInstanceKey, holdsInstanceKey, relockInstanceKey, releaseInstanceKey, renewLeases } from '../db/claims.ts';
import { describeError, type Logger } from '../log.ts';

export interface Instance {
  key: number;
  close(): Promise<void>;
}

type Session = Awaited<ReturnType<Store['session']>>;

export async function registerInstance(openSession: Store['session'], db: Db, opts: { leaseMs: number; log: Logger }): Promise<Instance> {
  let session: Session = await openSession();
  const key = await acquireInstanceKey(session.db).catch(async (err: unknown) => {
    await session.close().catch(() => {});
    throw err;
  });
  let failing = false;
  let running: Promise<void> | undefined;
  let runningSince = 0;
  const periodMs = Math.max(50, Math.floor(opts.leaseMs / 3));

  // One replacement at a time: two at once (the stuck-renewal timer and a failed renewal)
  // would each close the same old session and leave one of the new ones open for good,
  // keeping the process alive after it stopped.
  let replacing: Promise<void> | undefined;
  const replaceSession = () =>
    (replacing ??= (async () => {
      const old = session;
      session = await openSession();
      await old.close().catch(() => {});
    })().finally(() => (replacing = undefined)));

  const renew = async () => {
    try {
      // After a reconnect the lock is gone with the old session: take it again.
      if (!(await holdsInstanceKey(session.db, key)) && !(await relockInstanceKey(session.db, key))) {
        opts.log.error({ instance: key }, 'another session holds this instance key; claims may be taken over');
      }
      await renewLeases(db, key, opts.leaseMs);
      if (failing) opts.log.info({ instance: key }, 'claim leases renewed again');
      failing = false;
    } catch (err) {
      if (!failing) opts.log.warn({ instance: key, err: describeError(err) }, 'could not renew claim leases; retrying');
      failing = true;
      await replaceSession().catch(() => {});
    }
  };

  const timer = setInterval(() => {
    if (running) {
      // A renewal stuck on a dead connection: cut it loose (closing it fails the query).
      if (Date.now() - runningSince > 2 * periodMs) void replaceSession().catch(() => {});
      return;
    }
    runningSince = Date.now();
    running = renew().finally(() => (running = undefined));
  }, periodMs);

  return {
    key,
    close: async () => {
      clearInterval(timer);
      await running;
      await replacing?.catch(() => {});
      await releaseInstanceKey(session.db, key).catch(() => {});
      await session.close().catch(() => {});
    },
  };
}
