// The MySQLCluster reconciler, external mode: an existing server the
// operator manages databases and users on. Phases, in order:
//   1. connection   (admin Secret present and complete; AdminSecretMissing/Invalid stop here)
//   2. reachability (SELECT VERSION() as the admin account; ClusterUnreachable / AccessDenied stop here)
//   3. status       (Ready with the server version and the writer endpoint)
import type { MySQLCluster } from '../../api/mysqlcluster.ts';
import type { ReconcileOutcome } from '../../runtime/controller.ts';
import { sqlFailure } from '../cluster-access.ts';
import type { ControllerContext } from '../context.ts';
import { writeStatus } from '../status.ts';

/** Outages are noticed within this time even when nothing else happens. */
const healthCheckIntervalMs = 30_000;

export async function reconcileExternalCluster(context: ControllerContext, cluster: MySQLCluster): Promise<ReconcileOutcome> {
  const mode = 'External';
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
