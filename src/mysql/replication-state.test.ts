import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replicationStateFromRows } from './replication-state.ts';

// As the connector returns them from MariaDB 10.11 (BIGINT as bigint, status values as text).
const variables = {
  serverId: 2n,
  readOnly: 1n,
  logBin: 1n,
  gtidStrictMode: 1n,
  gtidCurrentPos: '0-1-12',
  gtidBinlogPos: '0-1-12',
  gtidBinlogState: '0-1-12',
  gtidSlavePos: '0-1-12',
  masterEnabled: 0n,
  slaveEnabled: 1n,
  masterTimeoutMs: 10000n,
  masterWaitPoint: 'AFTER_SYNC',
  masterWaitNoSlave: 1n,
};

const status = [
  ['RPL_SEMI_SYNC_MASTER_STATUS', 'OFF'],
  ['RPL_SEMI_SYNC_SLAVE_STATUS', 'ON'],
  ['RPL_SEMI_SYNC_MASTER_CLIENTS', '0'],
  ['RPL_SEMI_SYNC_MASTER_WAIT_SESSIONS', '0'],
  ['RPL_SEMI_SYNC_MASTER_YES_TX', '7'],
  ['RPL_SEMI_SYNC_MASTER_NO_TX', '1'],
  ['RPL_SEMI_SYNC_MASTER_NO_TIMES', '2'],
].map(([name, value]) => ({ name, value }));

const replicaRow = {
  Connection_name: '',
  Slave_IO_Running: 'Yes',
  Slave_SQL_Running: 'No',
  Master_Host: '127.0.0.1',
  Master_Port: 46641,
  Master_User: 'repl',
  Master_Server_Id: 1,
  Using_Gtid: 'Slave_Pos',
  Seconds_Behind_Master: null,
  Last_IO_Errno: 0,
  Last_IO_Error: '',
  Last_SQL_Errno: 1950,
  Last_SQL_Error: 'An attempt was made to binlog GTID 0-1-1 which would create an out-of-order sequence number with existing GTID 0-2-10, and gtid strict mode is enabled',
  Gtid_IO_Pos: '0-1-12',
  Slave_SQL_Running_State: '',
};

describe('replicationStateFromRows', () => {
  it('reads a replica with a stopped SQL thread', () => {
    assert.deepEqual(replicationStateFromRows(variables, status, [replicaRow]), {
      serverId: 2,
      readOnly: true,
      logBin: true,
      gtidStrictMode: true,
      gtidCurrentPos: '0-1-12',
      gtidBinlogPos: '0-1-12',
      gtidBinlogState: '0-1-12',
      gtidSlavePos: '0-1-12',
      semiSync: {
        masterEnabled: false,
        slaveEnabled: true,
        masterActive: false,
        slaveActive: true,
        masterClients: 0,
        masterWaitSessions: 0,
        masterAcknowledgedCommits: 7,
        masterUnacknowledgedCommits: 1,
        masterFallbacks: 2,
        masterTimeoutMs: 10000,
        masterWaitPoint: 'AFTER_SYNC',
        masterWaitNoSlave: true,
      },
      replica: {
        sourceHost: '127.0.0.1',
        sourcePort: 46641,
        sourceUser: 'repl',
        sourceServerId: 1,
        usingGtid: 'Slave_Pos',
        ioThread: 'Yes',
        sqlRunning: false,
        secondsBehind: undefined,
        lastIoErrno: 0,
        lastIoError: '',
        lastSqlErrno: 1950,
        lastSqlError: replicaRow.Last_SQL_Error,
        gtidIoPos: '0-1-12',
        sqlState: '',
      },
    });
  });

  it('reports no replica side without a default connection, even with a named one', () => {
    assert.equal(replicationStateFromRows(variables, status, []).replica, undefined);
    assert.equal(replicationStateFromRows(variables, status, [{ ...replicaRow, Connection_name: 'by-hand' }]).replica, undefined);
  });

  it('reads lag, and the Connecting state with its error', () => {
    const replica = replicationStateFromRows(variables, status, [
      { ...replicaRow, Slave_IO_Running: 'Connecting', Slave_SQL_Running: 'Yes', Seconds_Behind_Master: 3n, Last_IO_Errno: 1045, Last_IO_Error: 'Access denied', Last_SQL_Errno: 0, Last_SQL_Error: '' },
    ]).replica;
    assert.equal(replica?.ioThread, 'Connecting');
    assert.equal(replica.sqlRunning, true);
    assert.equal(replica.secondsBehind, 3);
    assert.equal(replica.lastIoErrno, 1045);
  });

  it('refuses what it cannot read instead of guessing', () => {
    assert.throws(() => replicationStateFromRows(variables, status.slice(1), []), /no status variable RPL_SEMI_SYNC_MASTER_STATUS/);
    assert.throws(() => replicationStateFromRows(variables, status, [{ ...replicaRow, Slave_IO_Running: 'Maybe' }]), /unexpected Slave_IO_Running "Maybe"/);
    assert.throws(() => replicationStateFromRows({ ...variables, gtidCurrentPos: null }, status, []), /gtidCurrentPos/);
  });
});
