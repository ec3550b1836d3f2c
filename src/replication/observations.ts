// What the decision reads: one snapshot of a managed cluster, gathered by the
// controller from its caches (pods, nodes), from each instance over SQL, and
// from the MySQLCluster's spec and status. Plain data, so the decision stays a
// pure function and tests can write any situation as a literal.
//
// Every field states what the controller must put there. "Unknown" is always
// spelled out (undefined with a documented meaning), never guessed: a guess here
// becomes a failover there.
import type { GtidPosition, GtidState } from './gtid.ts';
import type { Operation } from './operation.ts';

/** Pod phase as the API reports it; undefined when the pod does not exist. */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/**
 * One MariaDB instance: the StatefulSet pod with ordinal `index`. The cluster
 * observation lists one per desired ordinal, also when the pod does not exist,
 * and may list extra ordinals (pods left above the desired count while scaling
 * down).
 */
export interface InstanceObservation {
  /** Pod name, `<statefulset>-<index>`; the identity used everywhere else (status, operations, sourceHost). */
  readonly name: string;
  /** StatefulSet ordinal. */
  readonly index: number;
  /** Whether the pod object exists in the cache. When false, every other pod field is ignored and `server` must be undefined. */
  readonly exists: boolean;
  /** The pod's Ready condition is True. */
  readonly podReady: boolean;
  /** status.phase, undefined when the pod does not exist. */
  readonly phase: PodPhase | undefined;
  /** spec.nodeName; undefined while the pod is unscheduled. */
  readonly nodeName: string | undefined;
  /**
   * The pod's node is being emptied: spec.unschedulable (kubectl cordon/drain)
   * or a NoSchedule/NoExecute taint meaning the node is going away
   * (node.kubernetes.io/unschedulable, ToBeDeletedByClusterAutoscaler). False
   * when the pod has no node.
   */
  readonly nodeUnschedulable: boolean;
  /** metadata.deletionTimestamp is set: the pod is terminating (deleted or evicted by a drain). */
  readonly podDeleting: boolean;
  /**
   * What the server itself said over SQL in this reconcile; undefined when it
   * could not be asked (no pod, no IP, connection refused or timed out, query
   * failed). "Reachable" in the decision means exactly: this is defined.
   */
  readonly server: ServerObservation | undefined;
  /**
   * The pod's seed init container is copying, or waiting to copy, a donor's
   * data into an empty (or discarded) data directory: running, or waiting to
   * run again after a failed attempt. `donor` is the instance the pod's
   * seed-donor annotation names now, undefined when none. Undefined (the
   * usual case) when no seed runs; `server` is then undefined too.
   */
  readonly seeding?: { readonly donor: string | undefined };
  /**
   * The user asked, with the rebuild annotation on the pod, for this
   * instance's data to be discarded and seeded again from a healthy instance.
   * The only way a quarantined or diverged replica's data is ever discarded.
   */
  readonly rebuildRequested?: boolean;
}

/** The state of one reachable mariadbd. */
export interface ServerObservation {
  /** @@server_id. */
  readonly serverId: number;
  /** @@read_only (or @@super_read_only where set): true when clients without special privileges cannot write. */
  readonly readOnly: boolean;
  /** @@gtid_current_pos: the last transaction of each domain this server applied or wrote. */
  readonly gtidCurrentPos: GtidPosition;
  /** @@gtid_binlog_pos: the last transaction of each domain in its binary log. */
  readonly gtidBinlogPos: GtidPosition;
  /** @@gtid_binlog_state: the last transaction of each (domain, server_id) its binary log has seen; what errant-transaction checks compare against. */
  readonly gtidBinlogState: GtidState;
  /** @@gtid_slave_pos: the last transaction of each domain applied by replication. */
  readonly gtidSlavePos: GtidPosition;
  /** The default replication connection (SHOW SLAVE STATUS); undefined when none is configured (the result has no row). */
  readonly replica: ReplicaObservation | undefined;
  /** The semi-synchronous master side (SHOW STATUS LIKE 'Rpl_semi_sync_master_%'). */
  readonly semiSyncSource: SemiSyncSourceObservation;
}

