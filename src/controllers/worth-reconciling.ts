// Which watch events queue an object for a reconcile. Every reconcile costs
// API and SQL round trips, so changes a reconcile cannot act on are skipped:
// the status the operator itself just wrote, a finalizer just added (the
// operator adds its own in the same reconcile that goes on to do the work),
// and Secrets the operator just wrote for a user it was reconciling anyway.
// The triggers the controllers share are built from these rules here.
import { isDeepStrictEqual } from 'node:util';
import type { MySQLCluster } from '../api/mysqlcluster.ts';
import type { MySQLDatabase } from '../api/mysqldatabase.ts';
import type { Informer, InformerEvent, KubeObject } from '../runtime/informer.ts';
import { sameLabels } from '../runtime/labels.ts';
import { watches, type Trigger } from '../runtime/triggers.ts';
import { keyOf, managedByLabel, type NamespaceObject, type SecretObject } from './context.ts';
import { clusterIndexKey } from './indexes.ts';

/**
 * True for an add or delete, a periodic resync (previous === object), and an
 * update that changes the spec (generation), deletion, labels, or removes a
 * finalizer (the operator's own may have to be put back).
 */
export function worthReconciling(event: InformerEvent, object: KubeObject, previous: KubeObject | undefined): boolean {
  if (event !== 'update' || previous === undefined || previous === object) return true;
  const a = previous.metadata;
  const b = object.metadata;
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    finalizerRemoved(a.finalizers ?? [], b.finalizers ?? []) ||
    !sameLabels(a.labels, b.labels)
  );
}

export { sameLabels } from '../runtime/labels.ts';

/** A controller's own kind: the object is queued when an event is worth reconciling. */
export function ownChanges<T extends KubeObject>(informer: Informer<T>, description: string): Trigger {
  return watches(informer, description, (event, object, previous) => (worthReconciling(event, object, previous) ? [keyOf(object)] : []));
}

function readyStatus(cluster: MySQLCluster | undefined): string | undefined {
  return cluster?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

/**
 * Databases and users wait on their cluster: they are queued when it
 * appears, goes, changes, or changes readiness. `index` files the objects of
 * `informer` by clusterIndexKey (databasesByCluster, usersByCluster), so a
 * cluster event costs a lookup, not a pass over every object.
 */
export function dependentsOfCluster<T extends KubeObject>(clusters: Informer<MySQLCluster>, informer: Informer<T>, index: string): Trigger {
  return watches(clusters, `${index} when the cluster changes or its readiness does`, (event, cluster, previous) => {
    if (event === 'update' && !worthReconciling(event, cluster, previous) && readyStatus(cluster) === readyStatus(previous)) return [];
    const key = clusterIndexKey({ namespace: cluster.metadata.namespace ?? '', name: cluster.metadata.name });
    return informer.byIndex(index, key).map(keyOf);
  });
}

/** Namespace labels decide which clusters admit a namespace: its objects are queued when they change. */
export function objectsOfRelabelledNamespace<T extends KubeObject>(namespaces: Informer<NamespaceObject>, informer: Informer<T>): Trigger {
  return watches(namespaces, 'the objects of a namespace whose labels changed', (event, ns, previous) => {
    if (event === 'update' && sameLabels(ns.metadata.labels, previous?.metadata.labels)) return [];
    return informer.list(ns.metadata.name).map(keyOf);
  });
}

function finalizerRemoved(before: readonly string[], after: readonly string[]): boolean {
  return before.some((f) => !after.includes(f));
}

/**
 * Whether a Secret event may matter to the clusters and users that name the
 * Secret: it was deleted, its data or owners changed (a password edited, a
 * connection Secret taken over), or someone other than the operator created
 * it. The operator's own new Secrets (a generated password, a connection
 * Secret) come from a reconcile of the very user that names them.
 */
export function secretChangeMatters(event: InformerEvent, secret: SecretObject, previous: SecretObject | undefined): boolean {
  if (event === 'delete') return true;
  if (event === 'add' || previous === undefined) return !writtenByOperator(secret);
  if (previous === secret) return true;
  return !isDeepStrictEqual(previous.data ?? {}, secret.data ?? {}) || !isDeepStrictEqual(previous.metadata.ownerReferences ?? [], secret.metadata.ownerReferences ?? []);
}

function writtenByOperator(secret: SecretObject): boolean {
  return Object.entries(managedByLabel).every(([key, value]) => secret.metadata.labels?.[key] === value);
}

/**
 * Queues the objects of `informer` (MySQLBackups, MySQLRestores) in the
 * namespace of a MySQLDatabase that appears or whose spec changes: the
 * tenancy rule of backups and restores (backup/scope.ts) may now let them
 * go on (DatabaseNotOwned). Not only
 * those whose status says so: one applied just before its MySQLDatabase (as
 * a Velero restore orders them) may not have written that status yet.
 */
export function dependentsOfNamespaceDatabases<T extends KubeObject>(databases: Informer<MySQLDatabase>, informer: Informer<T>, what: string): Trigger {
  return watches(databases, `${what} of the namespace of a MySQLDatabase that appeared or changed`, (event, db, previous) =>
    event === 'add' || previous?.metadata.generation !== db.metadata.generation ? informer.list(db.metadata.namespace).map(keyOf) : [],
  );
}
