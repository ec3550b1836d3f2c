// The observed state of a managed cluster as its status says it: the writer,
// each instance's role and replication health, endpoints, and the Ready and
// Replicating conditions with a sentence a user can act on. Pure.
import type { MySQLClusterStatus } from '../../../api/mysqlcluster.ts';
import { formatGtidList } from '../../../replication/gtid.ts';
import type { ClusterObservation, InstanceObservation } from '../../../replication/observations.ts';
import type { ActOutcome } from './replication/act.ts';
import { readsFromReplica } from './routing.ts';

type InstanceStatus = NonNullable<MySQLClusterStatus['instanceStatuses']>[number];

export interface ConditionOutcome {
  readonly ready: boolean;
  readonly reason: string;
  readonly message: string;
}

/** What the status says of one instance. `problems` holds reasons an instance is kept out of service, by pod name. */
export function instanceStatus(instance: InstanceObservation, primary: string | undefined, maxLagSeconds: number, problem: string | undefined): InstanceStatus {
  const server = instance.server;
  const replica = server?.replica;
  const isWriter = instance.name === primary;
  const lastError = replica === undefined ? '' : replica.lastSqlError !== '' ? replica.lastSqlError : replica.lastIoError;
  const healthy = server !== undefined && instance.podReady && (isWriter ? !server.readOnly : primary !== undefined && readsFromReplica(instance, primary, maxLagSeconds));
  return {
    name: instance.name,
    index: instance.index,
    ...(instance.nodeName === undefined ? {} : { node: instance.nodeName }),
    role: server === undefined ? 'Unknown' : isWriter ? 'Writer' : 'Reader',
    ready: healthy && problem === undefined,
    ...(replica?.secondsBehind === undefined ? {} : { replicationLagSeconds: replica.secondsBehind }),
    ...(replica === undefined ? {} : { ioThreadRunning: replica.ioThread === 'Yes', sqlThreadRunning: replica.sqlRunning }),
    ...(server === undefined ? {} : { gtidPosition: formatGtidList(server.gtidCurrentPos) }),
    ...(lastError === '' ? {} : { lastError }),
    ...(problem === undefined ? {} : { problem }),
  };
}

/** Ready=False reasons under which a write to the cluster would not complete: databases and users wait rather than send one (connections.ts). */
export const writesCannotCompleteReasons: ReadonlySet<string> = new Set(['Initializing', 'NoReaderConnected']);

/**
 * The Ready condition: can applications write through the writer Service
 * now, and if not, why. `asyncFallback`: spec.replication.allowAsyncFallback,
 * without which a write on a writer that has semi-sync on and no reader
 * connected waits until one connects.
 */
export function readiness(observation: ClusterObservation, outcome: ActOutcome, readyInstances: number, asyncFallback: boolean): ConditionOutcome {
  const primary = observation.status.currentPrimary;
  const operation = observation.status.operation;
  if (operation !== undefined) {
    return {
      ready: false,
      reason: operation.type === 'Failover' ? 'FailingOver' : 'SwitchingOver',
      message: `${operation.type.toLowerCase()} from ${operation.from} to ${operation.to}: step ${operation.step}${operation.message === undefined ? '' : ` (${operation.message})`}`,
    };
  }
  if (outcome.kind === 'blocked') return { ready: false, reason: 'Blocked', message: outcome.reason };
  if (primary === undefined) {
    const waiting = outcome.kind === 'waiting' ? outcome.reason : `${readyInstances} of ${observation.instanceCount} instances ready`;
    return { ready: false, reason: 'Initializing', message: `no writer yet: ${waiting}` };
  }
  const writer = observation.instances.find((i) => i.name === primary);
  if (writer?.server === undefined) {
    return { ready: false, reason: 'WriterUnavailable', message: outcome.kind === 'waiting' ? outcome.reason : `writer ${primary} does not answer` };
  }
  if (writer.server.readOnly) return { ready: false, reason: 'WriterReadOnly', message: `writer ${primary} is still read-only` };
  if (!writer.podReady) return { ready: false, reason: 'WriterNotReady', message: `writer ${primary} answers but its pod is not Ready yet` };
  const semiSync = writer.server.semiSyncSource;
  if (semiSync.enabled && semiSync.clients === 0 && !asyncFallback) {
    // Also what keeps a new cluster's first writes from blocking the copy its first readers are seeded from.
    return {
      ready: false,
      reason: 'NoReaderConnected',
      message: `writer ${primary} waits for a reader to acknowledge every write (spec.replication.allowAsyncFallback is false) and no reader is connected yet; ${readyInstances} of ${observation.instanceCount} instances ready`,
    };
  }
  return {
    ready: true,
    reason: 'Running',
    message: `writer ${primary}; ${readyInstances} of ${observation.instanceCount} instances ready`,
  };
}

/** The Replicating condition: every reader replicates from the writer within the lag limit. */
export function replicating(observation: ClusterObservation, statuses: readonly InstanceStatus[]): ConditionOutcome {
  const primary = observation.status.currentPrimary;
  const readers = statuses.filter((s) => s.name !== primary && s.index !== undefined && s.index < observation.instanceCount);
  if (readers.length === 0) return { ready: true, reason: 'NoReaders', message: 'the cluster has no readers' };
  const problems = readers.filter((s) => s.ready !== true);
  if (problems.length === 0) return { ready: true, reason: 'ReadersReplicating', message: `${readers.length} readers replicate from ${primary ?? 'the writer'}` };
  const described = problems.map((s) => `${s.name}: ${s.problem ?? s.lastError ?? (s.role === 'Unknown' ? 'not reachable' : 'not replicating or lagging')}`);
  return { ready: false, reason: 'ReadersDegraded', message: described.join('; ') };
}
