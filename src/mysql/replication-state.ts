// One observation of a server's replication, as the failover decision
// (src/replication/) consumes it, and how it is read from what MariaDB
// returns. Pure: the rows come in, the typed observation goes out, so the
// mapping is tested without a server.
//
// GTID positions are kept as the raw strings MariaDB reports (e.g.
// '0-1-42,1-3-7', '' for none): parsing and comparing them is the pure GTID
// module's job, not this one's.
import { integer, optionalText, text, type Row } from './statement.ts';

export interface ReplicationState {
  /** @@server_id: unique per instance in a cluster. */
  readonly serverId: number;
  /** @@read_only: ordinary users cannot write (users with READ_ONLY ADMIN or SUPER still can). */
  readonly readOnly: boolean;
  /** @@log_bin: the server writes a binary log, so replicas can follow it. */
  readonly logBin: boolean;
  /** @@gtid_strict_mode: out-of-order or duplicate GTIDs are errors instead of being applied. */
  readonly gtidStrictMode: boolean;
  /** @@gtid_current_pos: per domain, the last transaction this server has, whether written here or replicated. */
  readonly gtidCurrentPos: string;
  /** @@gtid_binlog_pos: the last transaction in this server's binary log, per domain. */
  readonly gtidBinlogPos: string;
  /** @@gtid_binlog_state: the last transaction of each (domain, server_id) in the binary log; what errant-transaction checks compare. */
  readonly gtidBinlogState: string;
  /** @@gtid_slave_pos: the last transaction the replica SQL thread applied, per domain. */
  readonly gtidSlavePos: string;
  readonly semiSync: SemiSyncState;
  /** The default (unnamed) replication connection; undefined when none is configured (never, or after RESET SLAVE ALL). */
  readonly replica: ReplicaStatus | undefined;
}

/** MariaDB 10.11's built-in semi-synchronous replication, both sides. */
export interface SemiSyncState {
  /** @@rpl_semi_sync_master_enabled: commits wait for a replica's acknowledgement. */
  readonly masterEnabled: boolean;
  /** @@rpl_semi_sync_slave_enabled: this server acknowledges what it receives (read when the IO thread connects). */
  readonly slaveEnabled: boolean;
  /**
   * Rpl_semi_sync_master_status: semi-sync is in force now. False while
   * disabled, and after the primary fell back to asynchronous replication
   * because no acknowledgement came within the timeout.
   */
  readonly masterActive: boolean;
  /** Rpl_semi_sync_slave_status: this replica's IO thread acknowledges to its primary now. */
  readonly slaveActive: boolean;
  /** Rpl_semi_sync_master_clients: replicas connected with semi-sync. */
  readonly masterClients: number;
  /** Rpl_semi_sync_master_wait_sessions: commits waiting for an acknowledgement right now. */
  readonly masterWaitSessions: number;
  /** Rpl_semi_sync_master_yes_tx: commits acknowledged by a replica since start-up. */
  readonly masterAcknowledgedCommits: number;
  /** Rpl_semi_sync_master_no_tx: commits that returned without an acknowledgement since start-up. */
  readonly masterUnacknowledgedCommits: number;
  /** Rpl_semi_sync_master_no_times: how often the primary fell back to asynchronous replication since start-up. */
  readonly masterFallbacks: number;
  /** @@rpl_semi_sync_master_timeout: how long a commit waits before the primary falls back to async. */
  readonly masterTimeoutMs: number;
  /** @@rpl_semi_sync_master_wait_point: 'AFTER_SYNC' (safe: not visible to others before acknowledged) or 'AFTER_COMMIT'. */
  readonly masterWaitPoint: string;
  /** @@rpl_semi_sync_master_wait_no_slave: commits keep waiting (up to the timeout) when no replica is connected. */
  readonly masterWaitNoSlave: boolean;
}

