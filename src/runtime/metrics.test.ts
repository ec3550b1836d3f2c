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
