// One instance's replication as the decision reads it (ServerObservation),
// from what the SQL client reports (ReplicationState). Pure: GTID text is
// parsed here, and the replica's source address is turned back into the name
// of the instance it designates by a resolver the caller supplies (a pod's
// DNS name in Kubernetes, a port on loopback in the process tests).
import type { ReplicationState } from '../../../../mysql/replication.ts';
import { parseGtidPosition, parseGtidState } from '../../../../replication/gtid.ts';
import type { ReplicaObservation, ServerObservation } from '../../../../replication/observations.ts';

/** The instance a replica's configured source designates; undefined for an address of no instance of this cluster. */
export type SourceResolver = (host: string, port: number) => string | undefined;

export function serverObservation(state: ReplicationState, resolveSource: SourceResolver): ServerObservation {
  const replica = state.replica;
  let replicaObservation: ReplicaObservation | undefined;
  if (replica !== undefined) {
    const usingGtid = replica.usingGtid === 'Slave_Pos' || replica.usingGtid === 'Current_Pos' ? replica.usingGtid : 'No';
    replicaObservation = {
      sourceHost: replica.sourceHost === '' ? undefined : resolveSource(replica.sourceHost, replica.sourcePort),
      // 'Preparing' is the moment after START SLAVE: the thread runs and has not connected yet.
      ioThread: replica.ioThread === 'Preparing' ? 'Connecting' : replica.ioThread,
      sqlRunning: replica.sqlRunning,
      secondsBehind: replica.secondsBehind,
      lastIoErrno: replica.lastIoErrno,
      lastIoError: replica.lastIoError,
      lastSqlErrno: replica.lastSqlErrno,
      lastSqlError: replica.lastSqlError,
      usingGtid,
      gtidIoPos: parseGtidPosition(replica.gtidIoPos),
    };
  }
  return {
    serverId: state.serverId,
    readOnly: state.readOnly,
    gtidCurrentPos: parseGtidPosition(state.gtidCurrentPos),
    gtidBinlogPos: parseGtidPosition(state.gtidBinlogPos),
    gtidBinlogState: parseGtidState(state.gtidBinlogState),
    gtidSlavePos: parseGtidPosition(state.gtidSlavePos),
    replica: replicaObservation,
    semiSyncSource: { enabled: state.semiSync.masterEnabled, active: state.semiSync.masterActive, clients: state.semiSync.masterClients },
  };
}