/** The replica side, from SHOW ALL SLAVES STATUS. */
export interface ReplicaStatus {
  /** Master_Host: the source as configured (a DNS name or an address). */
  readonly sourceHost: string;
  readonly sourcePort: number;
  readonly sourceUser: string;
  /** Master_Server_Id: the source's server_id once connected; 0 before. */
  readonly sourceServerId: number;
  /** Using_Gtid: 'Slave_Pos' as configureReplica sets it; 'No' or 'Current_Pos' when set up otherwise. */
  readonly usingGtid: string;
  /** Slave_IO_Running: 'Yes' (connected, receiving), 'Preparing' (just started), 'Connecting' (trying, see lastIo*), 'No' (stopped). */
  readonly ioThread: 'Yes' | 'Preparing' | 'Connecting' | 'No';
  /** Slave_SQL_Running: the SQL thread applies what was received. */
  readonly sqlRunning: boolean;
  /** Seconds_Behind_Master; undefined while the SQL thread is not running or the IO thread has not connected. */
  readonly secondsBehind: number | undefined;
  /** Last_IO_Errno: e.g. 1236 (the source no longer has the binlogs this replica needs, or lacks a GTID it has), 2003 (unreachable), 1045 (access denied); 0 = none. */
  readonly lastIoErrno: number;
  readonly lastIoError: string;
  /** Last_SQL_Errno: e.g. 1950 (GTID out of order in strict mode: an errant transaction), 1062 (duplicate key); 0 = none. */
  readonly lastSqlErrno: number;
  readonly lastSqlError: string;
  /** Gtid_IO_Pos: the last transaction received (not necessarily applied): what this replica could acknowledge. */
  readonly gtidIoPos: string;
  /** Slave_SQL_Running_State, e.g. 'Slave has read all relay log; waiting for more updates'. */
  readonly sqlState: string;
}

/** The @@global variables replicationState reads, under the aliases variablesSql gives them. */
export const variablesSql =
  'SELECT @@global.server_id AS serverId, @@global.read_only AS readOnly, @@global.log_bin AS logBin, ' +
  '@@global.gtid_strict_mode AS gtidStrictMode, @@global.gtid_current_pos AS gtidCurrentPos, ' +
  '@@global.gtid_binlog_pos AS gtidBinlogPos, @@global.gtid_binlog_state AS gtidBinlogState, @@global.gtid_slave_pos AS gtidSlavePos, ' +
  '@@global.rpl_semi_sync_master_enabled AS masterEnabled, @@global.rpl_semi_sync_slave_enabled AS slaveEnabled, ' +
  '@@global.rpl_semi_sync_master_timeout AS masterTimeoutMs, @@global.rpl_semi_sync_master_wait_point AS masterWaitPoint, ' +
  '@@global.rpl_semi_sync_master_wait_no_slave AS masterWaitNoSlave';

const semiSyncStatusNames = [
  'RPL_SEMI_SYNC_MASTER_STATUS',
  'RPL_SEMI_SYNC_SLAVE_STATUS',
  'RPL_SEMI_SYNC_MASTER_CLIENTS',
  'RPL_SEMI_SYNC_MASTER_WAIT_SESSIONS',
  'RPL_SEMI_SYNC_MASTER_YES_TX',
  'RPL_SEMI_SYNC_MASTER_NO_TX',
  'RPL_SEMI_SYNC_MASTER_NO_TIMES',
] as const;

/** The semi-sync status variables, one row each (VARIABLE_NAME upper case, VARIABLE_VALUE text). */
export const semiSyncStatusSql = {
  sql: `SELECT VARIABLE_NAME AS name, VARIABLE_VALUE AS value FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN (${semiSyncStatusNames.map(() => '?').join(', ')})`,
  values: [...semiSyncStatusNames],
};

/**
 * Every replication connection with its status. Rather than SHOW SLAVE
 * STATUS, because that one answers with the default connection only and
 * says nothing about named ones someone may have added by hand.
 */
export const replicaStatusSql = 'SHOW ALL SLAVES STATUS';

function flag(row: Row, column: string): boolean {
  return integer(row, column, 0) !== 0;
}

