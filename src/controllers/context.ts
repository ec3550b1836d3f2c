// What every reconciler is handed: the informer caches, the API client, the
// event recorder, the SQL connections and the settings. Built once by the
// manager; nothing here is global.
import type { Logger } from 'pino';
import type { MySQLBackup } from '../api/mysqlbackup.ts';
import type { MySQLCluster } from '../api/mysqlcluster.ts';
import type { MySQLRestore } from '../api/mysqlrestore.ts';
import type { MySQLDatabase } from '../api/mysqldatabase.ts';
import type { MySQLUser } from '../api/mysqluser.ts';
import type { VolumeBackup } from '../api/volumebackup.ts';
import type { VolumeRestore } from '../api/volumerestore.ts';
import type { ReconcileOutcome } from '../runtime/controller.ts';
import type { Informer, KubeObject } from '../runtime/informer.ts';
import type { Trigger } from '../runtime/triggers.ts';
import type { KubeClient } from '../runtime/kube.ts';
import type { EventRecorder } from '../runtime/events.ts';
import type { JobObject } from './backup/job-status.ts';
import type { ClusterConnections } from './connections.ts';

/** The label on Secrets the operator writes (generated passwords, connection Secrets). */
export const managedByLabel: Readonly<Record<string, string>> = { 'app.kubernetes.io/managed-by': 'flightdeck-operator' };

export interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

/**
 * Secret types whose values the operator can never need: Helm's release
 * records (a compressed copy of every manifest of every revision, often tens
 * of kilobytes each) and ServiceAccount tokens. Their data is dropped before
 * caching; the operator caches the Secrets of every namespace, and these can
 * outweigh everything else it holds.
 */
const unneededSecretTypes: ReadonlySet<string> = new Set(['helm.sh/release.v1', 'kubernetes.io/service-account-token']);

/** The Secret as the operator caches it: without the data of types it never reads. */
export function cachedSecret(secret: SecretObject): SecretObject {
  if (secret.type === undefined || !unneededSecretTypes.has(secret.type) || secret.data === undefined) return secret;
  return { ...secret, data: {} };
}

/**
 * The label selector for informers of kinds the operator creates (Pods,
 * StatefulSets, PVCs, Services, PodDisruptionBudgets of managed clusters):
 * the API server sends only those, not every Pod of the cluster.
 */
export const managedBySelector = Object.entries(managedByLabel)
  .map(([key, value]) => `${key}=${value}`)
  .join(',');

export type NamespaceObject = KubeObject;

export interface NodeObject extends KubeObject {
  spec?: { unschedulable?: boolean; taints?: { key: string; value?: string; effect: string }[] };
  status?: { conditions?: { type: string; status: string; reason?: string; lastTransitionTime?: string }[]; [field: string]: unknown };
}

/**
 * Node status fields the operator never reads and a kubelet keeps large and
 * busy: every image on the node (often tens of kilobytes), attached volumes,
 * daemon endpoints, system information. What is kept — conditions,
 * unschedulable, taints, labels — tells whether the node is ready, cordoned or
 * draining.
 */
const unreadNodeStatus: ReadonlySet<string> = new Set(['images', 'volumesInUse', 'volumesAttached', 'daemonEndpoints', 'nodeInfo', 'config', 'features']);

/** The Node as the operator caches it (see unreadNodeStatus). */
export function cachedNode(node: NodeObject): NodeObject {
  if (node.status === undefined) return node;
  return { ...node, status: Object.fromEntries(Object.entries(node.status).filter(([field]) => !unreadNodeStatus.has(field))) };
}

/** A Pod as the operator reads it: the instances of managed clusters. */
export interface PodObject extends KubeObject {
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; ready: boolean; restartCount: number }[];
    /** Read for the seed init container (managed/builders/seed.ts): an instance waiting for a copy. */
    initContainerStatuses?: {
      name: string;
      restartCount: number;
      state?: { running?: object; waiting?: { reason?: string }; terminated?: { exitCode: number } };
      lastState?: { terminated?: { exitCode: number } };
    }[];
  };
}

export interface Caches {
  readonly clusters: Informer<MySQLCluster>;
  readonly databases: Informer<MySQLDatabase>;
  readonly users: Informer<MySQLUser>;
  readonly secrets: Informer<SecretObject>;
  readonly namespaces: Informer<NamespaceObject>;
  /** Pods the operator manages (labelled managed-by): the instances of managed clusters. */
  readonly pods: Informer<PodObject>;
  /** Nodes, slimmed (cachedNode): whether an instance's node is cordoned or draining. */
  readonly nodes: Informer<NodeObject>;
  /** StatefulSets the operator manages: a deleted one is applied again at once. */
  readonly statefulSets: Informer<KubeObject>;
  readonly backups: Informer<MySQLBackup>;
  readonly restores: Informer<MySQLRestore>;
  readonly volumeBackups: Informer<VolumeBackup>;
  readonly volumeRestores: Informer<VolumeRestore>;
  /** Jobs the operator manages (backups and restores): their ends, and the running ones that fill the backup slots. */
  readonly jobs: Informer<JobObject>;
}

export interface ControllerContext {
  /**
   * Aborted when this operator stops leading: from then on another operator
   * may act on the same objects, so a reconcile must change nothing more.
   * `kube` is already tied to it; pass it to any other wait or request (and
   * check it between SQL statements that must not run after a deposition).
   */
  readonly signal: AbortSignal;
  /** The API client; its requests are cut off when `signal` aborts. */
  readonly kube: KubeClient;
  readonly events: EventRecorder;
  readonly caches: Caches;
  readonly connections: ClusterConnections;
  readonly logger: Logger;
  /** How often an object is checked again for drift when nothing else happens. */
  readonly resyncIntervalMs: number;
  readonly now: () => Date;
  /** Queue reconciles of other objects (e.g. users waiting for a database). */
  readonly enqueue: {
    readonly database: (key: string) => void;
    readonly user: (key: string) => void;
  };
}

/** The work-queue key of an object: namespace/name. */
export function keyOf(object: { metadata: { namespace?: string; name: string } }): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The value of `key` in a Secret, decoded; undefined when the Secret or key is missing. */
export function secretValue(secret: SecretObject | undefined, key: string): string | undefined {
  const encoded = secret?.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}

/** Resync with ±10 % jitter, so objects created together do not resync together. */
export function resyncDelay(context: ControllerContext): number {
  return Math.round(context.resyncIntervalMs * (0.9 + Math.random() * 0.2));
}

/**
 * A controller as the manager runs it, declared beside its reconcile: its
 * name (the `controller` label of metrics and logs), the reconcile, and the
 * triggers that queue its keys — its own kind and every other kind it watches.
 */
export interface ControllerDefinition {
  readonly name: string;
  /** See ControllerOptions.reconcile in src/runtime/controller.ts for what a result means; `context.signal` is its abort signal. */
  readonly reconcile: (context: ControllerContext, key: string) => Promise<ReconcileOutcome | undefined>;
  readonly triggers: (caches: Caches) => readonly Trigger[];
}
