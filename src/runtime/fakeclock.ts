// A Clock whose time moves only when a test says so, so that tests of delays
// and backoff are fast and give the same result on every run.
import type { Clock } from './clock.ts';

interface PendingTimer {
  readonly at: number;
  readonly order: number;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  #now: number;
  #nextHandle = 1;
  readonly #timers = new Map<number, PendingTimer>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const handle = this.#nextHandle++;
    this.#timers.set(handle, { at: this.#now + Math.max(0, ms), order: handle, fn });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }

  /** How many timers are set and have not fired. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way in
   * order of due time (ties in the order they were set), with `now()` equal to
   * the timer's due time while it runs. Timers set by a firing timer fire too
   * if they fall due within the step.
   */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: [number, PendingTimer] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at > target) continue;
        if (next === undefined || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].order < next[1].order)) {
          next = entry;
        }
      }
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
    }
    this.#now = target;
  }
}
