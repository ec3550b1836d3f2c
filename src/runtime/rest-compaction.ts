// Gives memory back once a burst of work is over. A burst of reconciles grows
// V8's heap, and at rest nothing allocates, so nothing collects what the
// burst left: the operator would hold its peak for as long as it stays quiet
// (measured with 5 000 objects: 135–156 MiB resident, a third of it garbage).
// Once it has been at rest for a moment after real work, one full collection
// that also shrinks the heap (Node's gc() with flavor 'last-resort') returns
// it: ~109 MiB. gc() exists only with --expose-gc, which the image passes
// (test/env/build.ts operatorRuntime); without it this does nothing.
import type { Logger } from 'pino';

export interface RestCompactionOptions {
  /** True while nothing is queued, running or waiting to be written. */
  atRest: () => boolean;
  /** A count that grows with work done (reconciles finished). */
  workDone: () => number;
  logger: Logger;
  /** How often rest is checked; a collection needs two checks in a row at rest. Default 2 s. */
  intervalMs?: number;
  /** Work since the last collection below which a rest is not worth one. Default 100. */
  minWork?: number;
}

export class RestCompaction {
  readonly #options: RestCompactionOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** workDone() at the last collection. */
  #compactedAt = 0;
  /** workDone() at the previous check, if the operator was at rest then. */
  #restingSince: number | undefined;

  constructor(options: RestCompactionOptions) {
    this.#options = options;
  }

  start(): void {
    if (globalThis.gc === undefined || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.check();
    }, this.#options.intervalMs ?? 2000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One check (the timer's; exposed for tests). Returns whether it collected. */
  check(): boolean {
    const work = this.#options.workDone();
    if (!this.#options.atRest()) {
      this.#restingSince = undefined;
      return false;
    }
    const restedAWhile = this.#restingSince === work;
    this.#restingSince = work;
    if (!restedAWhile || work - this.#compactedAt < (this.#options.minWork ?? 100) || globalThis.gc === undefined) return false;
    const before = process.memoryUsage.rss();
    globalThis.gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    this.#compactedAt = work;
    this.#options.logger.debug({ rssBeforeMiB: Math.round(before / 1048576), rssAfterMiB: Math.round(process.memoryUsage.rss() / 1048576) }, 'heap compacted after a burst');
    return true;
  }
}
