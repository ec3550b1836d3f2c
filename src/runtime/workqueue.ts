// A rate-limited work queue of object keys, after client-go's
// workqueue.TypedRateLimitingInterface. Reconcilers are level-triggered, so
// the queue carries only keys ("namespace/name"), never events: ten changes to
// one object while it waits are one reconcile, and the queue's guarantees are
// what make that safe:
//
//   - a key waiting in the queue is not queued twice;
//   - a key is handed to at most one worker at a time; if it is added while a
//     worker holds it, it comes back exactly once, after done();
//   - failures back off per key (exponential) and across all keys (a token
//     bucket), so one broken object cannot starve the rest or hammer the
//     API server or MariaDB.
import { systemClock, type Clock } from './clock.ts';

/** Called as the queue changes; the operator's metrics hang off these (OperatorMetrics.queueObserver). */
export interface WorkQueueObserver {
  /** A key entered the queue (not called when the add was deduplicated). */
  onAdd?(key: string): void;
  /** A worker took `key`, `waitedMs` after it was added. */
  onGet?(key: string, waitedMs: number): void;
  /** The number of keys ready for a worker changed to `depth`. */
  onDepth?(depth: number): void;
  /** addRateLimited was called for `key`. */
  onRetry?(key: string): void;
}

export interface WorkQueueOptions {
  /** First retry delay after a failure; default 200 ms. */
  baseDelayMs?: number;
  /** Cap of the per-key backoff `baseDelayMs * 2^failures`; default 60 000 ms. */
  maxDelayMs?: number;
  /** Refill rate of the token bucket shared by all rate-limited re-adds, per second; default 20. */
  qps?: number;
  /** Size of that bucket; default 200. */
  burst?: number;
  /** Time source; tests pass a FakeClock. Default: performance.now and Node's timers. */
  clock?: Clock;
  observer?: WorkQueueObserver;
}

/** First-in first-out list with O(1) push and shift. */
class Fifo {
  #items: string[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: string): void {
    this.#items.push(item);
  }

  shift(): string | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    // Drop the consumed prefix once it is most of the array, so memory stays
    // proportional to what is queued.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

interface DelayedAdd {
  readonly readyAt: number;
  readonly handle: unknown;
}

export class WorkQueue {
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  readonly #observer: WorkQueueObserver;

  /** Keys ready for a worker, in order. */
  readonly #queue = new Fifo();
  /** Keys that need processing: those in #queue plus those added while a worker held them. */
  readonly #dirty = new Set<string>();
  /** Keys a worker holds (between get and done). */
  readonly #processing = new Set<string>();
  /** When each dirty key was added, for onGet's waitedMs. */
  readonly #addedAt = new Map<string, number>();
  /** Keys to add later, with the timer that will add them. */
  readonly #delayed = new Map<string, DelayedAdd>();
  /** Failures since the last forget(), per key. */
  readonly #failures = new Map<string, number>();
  /** Workers blocked in get(). */
  readonly #waiters: ((key: string | undefined) => void)[] = [];

  #tokens: number;
  #tokensAt: number;
  #shuttingDown = false;
  #draining = false;
  #drained: (() => void) | undefined;

  constructor(options: WorkQueueOptions = {}) {
    this.#baseDelayMs = positive('baseDelayMs', options.baseDelayMs ?? 200);
    this.#maxDelayMs = positive('maxDelayMs', options.maxDelayMs ?? 60_000);
    this.#qps = positive('qps', options.qps ?? 20);
    this.#burst = positive('burst', options.burst ?? 200);
    this.#clock = options.clock ?? systemClock;
    this.#observer = options.observer ?? {};
    this.#tokens = this.#burst;
    this.#tokensAt = this.#clock.now();
  }

  /** Keys ready for a worker (not counting keys being processed or waiting for a delay). */
  get length(): number {
    return this.#queue.length;
  }

  /** Keys a worker holds now (between get() and done()). */
  get processing(): number {
    return this.#processing.size;
  }

