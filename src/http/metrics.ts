/**
 * `/metrics`: this instance's own work in the Prometheus text format (several instances on
 * one PostgreSQL each report what they did). Counters are fed by the service as files
 * finish; gauges read its live state at scrape time. Labels are outcomes, file types,
 * error codes, statuses and (for the allocation gauge) licence numbers only: never a licence
 * holder's data or a file name. The allocation gauge reads the store, so it is the sponsors'
 * state whichever instance is asked.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../ops/store.ts';
import { listSponsors, sponsorView } from '../ops/queries.ts';
import type { FileReport, WatchService } from '../service/service.ts';

export interface Metrics {
  registry: Registry;
  /** Counts one finished file (the service's `onFileProcessed`). */
  fileProcessed(r: FileReport): void;
  /** Binds the gauges to the running service and its store (the allocation gauge reads it at scrape time). */
  attach(service: LiveState, db?: Db): void;
}

export type LiveState = Pick<WatchService, 'stats' | 'unhealthySponsors' | 'sponsors' | 'oldestWaitingMs' | 'diskLow'>;

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let live: LiveState | undefined;
  let store: Db | undefined;

  const files = new Counter({
    name: 'cas_bdt_files_processed_total',
    help: 'Files finished by this instance, by type and outcome',
    labelNames: ['file_type', 'outcome'],
    registers: [registry],
  });
  const fileErrors = new Counter({
    name: 'cas_bdt_file_errors_total',
    help: 'Files refused by this instance, by error code',
    labelNames: ['code'],
    registers: [registry],
  });
  const records = new Counter({
    name: 'cas_bdt_records_total',
    help: 'Records in the files this instance finished, by the status they ended in (REJECTED: refused)',
    labelNames: ['status'],
    registers: [registry],
  });
  const assigned = new Counter({
    name: 'cas_bdt_cas_assigned_total',
    help: 'CAS numbers assigned by the files this instance finished',
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'cas_bdt_file_processing_seconds',
    help: 'Time from taking a file to its input moved, per file',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
    registers: [registry],
  });
  new Gauge({
    name: 'cas_bdt_queue_files',
    help: 'Inbox files known to this instance, by state (waiting: settling or backing off)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const s = live?.stats();
      this.set({ state: 'waiting' }, s?.waiting ?? 0);
      this.set({ state: 'ready' }, s?.ready ?? 0);
      this.set({ state: 'running' }, s?.running ?? 0);
    },
  });
  new Gauge({
    name: 'cas_bdt_oldest_waiting_file_age_seconds',
    help: 'How long the oldest inbox file not yet being processed has been waiting (0: none)',
    registers: [registry],
    collect() {
      this.set((live?.oldestWaitingMs() ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'cas_bdt_sponsors_unhealthy',
    help: 'Sponsors whose folders are not usable (see /healthz for the reasons)',
    registers: [registry],
    collect() {
      this.set(live?.unhealthySponsors().length ?? 0);
    },
  });
  new Gauge({
    name: 'cas_bdt_sponsors_watched',
    help: 'Sponsors whose inboxes this instance watches',
    registers: [registry],
    collect() {
      this.set(live?.sponsors().length ?? 0);
    },
  });

  new Gauge({
    name: 'cas_bdt_allocation_unused',
    help: 'CAS a sponsor may still be assigned (granted minus used), by licence number',
    labelNames: ['licence'],
    registers: [registry],
    async collect() {
      // Sponsors removed or renamed meanwhile must not linger with their last value.
      this.reset();
      if (!store) return;
      let rows;
      try {
        rows = await listSponsors(store);
      } catch {
        // The store is down: /metrics still answers (and /healthz says why).
        return;
      }
      for (const row of rows) this.set({ licence: row.licenceNumber }, sponsorView(row).allocation.unused);
    },
  });

  return {
    registry,
    attach: (service, db) => {
      live = service;
      store = db;
    },
    fileProcessed: (r) => {
      files.inc({ file_type: r.fileType, outcome: r.outcome });
      for (const code of r.errorCodes) fileErrors.inc({ code });
      const c = r.counts;
      const byStatus: [string, number][] = [
        ['ASSIGNED', c.assigned],
        ['READY_TO_GO', c.readyToGo],
        ['WORK_IN_PROGRESS', c.workInProgress],
        ['REJECTED', c.rejected],
        ['REPORTED', c.reported],
        ['UPDATED', c.updated ?? 0],
      ];
      for (const [status, n] of byStatus) if (n > 0) records.inc({ status }, n);
      if (c.assigned > 0) assigned.inc(c.assigned);
      seconds.observe(r.seconds);
    },
  };
}
