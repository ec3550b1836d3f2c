import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitUserSettings } from './my-cnf.ts';

describe('splitUserSettings', () => {
  it('applies dynamic options live, converting sizes and booleans as SET GLOBAL needs them', () => {
    const settings = splitUserSettings(
      ['max_connections = 500', 'max-allowed-packet=64M', 'innodb_buffer_pool_size = 2G', 'slow_query_log', 'long_query_time = 0.5', "sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'"].join('\n'),
    );
    assert.deepEqual(settings.live, [
      { name: 'max_connections', value: 500 },
      { name: 'max_allowed_packet', value: 64 * 1024 * 1024 },
      { name: 'innodb_buffer_pool_size', value: 2 * 1024 ** 3 },
      { name: 'slow_query_log', value: 'ON' },
      { name: 'long_query_time', value: 0.5 },
      { name: 'sql_mode', value: 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION' },
    ]);
    assert.deepEqual(settings.restart, []);
    assert.deepEqual(settings.refused, []);
  });

  it('leaves options that need a restart to a rolling restart, as written', () => {
    const settings = splitUserSettings('innodb_log_file_size = 512M\nperformance_schema = ON\n');
    assert.deepEqual(settings.restart, [
      { name: 'innodb_log_file_size', line: 'innodb_log_file_size = 512M' },
      { name: 'performance_schema', line: 'performance_schema = ON' },
    ]);
    assert.deepEqual(settings.live, []);
  });

  it('refuses the options replication and failover depend on, in any spelling', () => {
    const settings = splitUserSettings(['server-id = 7', 'loose-read_only=OFF', 'skip-log-bin', 'rpl_semi_sync_master_timeout=10', 'gtid_strict_mode=0', 'binlog_format = STATEMENT'].join('\n'));
    assert.deepEqual(
      settings.refused.map((r) => r.name),
      ['server_id', 'read_only', 'skip_log_bin', 'rpl_semi_sync_master_timeout', 'gtid_strict_mode', 'binlog_format'],
    );
    assert.deepEqual(settings.live, []);
    assert.deepEqual(settings.restart, []);
  });

  it('refuses a dynamic option whose value mariadbd might not start with', () => {
    const settings = splitUserSettings('max_connections = lots\nmax_allowed_packet = 64X\nslow_query_log = maybe\n');
    assert.deepEqual(
      settings.refused.map((r) => r.name),
      ['max_connections', 'max_allowed_packet', 'slow_query_log'],
    );
    assert.match(settings.refused[0]?.reason ?? '', /"lots" is not a valid value/);
  });

  it('reads skip- and enable- forms of dynamic booleans, comments, quotes and loose- prefixes', () => {
    const settings = splitUserSettings(
      ['# tuning', '; more', 'skip-slow-query-log', 'enable-general-log', 'loose-wait_timeout = 600 # ten minutes', ''].join('\n'),
    );
    assert.deepEqual(settings.live, [
      { name: 'slow_query_log', value: 'OFF' },
      { name: 'general_log', value: 'ON' },
      { name: 'wait_timeout', value: 600 },
    ]);
  });

  it('keeps other sections for the restart and never applies their options live', () => {
    const settings = splitUserSettings('max_connections = 200\n[client]\nmax_allowed_packet = 16M\n[mysqld]\nwait_timeout = 60\n!include /etc/other.cnf\n');
    assert.deepEqual(settings.live, [
      { name: 'max_connections', value: 200 },
      { name: 'wait_timeout', value: 60 },
    ]);
    assert.deepEqual(
      settings.restart.map((o) => o.line),
      ['[client]', 'max_allowed_packet = 16M', '[mysqld]', '!include /etc/other.cnf'],
    );
  });

  it('finds nothing in an empty configuration', () => {
    assert.deepEqual(splitUserSettings(''), { live: [], restart: [], refused: [] });
  });
});
