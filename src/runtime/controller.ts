// The controller loop: workers take keys from a rate-limited work queue and
// call reconcile(key), like controller-runtime's Controller. The reconcile
// function sees only a key and reads the current state itself
// (level-triggered), so the loop needs no knowledge of what changed; it only
// decides when a key runs again.
//
// Every reconcile is handed the controller's AbortSignal. abort() fires it —
// the leader lost its lease, and another operator may already act on the same
// objects — so running reconciles stop at their next await on it instead of
// finishing (controller-runtime cancels the reconcile context the same way).
// stop() is the graceful path: running reconciles finish.
import type { Logger } from 'pino';
import type { OperatorMetrics, ReconcileResult } from './metrics.ts';
import { WorkQueue, type WorkQueueOptions } from './workqueue.ts';

/** What a successful reconcile asks of the loop. */
export interface ReconcileOutcome {
  /**
   * Run the key again after this many milliseconds, even if nothing changes
   * (to poll state the API server does not watch, such as MariaDB's). An
   * earlier trigger still runs it sooner.
   */
  requeueAfterMs?: number;
}

export interface ControllerOptions {
  /** The controller's name, e.g. 'mysqluser': the `controller` label of its metrics and of its log lines. */
  name: string;
  /**
   * Makes the world match the object `key` names.
   *
   * - Resolving (with undefined or an outcome without requeueAfterMs) means the
   *   key is done: its failure count is reset and it runs again only when
   *   enqueued.
   * - Resolving with `requeueAfterMs` also resets the failure count, and the key
   *   runs again after that delay.
   * - Rejecting means "try again later": the error's message is logged at warn
   *   and the key is retried with per-key exponential backoff
   *   (WorkQueueOptions.baseDelayMs, doubling up to maxDelayMs).
   *
   * It is never called for one key in two workers at once.
   *
   * `signal` aborts when abort() is called: from then on the reconcile must
   * not change anything, and should reject (with signal.reason) as soon as it
   * can — pass the signal to every request it makes. Its rejection is then
   * counted as `aborted`, not retried.
   */
  reconcile: (key: string, signal: AbortSignal) => Promise<ReconcileOutcome | undefined>;
  /** How many keys are reconciled at once; default 4. */
  workers?: number;
  /** Backoff and rate limits of the controller's queue. An observer given here replaces the metrics one. */
  queue?: WorkQueueOptions;
  metrics: OperatorMetrics;
  logger: Logger;
}

export class Controller {
  readonly #name: string;
  readonly #reconcile: ControllerOptions['reconcile'];
  readonly #workerCount: number;
  readonly #queue: WorkQueue;
  readonly #metrics: OperatorMetrics;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #workers: Promise<void>[] | undefined;

  constructor(options: ControllerOptions) {
    const workers = options.workers ?? 4;
    if (!Number.isInteger(workers) || workers < 1) {
      throw new Error(`controller ${options.name}: workers must be a positive integer, got ${workers}`);
    }
    this.#name = options.name;
    this.#reconcile = options.reconcile;
    this.#workerCount = workers;
    this.#metrics = options.metrics;
    this.#log = options.logger.child({ controller: options.name });
    this.#queue = new WorkQueue({ ...options.queue, observer: options.queue?.observer ?? options.metrics.queueObserver(options.name) });
  }

  /** True when no key waits for a worker and none is being reconciled (keys waiting for a delay do not count). */
  get idle(): boolean {
    return this.#queue.length === 0 && this.#queue.processing === 0;
  }

  /** Asks for `key` to be reconciled. Deduplicated while the key waits; ignored once stop() was called. */
  enqueue(key: string): void {
    this.#queue.add(key);
  }

  /** Starts the workers. Keys enqueued before start() wait for it. Calling it twice is an error. */
  start(): void {
    if (this.#workers !== undefined) throw new Error(`controller ${this.#name} was already started`);
    this.#workers = Array.from({ length: this.#workerCount }, () => this.#work());
    this.#log.info({ workers: this.#workerCount }, 'controller started');
  }

  /**
   * Stops taking keys and resolves once every reconcile already running has
   * finished. Keys still queued or waiting for a retry are dropped: after a
   * restart (or on the next leader) the informers' initial list enqueues every
   * object again. Never rejects.
   */
  async stop(): Promise<void> {
    this.#queue.shutDown();
    await Promise.all(this.#workers ?? []);
    this.#log.info('controller stopped');
  }

  /**
   * Stops taking keys like stop(), and aborts the signal every running
   * reconcile was given, with `reason`. Resolves once the running reconciles
   * have returned — at once for those that honour the signal. Never rejects;
   * calling it again, or stop() after it, waits for the same workers.
   */
  async abort(reason: Error): Promise<void> {
    this.#queue.shutDown();
    if (!this.#abort.signal.aborted) {
      this.#log.warn({ reason: reason.message, running: this.#queue.processing }, 'aborting running reconciles');
      this.#abort.abort(reason);
    }
    await Promise.all(this.#workers ?? []);
    this.#log.info('controller stopped');
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      try {
        await this.#reconcileKey(key);
      } finally {
        this.#queue.done(key);
      }
    }
  }

  async #reconcileKey(key: string): Promise<void> {
    const started = performance.now();
    let result: ReconcileResult;
    try {
      const outcome = await this.#reconcile(key, this.#abort.signal);
      this.#queue.forget(key);
      if (outcome?.requeueAfterMs !== undefined) {
        this.#queue.addAfter(key, outcome.requeueAfterMs);
        result = 'requeue';
      } else {
        result = 'success';
      }
    } catch (error) {
      if (this.#abort.signal.aborted) {
        // Not a failure of the object: the queue is shut down, and the next leader reconciles it afresh.
        this.#log.info({ key, error: error instanceof Error ? error.message : String(error) }, 'reconcile aborted');
        this.#metrics.observeReconcile(this.#name, 'aborted', (performance.now() - started) / 1000);
        return;
      }
      result = 'error';
      // The message only: error objects from API and SQL clients can carry
      // request bodies, headers or connection options holding passwords.
      const message = error instanceof Error ? error.message : String(error);
      this.#queue.addRateLimited(key);
      this.#log.warn({ key, error: message, retries: this.#queue.numRequeues(key) }, 'reconcile failed; will retry with backoff');
    }
    this.#metrics.observeReconcile(this.#name, result, (performance.now() - started) / 1000);
  }
}
