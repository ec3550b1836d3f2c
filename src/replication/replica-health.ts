// What one non-primary instance needs, judged against the reachable primary:
// nothing, its replication (re)configured, a rebuild from a copy of a healthy
// instance, or to be kept out of service because it may hold the only copy of
// acknowledged writes. Pure; decide() turns the verdicts into one decision.
import { errantTransactions, formatGtidList, mergeGtidStates, type Gtid, type GtidState } from './gtid.ts';
import type { InstanceObservation, ServerObservation } from './observations.ts';

/** Why an instance must be rebuilt from a copy of a healthy one. */
export type RebuildCause =
  /** No data yet (new instance, or a volume replaced): seeded from a consistent copy, never replicated "from now". */
  | 'empty'
  /** Transactions the primary lacks, written directly on a replica: never acknowledged through the writer. */
  | 'errantTransactions'
  /** IO thread stopped with error 1236: its source purged the binary logs it still needs. */
  | 'binlogPurged'
  /** SQL thread stopped on an error that means its data differs from its source's (duplicate key, missing row, ...). */
  | 'diverged'
  /** Nothing wrong was seen, but a person asked for it (the rebuild annotation on its pod). */
  | 'requested';

/** The verdict on one non-primary instance. */
export type ReplicaHealth =
  /** Pod missing, terminating or server unreachable: nothing can be done to it now. */
  | { readonly kind: 'unavailable' }
  /** Replicating from the primary, both threads running (or the IO thread connecting without an error yet), no errant transaction. */
  | { readonly kind: 'healthy' }
  /** Needs CHANGE MASTER to the primary / START SLAVE; `reason` says what is wrong. */
  | { readonly kind: 'configure'; readonly reason: string }
  /** Cannot continue as it is; rebuild it from a healthy instance. */
  | { readonly kind: 'rebuild'; readonly cause: RebuildCause; readonly reason: string }
  /**
   * Has transactions the primary lacks from a server the primary knows as a
   * writer (a former primary, usually this instance itself after a failover):
   * they may be acknowledged client writes that exist nowhere else, so it is
   * kept read-only and out of service, with replication stopped, until a
   * person decides (never rebuilt automatically).
   */
  | { readonly kind: 'quarantine'; readonly errant: readonly Gtid[]; readonly reason: string };

/**
 * SQL errors after which a replica's data is known to differ from its
 * source's: a database, table, column or index that exists on one side only,
 * a duplicate key, a missing row, and GTID strict mode refusing an
 * out-of-order transaction. Restarting the SQL thread would fail again.
 */
export const divergenceSqlErrnos: ReadonlySet<number> = new Set([
  1007, 1008, 1049, 1050, 1051, 1054, 1060, 1061, 1062, 1091, 1146, 1032, 1950,
]);

/** IO error: the source no longer has the binary logs from this replica's position on. */
export const binlogPurgedIoErrno = 1236;

/** The instance's whole known history: its binlog state plus its applied tips. */
export function historyOf(server: ServerObservation): GtidState {
  return mergeGtidStates(server.gtidBinlogState, server.gtidCurrentPos);
}

/** Judges `instance` (not the primary) against the reachable `primary`. */
export function replicaHealth(instance: InstanceObservation, primary: { readonly name: string; readonly server: ServerObservation }): ReplicaHealth {
  const server = instance.server;
  if (!instance.exists || instance.podDeleting || server === undefined) return { kind: 'unavailable' };

  const primaryHistory = historyOf(primary.server);
  // The primary's own transactions are never errant on a replica: it can only
  // have them from the primary. The instances are observed one after the
  // other, not in one snapshot, so under writes a replica is often seen ahead
  // of the moment the primary was read; that is not a reason to quarantine it.
  const errant = errantTransactions(historyOf(server), primaryHistory).filter((gtid) => gtid.server !== primary.server.serverId);
  if (errant.length > 0) {
    const list = formatGtidList(errant);
    const fromWriters = errant.filter((gtid) => primaryHistory.some((known) => known.server === gtid.server));
    if (fromWriters.length > 0) {
      return {
        kind: 'quarantine',
        errant,
        reason:
          `${instance.name} has transactions ${list} that the primary ${primary.name} lacks, written by a server that was once primary; ` +
          `they may be acknowledged writes, so it stays out of service until they are recovered or discarded by hand`,
      };
    }
    return {
      kind: 'rebuild',
      cause: 'errantTransactions',
      reason: `${instance.name} has transactions ${list} that the primary ${primary.name} lacks, written directly on a replica`,
    };
  }

  const replica = server.replica;
  const followsPrimary = replica !== undefined && replica.sourceHost === primary.name && replica.usingGtid === 'Slave_Pos';
  if (historyOf(server).length === 0 && primaryHistory.length > 0 && !(followsPrimary && replica.ioThread !== 'No')) {
    return { kind: 'rebuild', cause: 'empty', reason: `${instance.name} has no data yet` };
  }
  if (replica === undefined) return { kind: 'configure', reason: `${instance.name} does not replicate` };
  if (replica.sourceHost !== primary.name) {
    const source = replica.sourceHost ?? 'a host outside the cluster';
    return { kind: 'configure', reason: `${instance.name} replicates from ${source} instead of ${primary.name}` };
  }
  if (replica.usingGtid !== 'Slave_Pos') {
    return { kind: 'configure', reason: `${instance.name} replicates with Using_Gtid=${replica.usingGtid} instead of Slave_Pos` };
  }
  if (replica.ioThread === 'No' && replica.lastIoErrno === binlogPurgedIoErrno) {
    return {
      kind: 'rebuild',
      cause: 'binlogPurged',
      reason: `${instance.name} cannot continue: ${primary.name} no longer has the binary logs it needs (error ${replica.lastIoErrno}: ${replica.lastIoError})`,
    };
  }
  if (!replica.sqlRunning && divergenceSqlErrnos.has(replica.lastSqlErrno)) {
    return {
      kind: 'rebuild',
      cause: 'diverged',
      reason: `${instance.name} has data that differs from ${primary.name} (error ${replica.lastSqlErrno}: ${replica.lastSqlError})`,
    };
  }
  // A thread still 'Connecting' after an error (a source that restarted, a
  // changed password) would wait up to MASTER_CONNECT_RETRY before trying
  // again; configuring it again reconnects it now.
  if (replica.ioThread === 'No' || !replica.sqlRunning || (replica.ioThread === 'Connecting' && replica.lastIoErrno !== 0)) {
    const errors = [
      replica.lastIoErrno !== 0 ? `IO error ${replica.lastIoErrno}: ${replica.lastIoError}` : '',
      replica.lastSqlErrno !== 0 ? `SQL error ${replica.lastSqlErrno}: ${replica.lastSqlError}` : '',
    ].filter((text) => text !== '');
    const io = { No: 'stopped', Connecting: 'connecting', Yes: 'running' }[replica.ioThread];
    const threads = `IO thread ${io}, SQL thread ${replica.sqlRunning ? 'running' : 'stopped'}`;
    return { kind: 'configure', reason: `${instance.name}: ${[threads, ...errors].join('; ')}` };
  }
  return { kind: 'healthy' };
}
