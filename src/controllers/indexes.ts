// The ways controllers look objects up other than by name, kept as informer
// indexes so that each lookup is a map access: with thousands of objects in a
// namespace, scanning them for every Secret event, every database that
// becomes ready and every user that waits would make a burst quadratic.
import type { MySQLDatabase } from '../api/mysqldatabase.ts';
import type { MySQLUser } from '../api/mysqluser.ts';
import { clusterKeyOf, databaseIntent, userSecrets, type ClusterKey } from '../api/normalize.ts';
import type { Informer, KubeObject } from '../runtime/informer.ts';
import { throughIndex, type KeyMapper } from '../runtime/triggers.ts';

/** Users by the Secrets they name: `namespace/secret` (password Secret, connection Secret). */
export const usersBySecret = 'users-by-secret';
/** Users by the databases their privileges name: `namespace/database`, as written in the spec. */
export const usersByDatabase = 'users-by-database';
/** Databases by the cluster they are on: `namespace/name` of the MySQLCluster (see clusterIndexKey). */
export const databasesByCluster = 'databases-by-cluster';
/** Users by the cluster they are on, as databasesByCluster. */
export const usersByCluster = 'users-by-cluster';
/** MySQLBackups by the cluster they back up, as databasesByCluster. */
export const backupsByCluster = 'backups-by-cluster';
/** MySQLRestores by the cluster they restore into, as databasesByCluster. */
export const restoresByCluster = 'restores-by-cluster';
/** Databases by what they declare: `namespace/cluster namespace/cluster name/dbName` (see declaredDatabaseKey). */
export const databasesByDeclaration = 'databases-by-declaration';

export function secretKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The key under which databasesByCluster and usersByCluster file the objects on `cluster`. */
export function clusterIndexKey(cluster: ClusterKey): string {
  return `${cluster.namespace}/${cluster.name}`;
}

export function databaseKey(namespace: string, database: string): string {
  return `${namespace}/${database}`;
}

/** The key under which a MySQLDatabase of `namespace` that declares `dbName` on `cluster` is filed. */
export function declaredDatabaseKey(namespace: string, cluster: ClusterKey, dbName: string): string {
  return JSON.stringify([namespace, cluster.namespace, cluster.name, dbName]);
}

/** Files the objects of `informer` under the cluster they name (clusterIndexKey), as index `name`. */
export function addClusterIndex<T extends KubeObject & { spec: { cluster: { name: string; namespace?: string } } }>(informer: Informer<T>, name: string): void {
  informer.addIndex(name, (object) => [clusterIndexKey(clusterKeyOf(object))]);
}

export function addIndexes(users: Informer<MySQLUser>, databases: Informer<MySQLDatabase>): void {
  users.addIndex(usersBySecret, (user) => {
    const namespace = user.metadata.namespace ?? 'default';
    const { passwordSecret, connectionSecretName } = userSecrets(user);
    return [secretKey(namespace, passwordSecret.name), secretKey(namespace, connectionSecretName)];
  });
  users.addIndex(usersByDatabase, (user) => {
    const namespace = user.metadata.namespace ?? 'default';
    return [...new Set((user.spec.privileges ?? []).map((p) => databaseKey(namespace, p.database)))];
  });
  // A cluster that appears, goes or changes readiness queues the objects on it.
  addClusterIndex(users, usersByCluster);
  addClusterIndex(databases, databasesByCluster);
  databases.addIndex(databasesByDeclaration, (db) => {
    try {
      const intent = databaseIntent(db);
      return [declaredDatabaseKey(db.metadata.namespace ?? 'default', intent.cluster, intent.dbName)];
    } catch {
      // An invalid MySQLDatabase declares nothing; its own status says why.
      return [];
    }
  });
}

/** Pods by the node they are scheduled on (spec.nodeName). */
export const podsByNode = 'pods-by-node';

/** What podsByNode reads of a Pod. */
export type ScheduledPod = KubeObject & { spec?: { nodeName?: string } };

/** Files Pods under the node they are scheduled on; unscheduled Pods under none. */
export function addPodsByNodeIndex<P extends ScheduledPod>(pods: Informer<P>): void {
  pods.addIndex(podsByNode, (pod) => (pod.spec?.nodeName === undefined || pod.spec.nodeName === '' ? [] : [pod.spec.nodeName]));
}

/**
 * For a Node event, the keys `ownerOf` gives for each Pod on that node — e.g.
 * the MySQLCluster a Pod is an instance of. `pods` needs addPodsByNodeIndex.
 * A Node event then costs a map lookup, not a pass over every Pod.
 */
export function ownersOfPodsOnNode<P extends ScheduledPod>(pods: Informer<P>, ownerOf: (pod: P) => string | undefined): KeyMapper<KubeObject> {
  return throughIndex<KubeObject, P>(
    pods,
    podsByNode,
    (node) => node.metadata.name,
    (pod) => {
      const owner = ownerOf(pod);
      return owner === undefined ? [] : [owner];
    },
  );
}
