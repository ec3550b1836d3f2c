// The MySQLCluster reconciler: an external server (external.ts) or one the
// operator runs itself (managed/reconcile.ts). A deleted cluster leaves
// nothing to do but to drop the connections and memory kept for it; its
// children go with it through their owner references.
import { clusterIntent } from '../../api/normalize.ts';
import type { ReconcileOutcome } from '../../runtime/controller.ts';
import { splitKey, type ControllerContext } from '../context.ts';
import { reconcileExternalCluster } from './external.ts';
import { reconcileManagedCluster } from './managed/reconcile.ts';
import type { ManagedClusterState } from './managed/state.ts';

export async function reconcileCluster(context: ControllerContext, key: string, state: ManagedClusterState): Promise<ReconcileOutcome | undefined> {
  const { namespace, name } = splitKey(key);
  const cluster = context.caches.clusters.get(namespace, name);
  if (cluster === undefined) {
    context.connections.forget(key);
    state.forget(key);
    return undefined;
  }
  const intent = clusterIntent(cluster);
  if (intent.managed !== undefined) return reconcileManagedCluster(context, cluster, intent.managed, state);
  return reconcileExternalCluster(context, cluster);
}
