// Every Prometheus metric the operator exports, defined in one place with the
// typed helpers that record them, so label names and values cannot drift
// between the code that records and the dashboards that read. All names start
// with flightdeck_; the process and Node.js runtime metrics prom-client
// collects keep their standard names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkQueueObserver } from './workqueue.ts';

/** A managed cluster's change of writer as the metrics count it. */
export interface WriterChange {
  readonly type: 'Failover' | 'Switchover';
  /** A word from a fixed set (src/replication/operation-cause.ts), never the reason's sentence. */
  readonly reason: string;
  /** succeeded: the target is the writer; rolledBack: the old writer kept its role; abandoned: ended as well as it could. */
  readonly result: 'succeeded' | 'rolledBack' | 'abandoned';
  /** From the operation's start to its end. */
  readonly seconds: number;
}

/**
 * The label sets one managed cluster has written, with how to remove each, so
 * that a deleted cluster (or an instance scaled away) leaves no stale series
 * behind: prom-client removes a series only by its exact labels.
 */
class ClusterSeries {
  readonly #removers = new Map<string, () => void>();

  /** Remembers a series; `id` names it uniquely within the cluster. */
  add(id: string, remove: () => void): void {
    if (!this.#removers.has(id)) this.#removers.set(id, remove);
  }

  /** Removes the series whose id starts with `prefix` and that `keep` does not keep. */
  removeWhere(prefix: string, keep: (id: string) => boolean): void {
    for (const [id, remove] of this.#removers) {
      if (id.startsWith(prefix) && !keep(id)) {
        remove();
        this.#removers.delete(id);
      }
    }
  }

  removeAll(): void {
    this.removeWhere('', () => false);
  }
}

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
  readonly #replicationLag: Gauge<'namespace' | 'cluster' | 'instance'>;
  readonly #writer: Gauge<'namespace' | 'cluster' | 'instance'>;
  readonly #writerChanges: Record<WriterChange['type'], Counter<'namespace' | 'cluster' | 'reason' | 'result'>>;
  readonly #writerChangeDurations: Record<WriterChange['type'], Histogram<'namespace' | 'cluster'>>;
  /** By namespace/cluster: the series each managed cluster wrote. */
  readonly #clusterSeries = new Map<string, ClusterSeries>();

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
    this.#replicationLag = new Gauge({
      name: 'flightdeck_mysqlcluster_replication_lag_seconds',
      help: 'Seconds_Behind_Master of each reader of a managed MySQLCluster, as last observed (none while a reader does not replicate).',
      labelNames: ['namespace', 'cluster', 'instance'],
      registers,
    });
    this.#writer = new Gauge({
      name: 'flightdeck_mysqlcluster_writer',
      help: '1 for the instance (pod) that is the writer of a managed MySQLCluster; no series while it has none.',
      labelNames: ['namespace', 'cluster', 'instance'],
      registers,
    });
    // Failovers take seconds to tens of seconds; switchovers well under a second to a few seconds.
    const changeBuckets = [0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 120];
    this.#writerChanges = {
      Failover: new Counter({
        name: 'flightdeck_mysqlcluster_failovers_total',
        help: 'Failovers (the writer stopped answering) of managed MySQLClusters that ended, by reason (writerUnreachable, writerTerminating, writerLostData, other) and result (succeeded, abandoned).',
        labelNames: ['namespace', 'cluster', 'reason', 'result'],
        registers,
      }),
      Switchover: new Counter({
        name: 'flightdeck_mysqlcluster_switchovers_total',
        help: 'Switchovers (planned changes of writer) of managed MySQLClusters that ended, by reason (specPrimary, podDeleted, nodeDraining, scaleDown, rollingRestart, other) and result (succeeded, rolledBack, abandoned).',
        labelNames: ['namespace', 'cluster', 'reason', 'result'],
        registers,
      }),
    };
    this.#writerChangeDurations = {
      Failover: new Histogram({
        name: 'flightdeck_mysqlcluster_failover_duration_seconds',
        help: 'Time from the start of a failover (its decision) to its end, whatever its result.',
        labelNames: ['namespace', 'cluster'],
        buckets: changeBuckets,
        registers,
      }),
      Switchover: new Histogram({
        name: 'flightdeck_mysqlcluster_switchover_duration_seconds',
        help: 'Time from the start of a switchover (its decision) to its end, whatever its result.',
        labelNames: ['namespace', 'cluster'],
        buckets: changeBuckets,
        registers,
      }),
    };
  }

  #seriesOf(namespace: string, cluster: string): ClusterSeries {
    const key = `${namespace}/${cluster}`;
    let series = this.#clusterSeries.get(key);
    if (series === undefined) {
      series = new ClusterSeries();
      this.#clusterSeries.set(key, series);
    }
    return series;
  }

  /**
   * Sets the replication lag of a managed cluster's readers: one series per
   * instance in `lagSeconds`; those of instances no longer in it (a reader that
   * stopped replicating, became the writer or was scaled away) are removed.
   */
  setReplicationLag(namespace: string, cluster: string, lagSeconds: ReadonlyMap<string, number>): void {
    const series = this.#seriesOf(namespace, cluster);
    for (const [instance, seconds] of lagSeconds) {
      const labels = { namespace, cluster, instance };
      this.#replicationLag.set(labels, seconds);
      series.add(`lag/${instance}`, () => { this.#replicationLag.remove(labels); });
    }
    series.removeWhere('lag/', (id) => lagSeconds.has(id.slice('lag/'.length)));
  }

  /** Sets which instance is a managed cluster's writer (undefined: none yet); the previous writer's series is removed. */
  setWriter(namespace: string, cluster: string, instance: string | undefined): void {
    const series = this.#seriesOf(namespace, cluster);
    series.removeWhere('writer/', (id) => id === `writer/${instance ?? ''}`);
    if (instance === undefined) return;
    const labels = { namespace, cluster, instance };
    this.#writer.set(labels, 1);
    series.add(`writer/${instance}`, () => { this.#writer.remove(labels); });
  }

  /** Counts a failover or switchover of a managed cluster that ended, and observes its duration. */
  observeWriterChange(namespace: string, cluster: string, change: WriterChange): void {
    const series = this.#seriesOf(namespace, cluster);
    const counter = this.#writerChanges[change.type];
    const counted = { namespace, cluster, reason: change.reason, result: change.result };
    counter.inc(counted);
    series.add(`change/${change.type}/${change.reason}/${change.result}`, () => { counter.remove(counted); });
    const histogram = this.#writerChangeDurations[change.type];
    histogram.observe({ namespace, cluster }, change.seconds);
    series.add(`duration/${change.type}`, () => { histogram.remove({ namespace, cluster }); });
  }

  /** Removes every series of a managed cluster (it was deleted). */
  forgetCluster(namespace: string, cluster: string): void {
    const key = `${namespace}/${cluster}`;
    this.#clusterSeries.get(key)?.removeAll();
    this.#clusterSeries.delete(key);
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
