// The MySQLCluster reconciler, external mode. Phases, in order:
//   1. connection   (admin Secret present and complete; AdminSecretMissing/Invalid stop here)
//   2. reachability (SELECT VERSION() as the admin account; ClusterUnreachable / AccessDenied stop here)
//   3. status       (Ready with the server version and the writer endpoint)
// Managed clusters (the operator running MariaDB itself) are reported as not
// supported yet rather than silently ignored.
import { clusterIntent } from '../../api/normalize.ts';
import type { ReconcileOutcome } from '../../runtime/controller.ts';
import { sqlFailure } from '../cluster-access.ts';
import { splitKey, type ControllerContext } from '../context.ts';
import { writeStatus } from '../status.ts';

/** Outages are noticed within this time even when nothing else happens. */
const healthCheckIntervalMs = 30_000;

export async function reconcileCluster(context: ControllerContext, key: string): Promise<ReconcileOutcome | undefined> {
  const { namespace, name } = splitKey(key);
  const cluster = context.caches.clusters.get(namespace, name);
  if (cluster === undefined) {
    context.connections.forget(key);
    return undefined;
  }
  const intent = clusterIntent(cluster);
  const mode = intent.external === undefined ? 'Managed' : 'External';
  const connection = context.connections.connect(cluster, context.caches);
  const requeue = { requeueAfterMs: Math.min(healthCheckIntervalMs, context.resyncIntervalMs) };
  if ('problem' in connection) {
    await writeStatus(context, cluster, { mode }, { ready: false, ...connection.problem });
    return requeue;
  }
  const endpoint = `${connection.endpoint.host}:${connection.endpoint.port}`;
  let version: string;
  try {
    version = await connection.client.serverVersion();
  } catch (error) {
    await writeStatus(context, cluster, { mode, writerEndpoint: endpoint }, sqlFailure(error, `server ${endpoint}`));
    throw error;
  }
  await writeStatus(
    context,
    cluster,
    { mode, serverVersion: version, writerEndpoint: endpoint },
    { ready: true, reason: 'Connected', message: `connected to ${endpoint} (${version})` },
  );
  return requeue;
}
