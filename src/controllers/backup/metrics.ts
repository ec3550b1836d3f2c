// The backup metrics, registered in the operator's registry next to those of
// src/runtime/metrics.ts: the queue and the running Jobs (read when scraped,
// so they are never staler than the slots and the Job cache), and per
// MySQLBackup its last success and size (set from its status on every
// reconcile, so a new leader shows them at once), and per run its end.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** How a run ended, as the metrics count it (status lastRun.result in lower case, plus an attempt that failed and is retried). */
export type RunEnd = 'succeeded' | 'failed' | 'missed' | 'retried';

/** Where the queue's figures come from, read at each scrape. */
export interface SlotFigures {
  /** Runs that wait for a slot, of every kind. */
  readonly waiting: () => number;
  /** Backup Jobs running in the whole cluster. */
  readonly running: () => number;
}

export class BackupMetrics {
  readonly #lastSuccess: Gauge<'namespace' | 'name'>;
  readonly #lastSize: Gauge<'namespace' | 'name'>;
  readonly #duration: Histogram<'result'>;
  readonly #runs: Counter<'result'>;

  constructor(registry: Registry, figures: SlotFigures) {
    const registers = [registry];
    new Gauge({
      name: 'flightdeck_backup_queue_length',
      help: 'Backup runs that are due and wait for a slot under backups.maxConcurrent.',
      registers,
      collect() {
        this.set(figures.waiting());
      },
    });
    new Gauge({
      name: 'flightdeck_backup_running',
      help: 'Backup Jobs running in the cluster (each holds one of the backups.maxConcurrent slots).',
      registers,
      collect() {
        this.set(figures.running());
      },
    });
    this.#lastSuccess = new Gauge({
      name: 'flightdeck_backup_last_success_timestamp_seconds',
      help: 'When the last successful run of a MySQLBackup completed (Unix seconds); no series before its first success.',
      labelNames: ['namespace', 'name'],
      registers,
    });
    this.#lastSize = new Gauge({
      name: 'flightdeck_backup_last_size_bytes',
      help: 'Size of the newest complete backup of a MySQLBackup as stored (after compression and encryption).',
      labelNames: ['namespace', 'name'],
      registers,
    });
    // Runs take seconds for a small site to hours for a large cluster.
    this.#duration = new Histogram({
      name: 'flightdeck_backup_duration_seconds',
      help: 'Time one backup attempt took, from its Job’s creation to its end, by result (succeeded; failed or retried for a failed attempt).',
      labelNames: ['result'],
      buckets: [5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400],
      registers,
    });
    this.#runs = new Counter({
      name: 'flightdeck_backup_runs_total',
      help: 'Backup runs that ended, by result: succeeded, failed (after its attempts), missed (could not start within startingDeadlineSeconds); retried counts attempts that failed and were retried.',
      labelNames: ['result'],
      registers,
    });
  }

  /** The last success of backup namespace/name, from its status; nothing while it has none. */
  setLastSuccess(namespace: string, name: string, success: { readonly completionTime?: string | undefined; readonly sizeBytes?: number | undefined }): void {
    const labels = { namespace, name };
    if (success.completionTime !== undefined) {
      const at = new Date(success.completionTime).getTime();
      if (!Number.isNaN(at)) this.#lastSuccess.set(labels, at / 1000);
    }
    if (success.sizeBytes !== undefined) this.#lastSize.set(labels, success.sizeBytes);
  }

  /** An attempt or run ended; `seconds` for an attempt that ran (none for a missed run). */
  observeEnd(result: RunEnd, seconds?: number): void {
    this.#runs.inc({ result });
    if (seconds !== undefined && Number.isFinite(seconds) && seconds >= 0) this.#duration.observe({ result }, seconds);
  }

  /** Removes the series of a deleted MySQLBackup. */
  forget(namespace: string, name: string): void {
    this.#lastSuccess.remove({ namespace, name });
    this.#lastSize.remove({ namespace, name });
  }
}