/** One row of SHOW SLAVE STATUS. */
export interface ReplicaObservation {
  /**
   * Master_Host, as the pod name of the cluster instance it designates
   * (the controller maps the headless-Service DNS name it configured back to
   * the pod name); undefined when the host is empty or names no instance of
   * this cluster.
   */
  readonly sourceHost: string | undefined;
  /** Slave_IO_Running: 'Connecting' means the thread runs but has no connection to the source yet. */
  readonly ioThread: 'Yes' | 'Connecting' | 'No';
  /** Slave_SQL_Running = 'Yes'. */
  readonly sqlRunning: boolean;
  /** Seconds_Behind_Master; undefined when NULL (SQL thread stopped, or IO thread not connected). */
  readonly secondsBehind: number | undefined;
  /** Last_IO_Errno; 0 when none. 1236 means the source no longer has the binary logs this replica needs. */
  readonly lastIoErrno: number;
  /** Last_IO_Error, for reports; '' when none. Never holds credentials (MariaDB does not print them). */
  readonly lastIoError: string;
  /** Last_SQL_Errno; 0 when none. */
  readonly lastSqlErrno: number;
  /** Last_SQL_Error, for reports; '' when none. */
  readonly lastSqlError: string;
  /** Using_Gtid: the operator always configures 'Slave_Pos'; anything else means the connection was not configured by it. */
  readonly usingGtid: 'Slave_Pos' | 'Current_Pos' | 'No';
  /**
   * Gtid_IO_Pos: the last transaction of each domain the IO thread received
   * into the relay log, applied or not. With semi-synchronous replication this
   * is what the replica acknowledged to its source, so it, not the applied
   * position, is what a failover must not lose.
   */
  readonly gtidIoPos: GtidPosition;
}

/** The semi-synchronous master side of a server. */
export interface SemiSyncSourceObservation {
  /** @@rpl_semi_sync_master_enabled. */
  readonly enabled: boolean;
  /** Rpl_semi_sync_master_status = ON: commits currently wait for a replica's acknowledgement (OFF after a fallback to asynchronous). */
  readonly active: boolean;
  /** Rpl_semi_sync_master_clients: replicas connected as semi-synchronous. */
  readonly clients: number;
}

/** What the MySQLCluster's status recorded, as read back at the start of this reconcile. */
export interface RecordedStatus {
  /** status.currentPrimary: the pod name of the writer; undefined for a cluster that never had one. */
  readonly currentPrimary: string | undefined;
  /** The switchover or failover in progress (persisted before each step), undefined when none. */
  readonly operation: Operation | undefined;
}

/** One snapshot of a managed cluster, everything decide() reads. */
export interface ClusterObservation {
  /** The time of the snapshot, in milliseconds since the epoch (the caller's clock, never read inside). */
  readonly nowMs: number;
  /** Desired number of instances: readerCount + 1. */
  readonly instanceCount: number;
  /** spec.primary: the ordinal that should be writer, undefined when not set (keep the current one). */
  readonly desiredPrimaryIndex: number | undefined;
  /** spec.replication.autoFailover. */
  readonly autoFailover: boolean;
  /** How long the primary must stay unreachable before a failover starts. */
  readonly failoverAfterMs: number;
  /**
   * Whether the writer's commits must wait for a replica's acknowledgement
   * (semi-sync master on): spec.replication.mode SemiSync and at least one
   * reader wanted. A lone instance has nobody to wait for, and waiting would
   * hang its every write. A writer found otherwise is configured again.
   */
  readonly writerSemiSync: boolean;
  /**
   * When the controller first saw the recorded primary unreachable (server
   * undefined) without seeing it reachable since; undefined when it was
   * reachable at the last look. The controller keeps it in memory: a new
   * leader starts the count again, which only delays a failover.
   */
  readonly primaryUnreachableSinceMs: number | undefined;
  /** The recorded status. */
  readonly status: RecordedStatus;
  /** One entry per ordinal 0..instanceCount-1, plus any pod still present above it; names and ordinals unique. */
  readonly instances: readonly InstanceObservation[];
}
