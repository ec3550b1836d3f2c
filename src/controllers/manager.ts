// Runs the informers and the controllers. Each controller declares beside
// its reconcile what queues it (ControllerDefinition.triggers); the manager
// builds the caches and the shared clients, connects each controller's
// triggers to its queue, and hands every reconcile a context tied to the
// controller's abort signal. It is what the leader runs: `start` returns once
// the caches are synced and the workers run; `stop` lets running reconciles
// finish; `abort` cuts them off (the lease was lost).
import type { Logger } from 'pino';
import type { MySQLBackup } from '../api/mysqlbackup.ts';
import type { MySQLCluster } from '../api/mysqlcluster.ts';
import type { MySQLRestore } from '../api/mysqlrestore.ts';
import type { MySQLDatabase } from '../api/mysqldatabase.ts';
import type { MySQLUser } from '../api/mysqluser.ts';
import type { VolumeBackup } from '../api/volumebackup.ts';
import type { VolumeRestore } from '../api/volumerestore.ts';
import { apiVersion } from '../api/common.ts';
import { Controller } from '../runtime/controller.ts';
import { EventRecorder } from '../runtime/events.ts';
import { Informer, type KubeObject } from '../runtime/informer.ts';
import type { KubeAccess } from '../runtime/kube-access.ts';
import { transportFor, type KubeTransport } from '../runtime/kube-request.ts';
import { KubeClient } from '../runtime/kube.ts';
import type { OperatorMetrics } from '../runtime/metrics.ts';
import { RestCompaction } from '../runtime/rest-compaction.ts';
import { clusterController, slimStatefulSet } from './cluster/controller.ts';
import { ManagedClusterState } from './cluster/managed/state.ts';
import { ClusterConnections } from './connections.ts';
import {
  cachedNode,
  cachedSecret,
  managedBySelector,
  type Caches,
  type ControllerContext,
  type ControllerDefinition,
  type NamespaceObject,
  type NodeObject,
  type PodObject,
  type SecretObject,
} from './context.ts';
import { BackupMetrics } from './backup/metrics.ts';
import { backupController, runningBackupJobs } from './backup/reconcile.ts';
import type { JobObject } from './backup/job-status.ts';
import { BackupSlots, defaultBackupSlotSettings, firstPassHoldMs, type BackupSlotSettings } from './backup/slots.ts';
import { databaseController } from './database/reconcile.ts';
import { restoreController } from './restore/reconcile.ts';
import { addClusterIndex, addIndexes, addPodsByNodeIndex, backupsByCluster, restoresByCluster } from './indexes.ts';
import { userController } from './user/reconcile.ts';
import { volumeBackupController } from './volume-backup/reconcile.ts';
import { volumeRestoreController } from './volume-restore/reconcile.ts';

export interface ManagerOptions {
  kubeConfig: KubeAccess;
  /** The process's shared transport for kubeConfig; default: one of the manager's own, shared by all its clients. */
  transport?: KubeTransport;
  logger: Logger;
  metrics: OperatorMetrics;
  /** Drift check interval per object. */
  resyncIntervalMs: number;
  /** Reconciles at once, per controller. */
  workers: number;
  /** Cap of the per-key retry backoff. */
  maxRetryDelayMs: number;
  /** The cluster-wide limit on backup Jobs at once and the spread of scheduled starts (chart values backups.*). */
  backups?: BackupSlotSettings;
}

export const fieldManager = 'flightdeck-operator';


