// The time source of the work queue: a monotonic clock and its timers, passed
// in so that tests can drive time by hand (see fakeclock.ts) instead of
// sleeping.

/**
 * Monotonic time in milliseconds and one-shot timers. `now()` never goes
 * backwards; its origin is arbitrary, so values are only compared with each
 * other, never with wall-clock time.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` once, no earlier than `ms` milliseconds from now; returns a handle for clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer from setTimeout; a handle that already fired or was cleared is ignored. */
  clearTimeout(handle: unknown): void;
}

/** The process's monotonic clock (performance.now) and Node's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
