// The first phases shared by the MySQLDatabase and MySQLUser reconcilers:
// find the referenced cluster, check that it admits the object's namespace,
// and get a connection to its server. No SQL is sent before all three pass.
import type { MySQLCluster } from '../api/mysqlcluster.ts';
import { clusterIntent, clusterKeyOf, type ClusterIntent } from '../api/normalize.ts';
import type { MySQLClient } from '../mysql/client.ts';
import { describeSqlError, isAccessDenied, isConnectionError } from '../mysql/errors.ts';
import type { ControllerContext } from './context.ts';
import type { Readiness } from './status.ts';
import { namespaceAllowed } from './tenancy.ts';

export interface ClusterAccess {
  readonly cluster: MySQLCluster;
  readonly intent: ClusterIntent;
  readonly client: MySQLClient;
  readonly endpoint: { readonly host: string; readonly port: number };
}

/** Either access to the cluster, or why there is none (as the Ready condition says it). */
export type ClusterAccessResult = { readonly access: ClusterAccess } | { readonly halt: Readiness };

export function accessCluster(
  context: ControllerContext,
  object: { metadata: { namespace?: string }; spec: { cluster: { name: string; namespace?: string } } },
): ClusterAccessResult {
  const key = clusterKeyOf(object);
  const namespace = object.metadata.namespace ?? 'default';
  const cluster = context.caches.clusters.get(key.namespace, key.name);
  if (cluster === undefined) {
    return { halt: { ready: false, reason: 'ClusterNotFound', message: `MySQLCluster ${key.namespace}/${key.name} does not exist` } };
  }
  const intent = clusterIntent(cluster);
  // An unknown namespace has no labels to match; a known one without labels has none set.
  const namespaceObject = context.caches.namespaces.get(undefined, namespace);
  const labels = namespaceObject === undefined ? undefined : (namespaceObject.metadata.labels ?? {});
  if (!namespaceAllowed(intent.tenancy, key.namespace, namespace, labels)) {
    return {
      halt: {
        ready: false,
        reason: 'NamespaceNotAllowed',
        message: notAllowedMessage(intent, key, namespace),
      },
    };
  }
  const connection = context.connections.connect(cluster, context.caches);
  if ('problem' in connection) {
    return { halt: { ready: false, reason: 'ClusterNotReady', message: `MySQLCluster ${key.namespace}/${key.name}: ${connection.problem.message}` } };
  }
  return { access: { cluster, intent, client: connection.client, endpoint: connection.endpoint } };
}

/**
 * Why a namespace is refused, and exactly what to set to admit it: a new
 * user who applies a database in another namespace than its cluster's meets
 * this first, and the secure default should not read as a dead end.
 */
function notAllowedMessage(intent: ClusterIntent, key: { namespace: string; name: string }, namespace: string): string {
  const cluster = `MySQLCluster ${key.namespace}/${key.name}`;
  if (intent.tenancy.from === 'Selector') {
    return `${cluster} admits namespaces matching its spec.allowedNamespaces.selector, and namespace ${namespace} does not match: label namespace ${namespace} to match it, or change the selector`;
  }
  return `${cluster} admits objects from its own namespace only; to admit namespace ${namespace}, set on the cluster spec.allowedNamespaces: {from: All} (every namespace) or {from: Selector, selector: {matchLabels: {…}}} (namespaces with those labels)`;
}

/** How a failed statement reads in the Ready condition. */
export function sqlFailure(error: unknown, what: string): Readiness {
  if (isConnectionError(error)) return { ready: false, reason: 'ClusterUnreachable', message: `${what}: ${describeSqlError(error)}` };
  if (isAccessDenied(error)) return { ready: false, reason: 'AccessDenied', message: `${what}: ${describeSqlError(error)}` };
  return { ready: false, reason: 'SQLError', message: `${what}: ${describeSqlError(error)}` };
}
