import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { BackupMetrics } from './metrics.ts';

describe('BackupMetrics', () => {
  it('reads the queue and the running Jobs when scraped', async () => {
    let waiting = 3;
    const registry = new Registry();
    new BackupMetrics(registry, { waiting: () => waiting, running: () => 2 });
    assert.match(await registry.metrics(), /^flightdeck_backup_queue_length 3$/m);
    waiting = 0;
    const text = await registry.metrics();
    assert.match(text, /^flightdeck_backup_queue_length 0$/m);
    assert.match(text, /^flightdeck_backup_running 2$/m);
  });

  it('keeps each backup’s last success and size, and drops them when the backup is deleted', async () => {
    const registry = new Registry();
    const metrics = new BackupMetrics(registry, { waiting: () => 0, running: () => 0 });
    metrics.setLastSuccess('site-a', 'nightly', { completionTime: '2026-12-02T03:04:05Z', sizeBytes: 1234 });
    metrics.setLastSuccess('site-b', 'nightly', { completionTime: '2026-12-02T03:00:00.500Z', sizeBytes: 99 });
    metrics.setLastSuccess('site-c', 'new', {});
    let text = await registry.metrics();
    assert.match(text, new RegExp(`^flightdeck_backup_last_success_timestamp_seconds\\{namespace="site-a",name="nightly"\\} ${Date.parse('2026-12-02T03:04:05Z') / 1000}$`, 'm'));
    assert.match(text, new RegExp(`^flightdeck_backup_last_success_timestamp_seconds\\{namespace="site-b",name="nightly"\\} ${Date.parse('2026-12-02T03:00:00Z') / 1000}\\.5$`, 'm'));
    assert.match(text, /^flightdeck_backup_last_size_bytes\{namespace="site-a",name="nightly"\} 1234$/m);
    assert.doesNotMatch(text, /site-c/, 'no series before a first success');
    metrics.forget('site-a', 'nightly');
    text = await registry.metrics();
    assert.doesNotMatch(text, /site-a/);
    assert.match(text, /namespace="site-b"/);
  });

  it('counts ended runs by result and observes attempt durations', async () => {
    const registry = new Registry();
    const metrics = new BackupMetrics(registry, { waiting: () => 0, running: () => 0 });
    metrics.observeEnd('succeeded', 42);
    metrics.observeEnd('succeeded', 7);
    metrics.observeEnd('retried', 3);
    metrics.observeEnd('failed', 900);
    metrics.observeEnd('missed');
    const text = await registry.metrics();
    assert.match(text, /^flightdeck_backup_runs_total\{result="succeeded"\} 2$/m);
    assert.match(text, /^flightdeck_backup_runs_total\{result="missed"\} 1$/m);
    assert.match(text, /^flightdeck_backup_duration_seconds_sum\{result="succeeded"\} 49$/m);
    assert.match(text, /^flightdeck_backup_duration_seconds_bucket\{le="10",result="succeeded"\} 1$/m);
    assert.match(text, /^flightdeck_backup_duration_seconds_count\{result="failed"\} 1$/m);
    assert.doesNotMatch(text, /duration_seconds_count\{result="missed"\}/);
  });
});