/** The observation from the rows of variablesSql, semiSyncStatusSql and replicaStatusSql. */
export function replicationStateFromRows(variables: Row, status: readonly Row[], replicas: readonly Row[]): ReplicationState {
  const statusValues = new Map(status.map((row) => [text(row, 'name').toUpperCase(), text(row, 'value')]));
  const statusText = (name: (typeof semiSyncStatusNames)[number]): string => {
    const value = statusValues.get(name);
    if (value === undefined) throw new Error(`the server reported no status variable ${name}: is semi-sync replication available?`);
    return value;
  };
  const statusNumber = (name: (typeof semiSyncStatusNames)[number]): number => {
    const n = Number(statusText(name));
    if (!Number.isSafeInteger(n)) throw new Error(`status variable ${name} is not an integer`);
    return n;
  };
  const defaultConnection = replicas.find((row) => text(row, 'Connection_name') === '');
  return {
    serverId: integer(variables, 'serverId', 0),
    readOnly: flag(variables, 'readOnly'),
    logBin: flag(variables, 'logBin'),
    gtidStrictMode: flag(variables, 'gtidStrictMode'),
    gtidCurrentPos: text(variables, 'gtidCurrentPos'),
    gtidBinlogPos: text(variables, 'gtidBinlogPos'),
    gtidBinlogState: text(variables, 'gtidBinlogState'),
    gtidSlavePos: text(variables, 'gtidSlavePos'),
    semiSync: {
      masterEnabled: flag(variables, 'masterEnabled'),
      slaveEnabled: flag(variables, 'slaveEnabled'),
      masterActive: statusText('RPL_SEMI_SYNC_MASTER_STATUS') === 'ON',
      slaveActive: statusText('RPL_SEMI_SYNC_SLAVE_STATUS') === 'ON',
      masterClients: statusNumber('RPL_SEMI_SYNC_MASTER_CLIENTS'),
      masterWaitSessions: statusNumber('RPL_SEMI_SYNC_MASTER_WAIT_SESSIONS'),
      masterAcknowledgedCommits: statusNumber('RPL_SEMI_SYNC_MASTER_YES_TX'),
      masterUnacknowledgedCommits: statusNumber('RPL_SEMI_SYNC_MASTER_NO_TX'),
      masterFallbacks: statusNumber('RPL_SEMI_SYNC_MASTER_NO_TIMES'),
      masterTimeoutMs: integer(variables, 'masterTimeoutMs', 0),
      masterWaitPoint: text(variables, 'masterWaitPoint'),
      masterWaitNoSlave: flag(variables, 'masterWaitNoSlave'),
    },
    replica: defaultConnection === undefined ? undefined : replicaStatusFromRow(defaultConnection),
  };
}

function ioThread(value: string): ReplicaStatus['ioThread'] {
  if (value === 'Yes' || value === 'Preparing' || value === 'Connecting' || value === 'No') return value;
  throw new Error(`unexpected Slave_IO_Running ${JSON.stringify(value)}`);
}

/** One row of SHOW ALL SLAVES STATUS (or SHOW SLAVE STATUS). */
export function replicaStatusFromRow(row: Row): ReplicaStatus {
  const behind = row.Seconds_Behind_Master;
  return {
    sourceHost: text(row, 'Master_Host'),
    sourcePort: integer(row, 'Master_Port', 0),
    sourceUser: text(row, 'Master_User'),
    sourceServerId: integer(row, 'Master_Server_Id', 0),
    usingGtid: text(row, 'Using_Gtid'),
    ioThread: ioThread(text(row, 'Slave_IO_Running')),
    sqlRunning: text(row, 'Slave_SQL_Running') === 'Yes',
    secondsBehind: behind === null || behind === undefined ? undefined : integer(row, 'Seconds_Behind_Master', 0),
    lastIoErrno: integer(row, 'Last_IO_Errno', 0),
    lastIoError: optionalText(row, 'Last_IO_Error') ?? '',
    lastSqlErrno: integer(row, 'Last_SQL_Errno', 0),
    lastSqlError: optionalText(row, 'Last_SQL_Error') ?? '',
    gtidIoPos: optionalText(row, 'Gtid_IO_Pos') ?? '',
    sqlState: optionalText(row, 'Slave_SQL_Running_State') ?? '',
  };
}
