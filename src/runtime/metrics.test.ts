import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { OperatorMetrics } from './metrics.ts';

const names = [
  'flightdeck_reconcile_total',
  'flightdeck_reconcile_duration_seconds',
  'flightdeck_reconcile_errors_total',
  'flightdeck_workqueue_depth',
  'flightdeck_workqueue_adds_total',
  'flightdeck_workqueue_queue_duration_seconds',
  'flightdeck_workqueue_retries_total',
  'flightdeck_sql_statements_total',
  'flightdeck_sql_statement_duration_seconds',
  'flightdeck_leader',
];

describe('OperatorMetrics', () => {
  it('exposes every operator metric, with process metrics in its own registry', async () => {
    const text = await new OperatorMetrics().registry.metrics();
    for (const name of names) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    assert.match(text, /^process_cpu_seconds_total /m);
    assert.match(text, /^flightdeck_leader 0$/m);
  });

  it('adds no process metrics to a registry passed in', async () => {
    const registry = new Registry();
    const metrics = new OperatorMetrics(registry);
    assert.equal(metrics.registry, registry);
    assert.doesNotMatch(await registry.metrics(), /process_cpu_seconds_total/);
  });

  it('records reconciles, counting errors separately', async () => {
    const metrics = new OperatorMetrics(new Registry());
    metrics.observeReconcile('mysqluser', 'success', 0.02);
    metrics.observeReconcile('mysqluser', 'error', 0.5);
    metrics.observeReconcile('mysqluser', 'requeue', 0.01);
    const text = await metrics.registry.metrics();
    assert.match(text, /^flightdeck_reconcile_total\{controller="mysqluser",result="error"\} 1$/m);
    assert.match(text, /^flightdeck_reconcile_total\{controller="mysqluser",result="success"\} 1$/m);
    assert.match(text, /^flightdeck_reconcile_errors_total\{controller="mysqluser"\} 1$/m);
    assert.match(text, /^flightdeck_reconcile_duration_seconds_count\{controller="mysqluser"\} 3$/m);
    assert.match(text, /^flightdeck_reconcile_duration_seconds_sum\{controller="mysqluser"\} 0\.53$/m);
  });

  it('records SQL statements by kind and verb, and the leader flag', async () => {
    const metrics = new OperatorMetrics(new Registry());
    metrics.observeSqlStatement('write', 'GRANT', 0.003);
    metrics.observeSqlStatement('read', 'SELECT', 0.001);
    metrics.observeSqlStatement('read', 'SELECT', 0.001);
    metrics.setLeader(true);
    const text = await metrics.registry.metrics();
    assert.match(text, /^flightdeck_sql_statements_total\{kind="read",verb="SELECT"\} 2$/m);
    assert.match(text, /^flightdeck_sql_statements_total\{kind="write",verb="GRANT"\} 1$/m);
    assert.match(text, /^flightdeck_sql_statement_duration_seconds_count\{kind="read"\} 2$/m);
    assert.match(text, /^flightdeck_leader 1$/m);
  });

  it('queueObserver records depth, adds, wait time and retries under the queue name', async () => {
    const metrics = new OperatorMetrics(new Registry());
    const observer = metrics.queueObserver('mysqldatabase');
    observer.onAdd?.('ns/a');
    observer.onAdd?.('ns/b');
    observer.onDepth?.(2);
    observer.onGet?.('ns/a', 1500);
    observer.onDepth?.(1);
    observer.onRetry?.('ns/a');
    const text = await metrics.registry.metrics();
    assert.match(text, /^flightdeck_workqueue_depth\{name="mysqldatabase"\} 1$/m);
    assert.match(text, /^flightdeck_workqueue_adds_total\{name="mysqldatabase"\} 2$/m);
    assert.match(text, /^flightdeck_workqueue_queue_duration_seconds_sum\{name="mysqldatabase"\} 1\.5$/m);
    assert.match(text, /^flightdeck_workqueue_retries_total\{name="mysqldatabase"\} 1$/m);
  });
});

