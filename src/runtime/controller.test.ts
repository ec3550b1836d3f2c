import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Controller, type ControllerOptions, type ReconcileOutcome } from './controller.ts';
import { FakeClock } from './fakeclock.ts';
import { OperatorMetrics } from './metrics.ts';
import { Registry } from 'prom-client';

/** Lets pending promise continuations run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Harness {
  controller: Controller;
  clock: FakeClock;
  metrics: OperatorMetrics;
  logLines: () => Record<string, unknown>[];
  /** Moves fake time forward one millisecond at a time, letting workers run in between. */
  advance: (ms: number) => Promise<void>;
}

function harness(reconcile: ControllerOptions['reconcile'], options: Partial<ControllerOptions> = {}): Harness {
  const clock = new FakeClock();
  const metrics = new OperatorMetrics(new Registry());
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  const controller = new Controller({
    name: 'test',
    reconcile,
    metrics,
    logger: pino({ level: 'info' }, sink),
    queue: { clock, baseDelayMs: 100, maxDelayMs: 10_000 },
    ...options,
  });
  return {
    controller,
    clock,
    metrics,
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    advance: async (ms) => {
      for (let i = 0; i < ms; i++) {
        await settle();
        clock.advance(1);
      }
      await settle();
    },
  };
}

async function metricValue(metrics: OperatorMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric !== undefined, `metric ${name} exists`);
  const { values } = await metric.get();
  const found = values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want));
  return found?.value;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('Controller', () => {
  it('retries a failing key with exponential backoff, logging only the message, and forgets the failures after a success', async () => {
    const calls: number[] = [];
    let failuresLeft = 3;
    const h = harness(() => {
      calls.push(h.clock.now());
      if (failuresLeft > 0) {
        failuresLeft--;
        const error = Object.assign(new Error('database is locked'), { config: { password: 's3cret' } });
        return Promise.reject(error);
      }
      return Promise.resolve(undefined);
    });
    h.controller.start();
    h.controller.enqueue('ns/a');
    await h.advance(1_000);
    assert.deepEqual(calls, [0, 100, 300, 700], 'retries after 100, 200 and 400 ms');

    // After the success the failure count is reset: the next failure waits the base delay.
    failuresLeft = 1;
    calls.length = 0;
    h.controller.enqueue('ns/a');
    await h.advance(150);
    assert.deepEqual(calls, [1_000, 1_100]);

    await h.controller.stop();
    const warnings = h.logLines().filter((l) => l.level === 40);
    assert.equal(warnings.length, 4);
    const [first] = warnings;
    assert.ok(first !== undefined);
    assert.equal(first.error, 'database is locked');
    assert.equal(first.key, 'ns/a');
    assert.equal(first.controller, 'test');
    assert.ok(!JSON.stringify(h.logLines()).includes('s3cret'), 'error objects are not dumped into the log');

    assert.equal(await metricValue(h.metrics, 'flightdeck_reconcile_total', { controller: 'test', result: 'error' }), 4);
    assert.equal(await metricValue(h.metrics, 'flightdeck_reconcile_total', { controller: 'test', result: 'success' }), 2);
    assert.equal(await metricValue(h.metrics, 'flightdeck_reconcile_errors_total', { controller: 'test' }), 4);
    assert.equal(await metricValue(h.metrics, 'flightdeck_workqueue_retries_total', { name: 'test' }), 4);
    assert.equal(
      await metricValue(h.metrics, 'flightdeck_reconcile_duration_seconds', { controller: 'test', le: '+Inf' }),
      6,
      'every reconcile is timed',
    );
  });

  it('runs a key again after requeueAfterMs', async () => {
    const calls: number[] = [];
    const h = harness(() => {
      calls.push(h.clock.now());
      return Promise.resolve<ReconcileOutcome>({ requeueAfterMs: 500 });
    });
    h.controller.start();
    h.controller.enqueue('ns/a');
    await h.advance(1_200);
    await h.controller.stop();
    assert.deepEqual(calls, [0, 500, 1_000]);
    assert.equal(await metricValue(h.metrics, 'flightdeck_reconcile_total', { controller: 'test', result: 'requeue' }), 3);
  });

  it('never reconciles one key in two workers at once; an enqueue during a run gives exactly one more run', async () => {
    const gates = new Map<string, { promise: Promise<void>; resolve: () => void }>();
    const running = new Set<string>();
    const runs: string[] = [];
    let overlap = false;
    let maxParallel = 0;
    const h = harness(
      async (key) => {
        if (running.has(key)) overlap = true;
        running.add(key);
        maxParallel = Math.max(maxParallel, running.size);
        runs.push(key);
        const gate = deferred();
        gates.set(key, gate);
        await gate.promise;
        running.delete(key);
        return undefined;
      },
      { workers: 4 },
    );
    h.controller.start();
    h.controller.enqueue('ns/a');
    h.controller.enqueue('ns/b');
    await settle();
    for (let i = 0; i < 5; i++) h.controller.enqueue('ns/a');
    await settle();
    assert.deepEqual(runs, ['ns/a', 'ns/b'], 'a is not started again while it runs, though workers are free');
    assert.equal(maxParallel, 2, 'different keys run in parallel');

    gates.get('ns/a')?.resolve();
    await settle();
    await settle();
    assert.deepEqual(runs, ['ns/a', 'ns/b', 'ns/a'], 'the adds during the run become one more run');
    gates.get('ns/a')?.resolve();
    gates.get('ns/b')?.resolve();
    await settle();
    await settle();
    assert.deepEqual(runs, ['ns/a', 'ns/b', 'ns/a']);
    assert.equal(overlap, false);
    await h.controller.stop();
  });

  it('stop waits for running reconciles to finish and takes no more work', async () => {
    const gate = deferred();
    const runs: string[] = [];
    let finished = false;
    const h = harness(
      async (key) => {
        runs.push(key);
        await gate.promise;
        finished = true;
        return undefined;
      },
      { workers: 1 },
    );
    h.controller.start();
    h.controller.enqueue('ns/a');
    h.controller.enqueue('ns/b');
    await settle();
    let stopped = false;
    const stopping = h.controller.stop().then(() => {
      stopped = true;
    });
    await settle();
    assert.equal(stopped, false, 'stop waits for the running reconcile');
    gate.resolve();
    await stopping;
    assert.equal(finished, true);
    h.controller.enqueue('ns/c');
    await settle();
    assert.deepEqual(runs, ['ns/a'], 'queued and later keys are not started after stop');
  });

  it('abort cuts off every running reconcile at once through its signal, counts them as aborted, and retries none', async () => {
    const started: string[] = [];
    const h = harness(
      (key, signal) => {
        started.push(key);
        // Blocks until aborted, as a reconcile waiting on a request or a replica would.
        return new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            reject(signal.reason as Error);
          });
        });
      },
      { workers: 2 },
    );
    h.controller.start();
    h.controller.enqueue('ns/a');
    h.controller.enqueue('ns/b');
    h.controller.enqueue('ns/c');
    await settle();
    assert.deepEqual(started, ['ns/a', 'ns/b'], 'two workers, two blocked reconciles');

    const reason = new Error('lost the lease');
    let aborted = false;
    const aborting = h.controller.abort(reason).then(() => {
      aborted = true;
    });
    await settle();
    await settle();
    assert.equal(aborted, true, 'abort resolves as soon as the reconciles honour the signal, no clock time passed');
    await aborting;
    await h.advance(1_000);
    assert.deepEqual(started, ['ns/a', 'ns/b'], 'the queued key and the aborted ones never run again');
    assert.equal(await metricValue(h.metrics, 'flightdeck_reconcile_total', { controller: 'test', result: 'aborted' }), 2);
    assert.equal(await metricValue(h.metrics, 'flightdeck_reconcile_total', { controller: 'test', result: 'error' }), undefined);
    assert.equal(h.logLines().filter((l) => l.msg === 'reconcile failed; will retry with backoff').length, 0, 'an abort is not reported as a failure');
    await h.controller.stop();
  });

  it('stop does not abort: a running reconcile sees its signal unaborted and finishes', async () => {
    const gate = deferred();
    let sawAborted: boolean | undefined;
    const h = harness(
      async (_key, signal) => {
        await gate.promise;
        sawAborted = signal.aborted;
        return undefined;
      },
      { workers: 1 },
    );
    h.controller.start();
    h.controller.enqueue('ns/a');
    await settle();
    const stopping = h.controller.stop();
    gate.resolve();
    await stopping;
    assert.equal(sawAborted, false);
    assert.equal(await metricValue(h.metrics, 'flightdeck_reconcile_total', { controller: 'test', result: 'success' }), 1);
  });

  it('refuses a worker count that is not a positive integer', () => {
    assert.throws(() => harness(() => Promise.resolve(undefined), { workers: 0 }), /workers must be a positive integer/);
  });
});
