import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidIdentifierError, isValid, replicationSourceHost } from './identifiers.ts';
import {
  InvalidReplicationOptionError,
  changeMasterPrefix,
  checkGtidPosition,
  checkWaitSeconds,
  maxSemiSyncTimeoutMs,
  semiSyncStatement,
} from './replication-sql.ts';

const source = { host: 'db-0.db-instances.shop.svc.cluster.local', port: 3306, user: 'replication', password: 'never-in-text' };

describe('replication statements', () => {
  it('accepts DNS names and addresses as a source host, and nothing with wildcards, quotes or spaces', () => {
    for (const host of ['db-0.db-instances.shop.svc.cluster.local', '10.0.0.12', '127.0.0.1', '::1', 'fd00::12', 'localhost']) {
      assert.ok(isValid(replicationSourceHost, host), host);
    }
    for (const host of ['%', 'db_0', "db'", 'a b', 'a`b', '-db', '.db', '', 'x'.repeat(256), 'db\\0']) {
      assert.equal(isValid(replicationSourceHost, host), false, host);
    }
  });

  it('builds CHANGE MASTER up to the password with quoted host and user, GTID from slave_pos and short retries', () => {
    assert.equal(
      changeMasterPrefix(source),
      "CHANGE MASTER TO MASTER_HOST='db-0.db-instances.shop.svc.cluster.local', MASTER_PORT=3306, MASTER_USER='replication', " +
        'MASTER_CONNECT_RETRY=5, MASTER_HEARTBEAT_PERIOD=5, MASTER_USE_GTID=slave_pos, MASTER_PASSWORD=',
    );
    assert.match(changeMasterPrefix({ ...source, connectRetrySeconds: 1, heartbeatSeconds: 30 }), /MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=30,/);
    assert.equal(changeMasterPrefix(source).includes(source.password), false);
  });

  it('refuses a malformed host, user, port or interval before building anything', () => {
    assert.throws(() => changeMasterPrefix({ ...source, host: "x', MASTER_PASSWORD='y" }), InvalidIdentifierError);
    assert.throws(() => changeMasterPrefix({ ...source, user: "repl'" }), InvalidIdentifierError);
    for (const port of [0, 65536, 3306.5, Number.NaN]) assert.throws(() => changeMasterPrefix({ ...source, port }), InvalidReplicationOptionError, String(port));
    assert.throws(() => changeMasterPrefix({ ...source, connectRetrySeconds: 0 }), /connectRetrySeconds must be an integer from 1/);
    assert.throws(() => changeMasterPrefix({ ...source, heartbeatSeconds: -1 }), /heartbeatSeconds/);
  });

  it('accepts GTID positions as MariaDB writes them and refuses anything else', () => {
    for (const p of ['', '0-1-42', '0-1-42,1-3-7', '0-1-42, 1-3-7', '0-1-42,\n1-3-7', '4294967295-4294967295-18446744073709551615']) {
      assert.equal(checkGtidPosition(p), p);
    }
    for (const p of ['0-1', '0-1-', 'a-1-2', "0-1-2'", '0-1-2;', '0-1-2,,1-2-3', '-1-2-3']) {
      assert.throws(() => checkGtidPosition(p), InvalidReplicationOptionError, p);
    }
  });

  it('sets semi-sync with the AFTER_SYNC wait point and the timeout before enabling it', () => {
    const { sql, values } = semiSyncStatement({ master: true, slave: true, timeoutMs: 3_600_000, waitNoSlave: true });
    assert.equal(
      sql,
      "SET GLOBAL rpl_semi_sync_master_wait_point = 'AFTER_SYNC', GLOBAL rpl_semi_sync_master_timeout = ?, " +
        'GLOBAL rpl_semi_sync_master_wait_no_slave = ON, GLOBAL rpl_semi_sync_master_enabled = ON, GLOBAL rpl_semi_sync_slave_enabled = ON',
    );
    assert.deepEqual(values, [3_600_000]);
    assert.match(semiSyncStatement({ master: false, slave: true, timeoutMs: 0, waitNoSlave: false }).sql, /wait_no_slave = OFF, GLOBAL rpl_semi_sync_master_enabled = OFF, GLOBAL rpl_semi_sync_slave_enabled = ON$/);
    assert.throws(() => semiSyncStatement({ master: true, slave: true, timeoutMs: -1, waitNoSlave: true }), InvalidReplicationOptionError);
    assert.throws(() => semiSyncStatement({ master: true, slave: true, timeoutMs: maxSemiSyncTimeoutMs + 1, waitNoSlave: true }), InvalidReplicationOptionError);
  });

  it('takes a GTID wait timeout in positive seconds, never 0 (no wait) or negative (forever)', () => {
    assert.equal(checkWaitSeconds(0.5), 0.5);
    for (const s of [0, -1, Number.POSITIVE_INFINITY, Number.NaN]) assert.throws(() => checkWaitSeconds(s), InvalidReplicationOptionError, String(s));
  });
});
