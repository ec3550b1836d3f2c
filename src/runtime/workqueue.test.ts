import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from './fakeclock.ts';
import { WorkQueue, type WorkQueueOptions } from './workqueue.ts';

/** Lets promise continuations (resolved get() calls) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function queue(options: WorkQueueOptions = {}): { q: WorkQueue; clock: FakeClock } {
  const clock = new FakeClock(1_000);
  return { q: new WorkQueue({ clock, ...options }), clock };
}

/** Takes every key that is ready now, marking each done; returns them in order. */
async function drainReady(q: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (q.length > 0) {
    const key = await q.get();
    assert.ok(key !== undefined);
    keys.push(key);
    q.done(key);
  }
  return keys;
}

describe('WorkQueue: dedup and ownership', () => {
  it('hands out keys in the order they were added, each once however often it was added', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('c');
    q.add('b');
    assert.equal(q.length, 3);
    assert.deepEqual(await drainReady(q), ['a', 'b', 'c']);
  });

  it('a key added while a worker holds it is not handed to another worker, and comes back once after done', async () => {
    const { q } = queue();
    q.add('a');
    const first = await q.get();
    assert.equal(first, 'a');

    q.add('a');
    q.add('a');
    assert.equal(q.length, 0, 'not ready while being processed');
    let second: string | undefined = 'not yet';
    void q.get().then((key) => {
      second = key;
    });
    await settle();
    assert.equal(second, 'not yet', 'a second worker must not get the key being processed');

    q.done('a');
    await settle();
    assert.equal(second, 'a');
    q.done('a');
    assert.equal(q.length, 0, 'two adds during processing give one more run, not two');
  });

  it('a waiting worker gets a key as soon as one is added', async () => {
    const { q } = queue();
    const got = q.get();
    q.add('x');
    assert.equal(await got, 'x');
  });

  it('reports adds, waits, depth and retries to the observer', async () => {
    const events: string[] = [];
    const { q, clock } = queue({
      observer: {
        onAdd: (key) => events.push(`add ${key}`),
        onGet: (key, waitedMs) => events.push(`get ${key} ${waitedMs}`),
        onDepth: (depth) => events.push(`depth ${depth}`),
        onRetry: (key) => events.push(`retry ${key}`),
      },
    });
    q.add('a');
    q.add('a');
    clock.advance(30);
    const key = await q.get();
    assert.equal(key, 'a');
    q.addRateLimited('a');
    assert.deepEqual(events, ['add a', 'depth 1', 'depth 0', 'get a 30', 'retry a']);
  });
});

