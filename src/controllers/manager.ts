// Wires the informers, the three controllers and the mapping of watch events
// to work-queue keys. The manager is what the leader runs; `start` returns
// once the caches are synced and the workers run, `stop` lets running
// reconciles finish.
import type { Logger } from 'pino';
import type { MySQLCluster } from '../api/mysqlcluster.ts';
import type { MySQLDatabase } from '../api/mysqldatabase.ts';
import type { MySQLUser } from '../api/mysqluser.ts';
import { apiVersion } from '../api/common.ts';
import { clusterIntent, clusterKeyOf } from '../api/normalize.ts';
import { Controller, type ReconcileOutcome } from '../runtime/controller.ts';
import { EventRecorder } from '../runtime/events.ts';
import { Informer, type KubeObject } from '../runtime/informer.ts';
import type { KubeAccess } from '../runtime/kube-access.ts';
import { KubeClient } from '../runtime/kube.ts';
import type { OperatorMetrics } from '../runtime/metrics.ts';
import { RestCompaction } from '../runtime/rest-compaction.ts';
import { reconcileCluster } from './cluster/reconcile.ts';
import { ClusterConnections } from './connections.ts';
import { cachedSecret, keyOf, type Caches, type ControllerContext, type NamespaceObject, type SecretObject } from './context.ts';
import { reconcileDatabase } from './database/reconcile.ts';
import { addIndexes, secretKey, usersBySecret } from './indexes.ts';
import { reconcileUser } from './user/reconcile.ts';
import { secretChangeMatters, worthReconciling } from './worth-reconciling.ts';

export interface ManagerOptions {
  kubeConfig: KubeAccess;
  logger: Logger;
  metrics: OperatorMetrics;
  /** Drift check interval per object. */
  resyncIntervalMs: number;
  /** Reconciles at once, per controller. */
  workers: number;
  /** Cap of the per-key retry backoff. */
  maxRetryDelayMs: number;
}

export const fieldManager = 'flightdeck-operator';