describe('OperatorMetrics of managed clusters', () => {
  it('sets lag per reader and drops the series of a reader that no longer replicates', async () => {
    const metrics = new OperatorMetrics(new Registry());
    metrics.setReplicationLag('ns', 'db', new Map([['db-1', 0], ['db-2', 3]]));
    let text = await metrics.registry.metrics();
    assert.match(text, /^flightdeck_mysqlcluster_replication_lag_seconds\{namespace="ns",cluster="db",instance="db-1"\} 0$/m);
    assert.match(text, /^flightdeck_mysqlcluster_replication_lag_seconds\{namespace="ns",cluster="db",instance="db-2"\} 3$/m);
    metrics.setReplicationLag('ns', 'db', new Map([['db-1', 1]]));
    text = await metrics.registry.metrics();
    assert.match(text, /^flightdeck_mysqlcluster_replication_lag_seconds\{namespace="ns",cluster="db",instance="db-1"\} 1$/m);
    assert.doesNotMatch(text, /instance="db-2"/);
  });

  it('has one writer series per cluster, moving with the writer', async () => {
    const metrics = new OperatorMetrics(new Registry());
    metrics.setWriter('ns', 'db', 'db-0');
    metrics.setWriter('ns', 'other', 'other-1');
    metrics.setWriter('ns', 'db', 'db-2');
    const text = await metrics.registry.metrics();
    assert.match(text, /^flightdeck_mysqlcluster_writer\{namespace="ns",cluster="db",instance="db-2"\} 1$/m);
    assert.match(text, /^flightdeck_mysqlcluster_writer\{namespace="ns",cluster="other",instance="other-1"\} 1$/m);
    assert.doesNotMatch(text, /instance="db-0"/);
  });

  it('counts failovers and switchovers by reason and result, with their durations', async () => {
    const metrics = new OperatorMetrics(new Registry());
    metrics.observeWriterChange('ns', 'db', { type: 'Failover', reason: 'writerUnreachable', result: 'succeeded', seconds: 4.5 });
    metrics.observeWriterChange('ns', 'db', { type: 'Switchover', reason: 'nodeDraining', result: 'succeeded', seconds: 0.75 });
    metrics.observeWriterChange('ns', 'db', { type: 'Switchover', reason: 'nodeDraining', result: 'succeeded', seconds: 1.25 });
    metrics.observeWriterChange('ns', 'db', { type: 'Switchover', reason: 'specPrimary', result: 'rolledBack', seconds: 3 });
    const text = await metrics.registry.metrics();
    assert.match(text, /^flightdeck_mysqlcluster_failovers_total\{namespace="ns",cluster="db",reason="writerUnreachable",result="succeeded"\} 1$/m);
    assert.match(text, /^flightdeck_mysqlcluster_switchovers_total\{namespace="ns",cluster="db",reason="nodeDraining",result="succeeded"\} 2$/m);
    assert.match(text, /^flightdeck_mysqlcluster_switchovers_total\{namespace="ns",cluster="db",reason="specPrimary",result="rolledBack"\} 1$/m);
    assert.match(text, /^flightdeck_mysqlcluster_failover_duration_seconds_sum\{namespace="ns",cluster="db"\} 4\.5$/m);
    assert.match(text, /^flightdeck_mysqlcluster_switchover_duration_seconds_count\{namespace="ns",cluster="db"\} 3$/m);
    assert.match(text, /^flightdeck_mysqlcluster_switchover_duration_seconds_bucket\{le="1",namespace="ns",cluster="db"\} 1$/m);
  });

  it('leaves no series of a deleted cluster, and keeps the others', async () => {
    const metrics = new OperatorMetrics(new Registry());
    for (const cluster of ['db', 'keep']) {
      metrics.setReplicationLag('ns', cluster, new Map([[`${cluster}-1`, 2]]));
      metrics.setWriter('ns', cluster, `${cluster}-0`);
      metrics.observeWriterChange('ns', cluster, { type: 'Failover', reason: 'writerTerminating', result: 'succeeded', seconds: 2 });
      metrics.observeWriterChange('ns', cluster, { type: 'Switchover', reason: 'podDeleted', result: 'abandoned', seconds: 9 });
    }
    metrics.forgetCluster('ns', 'db');
    const text = await metrics.registry.metrics();
    assert.doesNotMatch(text, /cluster="db"/);
    for (const name of ['replication_lag_seconds', 'writer', 'failovers_total', 'switchovers_total', 'failover_duration_seconds_count', 'switchover_duration_seconds_count']) {
      assert.match(text, new RegExp(`^flightdeck_mysqlcluster_${name}\\{[^}]*cluster="keep"`, 'm'), name);
    }
  });
});