export class Manager {
  readonly #caches: Caches;
  readonly #controllers: ReadonlyMap<string, Controller>;
  /** The cluster-wide backup slots, shared by the database and files backup controllers. */
  readonly #slots: BackupSlots;
  readonly #connections: ClusterConnections;
  readonly #managed: ManagedClusterState;
  readonly #events: EventRecorder;
  readonly #logger: Logger;
  readonly #restCompaction: RestCompaction;
  #reconciles = 0;
  #stopping: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    const { kubeConfig, logger, metrics } = options;
    this.#logger = logger;
    // One transport (one TLS context, one set of connection pools) for every client of the manager.
    const transport = transportFor(kubeConfig, options.transport);
    const informer = <T extends KubeObject>(
      version: string,
      plural: string,
      transform?: (object: KubeObject) => KubeObject,
      labelSelector?: string,
    ): Informer<T> =>
      new Informer<T>({
        kubeConfig,
        transport,
        apiVersion: version,
        plural,
        logger: logger.child({ informer: plural }),
        ...(transform === undefined ? {} : { transform }),
        ...(labelSelector === undefined ? {} : { labelSelector }),
      });
    this.#caches = {
      clusters: informer<MySQLCluster>(apiVersion, 'mysqlclusters'),
      databases: informer<MySQLDatabase>(apiVersion, 'mysqldatabases'),
      users: informer<MySQLUser>(apiVersion, 'mysqlusers'),
      secrets: informer<SecretObject>('v1', 'secrets', cachedSecret),
      namespaces: informer<NamespaceObject>('v1', 'namespaces'),
      // Only what the operator created: not every Pod and StatefulSet of the cluster.
      pods: informer<PodObject>('v1', 'pods', undefined, managedBySelector),
      nodes: informer<NodeObject>('v1', 'nodes', cachedNode),
      statefulSets: informer<KubeObject>('apps/v1', 'statefulsets', slimStatefulSet, managedBySelector),
      backups: informer<MySQLBackup>(apiVersion, 'mysqlbackups'),
      restores: informer<MySQLRestore>(apiVersion, 'mysqlrestores'),
      volumeBackups: informer<VolumeBackup>(apiVersion, 'volumebackups'),
      volumeRestores: informer<VolumeRestore>(apiVersion, 'volumerestores'),
      jobs: informer<JobObject>('batch/v1', 'jobs', undefined, managedBySelector),
    };
    addIndexes(this.#caches.users, this.#caches.databases);
    addClusterIndex(this.#caches.backups, backupsByCluster);
    addClusterIndex(this.#caches.restores, restoresByCluster);
    addPodsByNodeIndex(this.#caches.pods);
    this.#connections = new ClusterConnections({
      logger,
      observer: (kind, verb, durationMs) => {
        metrics.observeSqlStatement(kind, verb, durationMs / 1000);
      },
    });
    this.#managed = new ManagedClusterState({
      logger,
      metrics,
      observer: (kind, verb, durationMs) => {
        metrics.observeSqlStatement(kind, verb, durationMs / 1000);
      },
    });
    this.#events = new EventRecorder({ kubeConfig, transport, component: fieldManager, logger, observer: metrics.eventsObserver() });
    const enqueueTo = (name: string) => (key: string) => {
      this.#controllers.get(name)?.enqueue(key);
    };
    const context: ControllerContext = {
      // Never aborted: each reconcile gets a copy tied to its controller's signal (see #controller).
      signal: new AbortController().signal,
      kube: new KubeClient(kubeConfig, fieldManager, { transport }),
      events: this.#events,
      caches: this.#caches,
      connections: this.#connections,
      logger,
      resyncIntervalMs: options.resyncIntervalMs,
      now: () => new Date(),
      enqueue: { database: enqueueTo(databaseController.name), user: enqueueTo(userController.name) },
    };
    // One set of slots: database and files backups share backups.maxConcurrent.
    const slots = new BackupSlots(options.backups ?? defaultBackupSlotSettings);
    this.#slots = slots;
    const definitions: readonly ControllerDefinition[] = [
      clusterController(this.#managed),
      databaseController,
      userController,
      backupController(slots, new BackupMetrics(metrics.registry, { waiting: () => slots.queue().length, running: () => runningBackupJobs(this.#caches).size })),
      restoreController,
      volumeBackupController(slots),
      volumeRestoreController,
    ];
    this.#controllers = new Map(definitions.map((definition) => [definition.name, this.#controller(definition, context, options)]));
    this.#restCompaction = new RestCompaction({
      atRest: () => this.#events.pending === 0 && [...this.#controllers.values()].every((c) => c.idle),
      workDone: () => this.#reconciles,
      logger,
    });
  }

  /** The controller of `definition`, its triggers connected to its queue. */
  #controller(definition: ControllerDefinition, base: ControllerContext, options: ManagerOptions): Controller {
    // The controller hands every reconcile the same signal; the context tied to it is made once.
    let scoped: ControllerContext | undefined;
    const contextFor = (signal: AbortSignal): ControllerContext => {
      if (scoped?.signal !== signal) scoped = { ...base, signal, kube: base.kube.withSignal(signal) };
      return scoped;
    };
    const controller = new Controller({
      name: definition.name,
      reconcile: (key, signal) => {
        this.#reconciles++;
        return definition.reconcile(contextFor(signal), key);
      },
      workers: options.workers,
      queue: { maxDelayMs: options.maxRetryDelayMs },
      metrics: options.metrics,
      logger: options.logger,
    });
    for (const trigger of definition.triggers(this.#caches)) {
      trigger.connect((key) => {
        controller.enqueue(key);
      });
    }
    return controller;
  }

  /** Starts the informers, waits until each has listed once, then starts the controllers. */
  async start(): Promise<void> {
    await Promise.all(Object.values(this.#caches).map((i: Informer<KubeObject>) => i.start()));
    this.#logger.info('caches synced');
    // With backups already there (a restart, a new leader), the first pass
    // over them queues every due run before any starts: else the first to ask
    // would take a slot whatever its place. With none, nothing waits.
    if (this.#caches.backups.list().length + this.#caches.volumeBackups.list().length > 0) this.#slots.holdUntil(Date.now() + firstPassHoldMs);
    for (const c of this.#controllers.values()) c.start();
    this.#restCompaction.start();
  }

  /**
   * Stops taking work, waits for running reconciles to finish, writes the
   * Events they recorded, closes watches and SQL pools. After abort(), or
   * called again, it returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutDown(async () => {
      await Promise.all([...this.#controllers.values()].map((c) => c.stop()));
    }, true);
    return this.#stopping;
  }

  /**
   * Stops taking work and aborts every running reconcile with `reason`, for a
   * leader that lost its lease: another operator may already act on the same
   * objects. Resolves once the reconciles have returned and the watches and
   * SQL pools are closed; Events still waiting are not waited for. After
   * stop(), or called again, it returns the same promise.
   */
  abort(reason: Error): Promise<void> {
    this.#stopping ??= this.#shutDown(async () => {
      await Promise.all([...this.#controllers.values()].map((c) => c.abort(reason)));
    }, false);
    return this.#stopping;
  }

  async #shutDown(stopControllers: () => Promise<void>, flushEvents: boolean): Promise<void> {
    this.#restCompaction.stop();
    await stopControllers();
    for (const i of Object.values(this.#caches) as Informer<KubeObject>[]) i.stop();
    if (flushEvents) await this.#events.flush();
    await this.#connections.closeAll();
    this.#managed.close();
  }
}