function readyStatus(cluster: MySQLCluster | undefined): string | undefined {
  return cluster?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

export class Manager {
  readonly #caches: Caches;
  readonly #controllers: { cluster: Controller; database: Controller; user: Controller };
  readonly #connections: ClusterConnections;
  readonly #events: EventRecorder;
  readonly #logger: Logger;
  readonly #restCompaction: RestCompaction;
  #reconciles = 0;

  constructor(options: ManagerOptions) {
    const { kubeConfig, logger, metrics } = options;
    this.#logger = logger;
    const informer = <T extends KubeObject>(version: string, plural: string, transform?: (object: KubeObject) => KubeObject): Informer<T> =>
      new Informer<T>({ kubeConfig, apiVersion: version, plural, logger: logger.child({ informer: plural }), ...(transform === undefined ? {} : { transform }) });
    this.#caches = {
      clusters: informer<MySQLCluster>(apiVersion, 'mysqlclusters'),
      databases: informer<MySQLDatabase>(apiVersion, 'mysqldatabases'),
      users: informer<MySQLUser>(apiVersion, 'mysqlusers'),
      secrets: informer<SecretObject>('v1', 'secrets', cachedSecret),
      namespaces: informer<NamespaceObject>('v1', 'namespaces'),
    };
    addIndexes(this.#caches.users, this.#caches.databases);
    this.#connections = new ClusterConnections({
      logger,
      observer: (kind, verb, durationMs) => {
        metrics.observeSqlStatement(kind, verb, durationMs / 1000);
      },
    });
    this.#events = new EventRecorder({ kubeConfig, component: fieldManager, logger, observer: metrics.eventsObserver() });
    const controller = (name: string, reconcile: (context: ControllerContext, key: string) => Promise<ReconcileOutcome | undefined>): Controller =>
      new Controller({
        name,
        reconcile: (key) => {
          this.#reconciles++;
          return reconcile(context, key);
        },
        workers: options.workers,
        queue: { maxDelayMs: options.maxRetryDelayMs },
        metrics,
        logger,
      });
    const context: ControllerContext = {
      kube: new KubeClient(kubeConfig, fieldManager),
      events: this.#events,
      caches: this.#caches,
      connections: this.#connections,
      logger,
      resyncIntervalMs: options.resyncIntervalMs,
      now: () => new Date(),
      enqueue: {
        database: (key) => {
          this.#controllers.database.enqueue(key);
        },
        user: (key) => {
          this.#controllers.user.enqueue(key);
        },
      },
    };
    this.#controllers = {
      cluster: controller('mysqlcluster', reconcileCluster),
      database: controller('mysqldatabase', reconcileDatabase),
      user: controller('mysqluser', reconcileUser),
    };
    this.#wireEvents();
    this.#restCompaction = new RestCompaction({
      atRest: () => this.#events.pending === 0 && Object.values(this.#controllers).every((c) => c.idle),
      workDone: () => this.#reconciles,
      logger,
    });
  }

  #wireEvents(): void {
    const { clusters, databases, users, secrets, namespaces } = this.#caches;
    const { cluster, database, user } = this.#controllers;

    clusters.onChange((event, object, previous) => {
      if (worthReconciling(event, object, previous)) cluster.enqueue(keyOf(object));
      // Dependents wait on the cluster: queue them when it appears, goes, changes or changes readiness.
      if (event !== 'update' || worthReconciling(event, object, previous) || readyStatus(object) !== readyStatus(previous)) {
        this.#enqueueDependents(object);
      }
    });
    databases.onChange((event, object, previous) => {
      if (worthReconciling(event, object, previous)) database.enqueue(keyOf(object));
    });
    users.onChange((event, object, previous) => {
      if (worthReconciling(event, object, previous)) user.enqueue(keyOf(object));
    });
    secrets.onChange((event, secret, previous) => {
      if (!secretChangeMatters(event, secret, previous)) return;
      const namespace = secret.metadata.namespace ?? '';
      const name = secret.metadata.name;
      for (const c of clusters.list(namespace)) {
        const external = clusterIntent(c).external;
        if (external?.adminSecretName === name || external?.tls.caSecret?.name === name) cluster.enqueue(keyOf(c));
      }
      // A password edited in its Secret, or a connection Secret removed by hand.
      for (const u of users.byIndex(usersBySecret, secretKey(namespace, name))) user.enqueue(keyOf(u));
    });
    namespaces.onChange((event, ns, previous) => {
      // Labels decide which clusters admit a namespace.
      if (event === 'update' && JSON.stringify(ns.metadata.labels ?? {}) === JSON.stringify(previous?.metadata.labels ?? {})) return;
      for (const d of databases.list(ns.metadata.name)) database.enqueue(keyOf(d));
      for (const u of users.list(ns.metadata.name)) user.enqueue(keyOf(u));
    });
  }

  #enqueueDependents(cluster: MySQLCluster): void {
    const namespace = cluster.metadata.namespace ?? '';
    const name = cluster.metadata.name;
    const attached = (o: MySQLDatabase | MySQLUser): boolean => {
      const key = clusterKeyOf(o);
      return key.namespace === namespace && key.name === name;
    };
    for (const d of this.#caches.databases.list()) if (attached(d)) this.#controllers.database.enqueue(keyOf(d));
    for (const u of this.#caches.users.list()) if (attached(u)) this.#controllers.user.enqueue(keyOf(u));
  }

  /** Starts the informers, waits until each has listed once, then starts the controllers. */
  async start(): Promise<void> {
    await Promise.all(Object.values(this.#caches).map((i: Informer<KubeObject>) => i.start()));
    this.#logger.info('caches synced');
    for (const c of Object.values(this.#controllers)) c.start();
    this.#restCompaction.start();
  }

  /** Stops taking work, waits for running reconciles, closes watches and SQL pools. */
  async stop(): Promise<void> {
    this.#restCompaction.stop();
    await Promise.all(Object.values(this.#controllers).map((c) => c.stop()));
    for (const i of Object.values(this.#caches) as Informer<KubeObject>[]) i.stop();
    await this.#events.flush();
    await this.#connections.closeAll();
  }
}