describe('WorkQueue: delays', () => {
  it('addAfter adds the key once the delay has passed, not before', () => {
    const { q, clock } = queue();
    q.addAfter('a', 500);
    assert.equal(q.length, 0);
    clock.advance(499);
    assert.equal(q.length, 0);
    clock.advance(1);
    assert.equal(q.length, 1);
  });

  it('addAfter keeps the earliest of pending delays for a key', () => {
    const { q, clock } = queue();
    q.addAfter('a', 1_000);
    q.addAfter('a', 100);
    q.addAfter('a', 5_000);
    assert.equal(clock.pendingTimers, 1, 'one timer per key');
    clock.advance(100);
    assert.equal(q.length, 1);
    clock.advance(10_000);
    assert.equal(q.length, 1, 'the later delays were dropped');
  });

  it('addAfter without a positive delay adds at once', () => {
    const { q } = queue();
    q.addAfter('a', 0);
    q.addAfter('b', -5);
    assert.equal(q.length, 2);
  });

  it('addRateLimited backs off exponentially per key up to the cap', async () => {
    const { q, clock } = queue({ baseDelayMs: 100, maxDelayMs: 1_000 });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      q.addRateLimited('a');
      const start = clock.now();
      while (q.length === 0 && clock.now() - start < 100_000) clock.advance(1);
      delays.push(clock.now() - start);
      assert.deepEqual(await drainReady(q), ['a']);
    }
    assert.deepEqual(delays, [100, 200, 400, 800, 1_000, 1_000]);
    assert.equal(q.numRequeues('a'), 6);
  });

  it('backoff is per key: one failing key does not slow another', () => {
    const { q, clock } = queue({ baseDelayMs: 100 });
    for (let i = 0; i < 5; i++) q.addRateLimited('bad');
    q.addRateLimited('good');
    clock.advance(100);
    assert.equal(q.length, 2, 'bad waits the shortest of its pending delays (100 ms); good waits its first backoff');
    assert.equal(q.numRequeues('bad'), 5);
    assert.equal(q.numRequeues('good'), 1);
  });

  it('forget resets the failure count, so the next retry waits the base delay again', async () => {
    const { q, clock } = queue({ baseDelayMs: 100 });
    q.addRateLimited('a');
    q.addRateLimited('a');
    q.addRateLimited('a');
    assert.equal(q.numRequeues('a'), 3);
    clock.advance(100);
    q.forget('a');
    assert.equal(q.numRequeues('a'), 0);
    assert.deepEqual(await drainReady(q), ['a']);
    q.addRateLimited('a');
    clock.advance(99);
    assert.equal(q.length, 0);
    clock.advance(1);
    assert.equal(q.length, 1);
  });

  it('the global bucket spaces rate-limited re-adds once the burst is spent', () => {
    // Backoff 1 ms, so the bucket (10/s, burst 3) decides the delays.
    const { q, clock } = queue({ baseDelayMs: 1, qps: 10, burst: 3 });
    for (const key of ['k1', 'k2', 'k3', 'k4', 'k5']) q.addRateLimited(key);
    clock.advance(1);
    assert.equal(q.length, 3, 'the burst goes through at once');
    clock.advance(98);
    assert.equal(q.length, 3);
    clock.advance(1);
    assert.equal(q.length, 4, 'the fourth waits one token: 100 ms at 10/s');
    clock.advance(100);
    assert.equal(q.length, 5, 'the fifth waits for the next token');
  });

  it('the bucket refills with time up to the burst', () => {
    const { q, clock } = queue({ baseDelayMs: 1, qps: 10, burst: 2 });
    q.addRateLimited('k1');
    q.addRateLimited('k2');
    clock.advance(10_000);
    for (const key of ['k3', 'k4']) q.addRateLimited(key);
    q.addRateLimited('k5');
    clock.advance(1);
    assert.equal(q.length, 4, 'a refilled bucket holds only `burst` tokens');
    clock.advance(99);
    assert.equal(q.length, 5);
  });
});

describe('WorkQueue: shutdown', () => {
  it('shutDown releases waiting workers with undefined and drops queued and delayed keys', async () => {
    const { q } = queue();
    const waiting = q.get();
    q.shutDown();
    assert.equal(await waiting, undefined);

    const { q: q2, clock: clock2 } = queue();
    q2.add('a');
    q2.addAfter('b', 100);
    q2.shutDown();
    assert.equal(clock2.pendingTimers, 0, 'delayed adds are cancelled');
    assert.equal(await q2.get(), undefined);
    assert.equal(q2.length, 0);
    q2.add('c');
    clock2.advance(1_000);
    assert.equal(q2.length, 0, 'adds after shutdown are ignored');
  });

  it('a key being processed at shutDown is not handed out again', async () => {
    const { q } = queue();
    q.add('a');
    assert.equal(await q.get(), 'a');
    q.add('a');
    q.shutDown();
    q.done('a');
    assert.equal(await q.get(), undefined);
  });

  it('shutDownWithDrain hands out what is queued, then undefined, and resolves when processing ends', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    assert.equal(await q.get(), 'a');
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => {
      drained = true;
    });
    q.add('late');
    assert.equal(await q.get(), 'b');
    assert.equal(await q.get(), undefined);
    await settle();
    assert.equal(drained, false, 'a and b are still being processed');
    q.done('a');
    q.done('b');
    await drain;
    assert.equal(drained, true);
  });
});

describe('WorkQueue: options', () => {
  it('refuses options that are not positive numbers', () => {
    assert.throws(() => new WorkQueue({ qps: 0 }), /qps must be a positive number/);
    assert.throws(() => new WorkQueue({ baseDelayMs: Number.NaN }), /baseDelayMs/);
  });
});