  /** True once shutDown or shutDownWithDrain was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Marks `key` as needing processing. A key already waiting is not queued
   * again; a key a worker holds is queued once more when the worker calls
   * done(). Ignored after shutdown.
   */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#addedAt.set(key, this.#clock.now());
    this.#observer.onAdd?.(key);
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#observer.onDepth?.(this.#queue.length);
    this.#handOut();
  }

  /**
   * Adds `key` once `delayMs` has passed; a delay that is not positive (or
   * not a number) adds it now. When the key already has a pending delayed add,
   * the earlier of the two wins. A delayed add does not stop an immediate add()
   * meanwhile; the delayed one still happens later. Ignored after shutdown.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const readyAt = this.#clock.now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending !== undefined) {
      if (pending.readyAt <= readyAt) return;
      this.#clock.clearTimeout(pending.handle);
    }
    const handle = this.#clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.#delayed.set(key, { readyAt, handle });
  }

  /**
   * Adds `key` after a delay that grows with its failures: the larger of
   * `baseDelayMs * 2^numRequeues(key)` (capped at maxDelayMs) and the wait for
   * a token from the bucket shared by all keys. Counts one more failure.
   */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    this.#observer.onRetry?.(key);
    const backoff = Math.min(this.#baseDelayMs * 2 ** failures, this.#maxDelayMs);
    this.addAfter(key, Math.max(backoff, this.#takeToken()));
  }

  /** Resets the failures of `key`: its next addRateLimited waits baseDelayMs again. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Failures of `key` since the last forget() (how many times it went through addRateLimited). */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /**
   * Waits for a key and hands it to the caller, who owns it until done(key).
   * Resolves undefined once the queue shuts down: at once after shutDown(), and
   * after the queued keys have been handed out after shutDownWithDrain().
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown && (!this.#draining || this.#queue.length === 0)) {
      this.#checkDrained();
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#handOut();
    });
  }

  /**
   * Ends the processing of `key` that get() started. If the key was added
   * meanwhile, it goes back in the queue now. Must be called once for every key
   * get() returned, whether processing succeeded or not.
   */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    if (this.#dirty.has(key) && (!this.#shuttingDown || this.#draining)) {
      this.#queue.push(key);
      this.#observer.onDepth?.(this.#queue.length);
      this.#handOut();
    }
    this.#checkDrained();
  }

  /**
   * Stops the queue: get() resolves undefined from now on (including for
   * workers waiting in it), keys waiting or delayed are dropped, and adds are
   * ignored. Keys being processed stay owned by their workers until done().
   */
  shutDown(): void {
    this.#stop();
    this.#queue.clear();
    this.#dirty.clear();
    this.#addedAt.clear();
    this.#observer.onDepth?.(0);
    this.#releaseWaiters();
  }

  /**
   * Stops the queue like shutDown(), but get() still hands out the keys that
   * are queued (and keys that were added while being processed) until none are
   * left. Delayed adds are dropped. Resolves when no key is queued or being
   * processed.
   */
  shutDownWithDrain(): Promise<void> {
    this.#stop();
    this.#draining = true;
    const drained = new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    if (this.#queue.length === 0) this.#releaseWaiters();
    this.#checkDrained();
    return drained;
  }

  #stop(): void {
    this.#shuttingDown = true;
    for (const pending of this.#delayed.values()) this.#clock.clearTimeout(pending.handle);
    this.#delayed.clear();
  }

  /** Gives queued keys to waiting workers, oldest first on both sides. */
  #handOut(): void {
    while (this.#waiters.length > 0 && this.#queue.length > 0) {
      const key = this.#queue.shift();
      const waiter = this.#waiters.shift();
      if (key === undefined || waiter === undefined) break;
      this.#dirty.delete(key);
      this.#processing.add(key);
      const addedAt = this.#addedAt.get(key) ?? this.#clock.now();
      this.#addedAt.delete(key);
      this.#observer.onDepth?.(this.#queue.length);
      this.#observer.onGet?.(key, this.#clock.now() - addedAt);
      waiter(key);
    }
    if (this.#draining && this.#queue.length === 0) this.#releaseWaiters();
  }

  #releaseWaiters(): void {
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  #checkDrained(): void {
    if (this.#drained !== undefined && this.#queue.length === 0 && this.#processing.size === 0) {
      this.#drained();
      this.#drained = undefined;
    }
  }

  /**
   * Takes one token from the shared bucket and returns how long to wait for
   * it: 0 while tokens are left, else the time the bucket needs to refill up
   * to this request. Tokens may go negative, which reserves future tokens —
   * the same reservation semantics as golang.org/x/time/rate.
   */
  #takeToken(): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#tokensAt) * this.#qps) / 1000);
    this.#tokensAt = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.#qps;
  }
}

function positive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`work queue option ${name} must be a positive number, got ${value}`);
  return value;
}
