import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicationSettings } from '../../../../api/normalize.ts';
import { bufferPoolBytes, configMap, memoryBytes, semiSyncNoFallbackTimeoutMs, semiSyncSettings, serverConfig } from './config.ts';

const replication: ReplicationSettings = {
  mode: 'SemiSync',
  allowAsyncFallback: false,
  semiSyncTimeoutSeconds: 10,
  autoFailover: true,
  failoverAfterSeconds: 3,
  maxReaderLagSeconds: 10,
};

/** The value of `name` mariadbd ends up with: the last line that sets it wins. */
function lastValue(myCnf: string, name: string): string | undefined {
  let value: string | undefined;
  for (const line of myCnf.split('\n')) {
    const match = /^([a-z_]+)\s*=\s*(.*)$/.exec(line);
    if (match?.[1] === name) value = match[2];
  }
  return value;
}

describe('serverConfig', () => {
  it('sets up GTID replication with binary logs and their retention, read-only at start', () => {
    const { myCnf } = serverConfig({ myCnf: '', replication });
    assert.equal(lastValue(myCnf, 'log_bin'), 'mariadb-bin');
    assert.equal(lastValue(myCnf, 'binlog_format'), 'ROW');
    assert.equal(lastValue(myCnf, 'log_slave_updates'), 'ON');
    assert.equal(lastValue(myCnf, 'gtid_strict_mode'), 'ON');
    assert.equal(lastValue(myCnf, 'read_only'), 'ON');
    assert.equal(lastValue(myCnf, 'skip_name_resolve'), 'ON');
    assert.equal(lastValue(myCnf, 'skip_slave_start'), 'ON');
    assert.equal(lastValue(myCnf, 'binlog_expire_logs_seconds'), String(7 * 24 * 3600));
    assert.equal(lastValue(myCnf, 'server_id'), undefined, 'server_id comes from the pod ordinal, not the shared file');
    assert.match(myCnf, /^\[mariadbd\]$/m);
  });

  it('semi-sync: AFTER_SYNC, waiting with no reader, no fallback to asynchronous by default', () => {
    const { myCnf } = serverConfig({ myCnf: '', replication });
    assert.equal(lastValue(myCnf, 'rpl_semi_sync_master_wait_point'), 'AFTER_SYNC');
    assert.equal(lastValue(myCnf, 'rpl_semi_sync_master_wait_no_slave'), 'ON');
    assert.equal(lastValue(myCnf, 'rpl_semi_sync_master_timeout'), String(semiSyncNoFallbackTimeoutMs));
    assert.equal(lastValue(myCnf, 'rpl_semi_sync_slave_enabled'), 'ON');
    assert.equal(lastValue(myCnf, 'rpl_semi_sync_master_enabled'), 'OFF', 'only the operator turns the writer side on');
    assert.ok(semiSyncNoFallbackTimeoutMs >= 365 * 24 * 3600 * 1000);
  });

  it('falls back after the timeout only when allowed, and not at all in Async mode', () => {
    assert.equal(semiSyncSettings({ ...replication, allowAsyncFallback: true }).timeoutMs, 10_000);
    assert.equal(semiSyncSettings(replication).timeoutMs, semiSyncNoFallbackTimeoutMs);
    assert.equal(semiSyncSettings({ ...replication, mode: 'Async' }).enabled, false);
    assert.equal(lastValue(serverConfig({ myCnf: '', replication: { ...replication, mode: 'Async' } }).myCnf, 'rpl_semi_sync_slave_enabled'), 'OFF');
  });

  it("appends the user's options, which override defaults but never the operator's", () => {
    const config = serverConfig({ myCnf: 'binlog_expire_logs_seconds = 86400\nread_only = OFF\ninnodb_log_file_size = 1G\n', replication });
    assert.equal(lastValue(config.myCnf, 'binlog_expire_logs_seconds'), '86400');
    assert.equal(lastValue(config.myCnf, 'read_only'), 'ON');
    assert.equal(lastValue(config.myCnf, 'innodb_log_file_size'), '1G');
    assert.deepEqual(config.refused.map((r) => r.name), ['read_only']);
    assert.deepEqual(config.live, [{ name: 'binlog_expire_logs_seconds', value: 86400 }]);
  });

  it('changes its restart checksum for options that need a restart, not for live ones or semi-sync settings', () => {
    const base = serverConfig({ myCnf: 'max_connections = 100', replication }).restartChecksum;
    assert.match(base, /^[0-9a-f]{64}$/);
    assert.equal(serverConfig({ myCnf: 'max_connections = 900', replication }).restartChecksum, base);
    assert.equal(serverConfig({ myCnf: 'max_connections = 100', replication: { ...replication, allowAsyncFallback: true } }).restartChecksum, base);
    assert.notEqual(serverConfig({ myCnf: 'max_connections = 100\nperformance_schema = ON', replication }).restartChecksum, base);
  });

  it('sizes the InnoDB buffer pool to half the memory limit, unless spec.myCnf says otherwise', () => {
    const withLimit = serverConfig({ myCnf: '', replication, resources: { limits: { memory: '4Gi' }, requests: { memory: '1Gi' } } });
    assert.equal(lastValue(withLimit.myCnf, 'innodb_buffer_pool_size'), String(2 * 1024 ** 3));
    const own = serverConfig({ myCnf: 'innodb_buffer_pool_size = 1G', replication, resources: { limits: { memory: '4Gi' } } });
    assert.equal(lastValue(own.myCnf, 'innodb_buffer_pool_size'), String(1024 ** 3));
    assert.equal(lastValue(serverConfig({ myCnf: '', replication }).myCnf, 'innodb_buffer_pool_size'), undefined, "no memory figure: MariaDB's default");
  });

  it('reads memory quantities as Kubernetes writes them', () => {
    assert.equal(memoryBytes('2Gi'), 2 * 1024 ** 3);
    assert.equal(memoryBytes('1500M'), 1.5e9);
    assert.equal(memoryBytes('1.5Gi'), 1.5 * 1024 ** 3);
    assert.equal(memoryBytes('1073741824'), 1024 ** 3);
    assert.equal(memoryBytes(1024), 1024);
    assert.equal(memoryBytes('lots'), undefined);
    assert.equal(bufferPoolBytes({ requests: { memory: '1Gi' } }), 512 * 1024 * 1024, 'the request when there is no limit');
    assert.equal(bufferPoolBytes({ limits: { memory: '200Mi' } }), undefined, 'too small to beat the default');
    assert.equal(bufferPoolBytes({ limits: { cpu: '1' } }), undefined);
  });

  it('goes into a ConfigMap owned by the cluster', () => {
    const config = serverConfig({ myCnf: '', replication });
    const manifest = configMap({ name: 'db', namespace: 'shop', uid: 'u' }, 'db-config', config);
    assert.equal(manifest.metadata.name, 'db-config');
    assert.equal(manifest.data['my.cnf'], config.myCnf);
    assert.equal(manifest.metadata.ownerReferences[0]?.kind, 'MySQLCluster');
  });
});
