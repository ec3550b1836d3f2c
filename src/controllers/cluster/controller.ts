// The MySQLCluster controller as the manager runs it: its reconcile, and
// what queues a cluster besides its own changes — the Secrets an external
// cluster names or a managed cluster's credentials, the pods and StatefulSet
// of a managed cluster, and the Nodes its pods run on (a cordon must move the
// writer before the drain evicts it).
import { apiVersion } from '../../api/common.ts';
import { clusterIntent } from '../../api/normalize.ts';
import type { KubeObject } from '../../runtime/informer.ts';
import { labelled, owns, watches } from '../../runtime/triggers.ts';
import { keyOf, type ControllerDefinition, type PodObject } from '../context.ts';
import { ownersOfPodsOnNode } from '../indexes.ts';
import { ownChanges, secretChangeMatters } from '../worth-reconciling.ts';
import { labelKeys } from './managed/builders/labels.ts';
import { clusterNames } from './managed/builders/names.ts';
import type { ManagedClusterState } from './managed/state.ts';
import { reconcileCluster } from './reconcile.ts';

function clusterOfPod(pod: PodObject): string | undefined {
  const name = pod.metadata.labels?.[labelKeys.cluster];
  return name === undefined ? undefined : `${pod.metadata.namespace ?? ''}/${name}`;
}

/** What the reconciler keeps of a StatefulSet: that it exists (a deleted one is applied again). */
export function slimStatefulSet(object: KubeObject): KubeObject {
  return { apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata };
}

export function clusterController(state: ManagedClusterState): ControllerDefinition {
  return {
    name: 'mysqlcluster',
    reconcile: (context, key) => reconcileCluster(context, key, state),
    triggers: (caches) => [
      ownChanges(caches.clusters, 'mysqlclusters'),
      watches(caches.secrets, 'clusters naming the Secret (external admin and CA, managed credentials)', (event, secret, previous) => {
        if (!secretChangeMatters(event, secret, previous)) return [];
        const name = secret.metadata.name;
        return caches.clusters
          .list(secret.metadata.namespace ?? '')
          .filter((c) => {
            const intent = clusterIntent(c);
            if (intent.managed !== undefined) return clusterNames(c.metadata.name, intent.managed).credentialsSecret === name;
            return intent.external?.adminSecretName === name || intent.external?.tls.caSecret?.name === name;
          })
          .map(keyOf);
      }),
      labelled(caches.pods, 'instance pods of managed clusters', labelKeys.cluster),
      owns(caches.statefulSets, 'StatefulSets of managed clusters', { apiVersion, kind: 'MySQLCluster' }, (event) => event === 'delete'),
      watches(caches.nodes, 'nodes with instances of managed clusters', ownersOfPodsOnNode(caches.pods, clusterOfPod)),
    ],
  };
}
