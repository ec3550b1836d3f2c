// Every Prometheus metric the operator exports, defined in one place with the
// typed helpers that record them, so label names and values cannot drift
// between the code that records and the dashboards that read. All names start
// with flightdeck_; the process and Node.js runtime metrics prom-client
// collects keep their standard names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkQueueObserver } from './workqueue.ts';

/** How a reconcile ended: returned without a requeue, threw, or asked to run again after a delay. */
/** How a reconcile ended; `aborted`: cut off by Controller.abort() (the leadership was lost). */
export type ReconcileResult = 'success' | 'error' | 'requeue' | 'aborted';

/** `read` for statements that only look (SELECT, SHOW), `write` for those that change the server. */
export type SqlStatementKind = 'read' | 'write';

export class OperatorMetrics {
  readonly registry: Registry;

  readonly #reconcileTotal: Counter<'controller' | 'result'>;
  readonly #reconcileDuration: Histogram<'controller'>;
  readonly #reconcileErrors: Counter<'controller'>;
  readonly #queueDepth: Gauge<'name'>;
  readonly #queueAdds: Counter<'name'>;
  readonly #queueDuration: Histogram<'name'>;
  readonly #queueRetries: Counter<'name'>;
  readonly #sqlStatements: Counter<'kind' | 'verb'>;
  readonly #sqlDuration: Histogram<'kind'>;
  readonly #leader: Gauge;
  readonly #eventsPending: Gauge;
  readonly #eventsDropped: Counter;

  /**
   * Registers the operator's metrics in `registry`. Without one, a new
   * registry is made and also given prom-client's default process and Node.js
   * metrics (CPU, memory, event loop lag, GC); a registry passed in is left
   * to its owner for those.
   */
  constructor(registry?: Registry) {
    if (registry === undefined) {
      this.registry = new Registry();
      collectDefaultMetrics({ register: this.registry });
    } else {
      this.registry = registry;
    }
    const registers = [this.registry];
    this.#reconcileTotal = new Counter({
      name: 'flightdeck_reconcile_total',
      help: 'Reconciles finished, by controller and result (success, error, requeue, aborted).',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.#reconcileDuration = new Histogram({
      name: 'flightdeck_reconcile_duration_seconds',
      help: 'Time one reconcile took, by controller, whatever its result.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.#reconcileErrors = new Counter({
      name: 'flightdeck_reconcile_errors_total',
      help: 'Reconciles that threw an error, by controller; each is retried with backoff.',
      labelNames: ['controller'],
      registers,
    });
    this.#queueDepth = new Gauge({
      name: 'flightdeck_workqueue_depth',
      help: 'Keys waiting in the work queue for a worker.',
      labelNames: ['name'],
      registers,
    });
    this.#queueAdds = new Counter({
      name: 'flightdeck_workqueue_adds_total',
      help: 'Keys added to the work queue (adds of a key already waiting are not counted).',
      labelNames: ['name'],
      registers,
    });
    this.#queueDuration = new Histogram({
      name: 'flightdeck_workqueue_queue_duration_seconds',
      help: 'Time a key waited in the work queue before a worker took it.',
      labelNames: ['name'],
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    });
    this.#queueRetries = new Counter({
      name: 'flightdeck_workqueue_retries_total',
      help: 'Keys re-added with backoff after a failed reconcile.',
      labelNames: ['name'],
      registers,
    });
    this.#sqlStatements = new Counter({
      name: 'flightdeck_sql_statements_total',
      help: 'SQL statements sent to MariaDB, by kind (read, write) and verb (SELECT, CREATE, GRANT, ...).',
      labelNames: ['kind', 'verb'],
      registers,
    });
    this.#sqlDuration = new Histogram({
      name: 'flightdeck_sql_statement_duration_seconds',
      help: 'Time one SQL statement took, by kind (read, write).',
      labelNames: ['kind'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#leader = new Gauge({
      name: 'flightdeck_leader',
      help: '1 while this process holds the leader election lease and runs the controllers, else 0.',
      registers,
    });
    this.#eventsPending = new Gauge({
      name: 'flightdeck_events_pending',
      help: 'Kubernetes Events recorded and not yet written (they are written a few at a time, after the reconciles that caused them).',
      registers,
    });
    this.#eventsDropped = new Counter({
      name: 'flightdeck_events_dropped_total',
      help: 'Kubernetes Events dropped because too many were waiting to be written.',
      registers,
    });
  }

  /** An EventRecorder observer that records how many Events wait and how many were dropped. */
  eventsObserver(): { onPending: (pending: number) => void; onDropped: () => void } {
    return {
      onPending: (pending) => {
        this.#eventsPending.set(pending);
      },
      onDropped: () => {
        this.#eventsDropped.inc();
      },
    };
  }

  /**
   * Records one finished reconcile of `controller`: counts it under `result`,
   * observes its duration, and for `error` also counts it in
   * flightdeck_reconcile_errors_total.
   */
  observeReconcile(controller: string, result: ReconcileResult, seconds: number): void {
    this.#reconcileTotal.inc({ controller, result });
    this.#reconcileDuration.observe({ controller }, seconds);
    if (result === 'error') this.#reconcileErrors.inc({ controller });
  }

  /**
   * Records one SQL statement. `verb` is the statement's first keyword in
   * upper case (SELECT, CREATE, GRANT, ...): a small fixed set, never text from
   * the statement's arguments, so the label cannot grow without bound.
   */
  observeSqlStatement(kind: SqlStatementKind, verb: string, seconds: number): void {
    this.#sqlStatements.inc({ kind, verb });
    this.#sqlDuration.observe({ kind }, seconds);
  }

  /** Sets flightdeck_leader to 1 while `leading`, else 0. */
  setLeader(leading: boolean): void {
    this.#leader.set(leading ? 1 : 0);
  }

  /** A work queue observer that records the queue `name`'s depth, adds, wait times and retries. */
  queueObserver(name: string): WorkQueueObserver {
    return {
      onAdd: () => {
        this.#queueAdds.inc({ name });
      },
      onGet: (_key, waitedMs) => {
        this.#queueDuration.observe({ name }, waitedMs / 1000);
      },
      onDepth: (depth) => {
        this.#queueDepth.set({ name }, depth);
      },
      onRetry: () => {
        this.#queueRetries.inc({ name });
      },
    };
  }
}
