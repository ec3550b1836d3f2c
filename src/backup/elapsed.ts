// The durationSeconds of a run in status: seconds from its start to its end,
// as the CRD's pattern wants them. Pure.

/**
 * Seconds from `start` to `end` (ISO times) with three decimals, never
 * negative: the operator records a start to the millisecond, but a Job's
 * conditions carry whole seconds, so a run that fails within its first
 * second ends "before" it started — and a negative value would make the
 * API server refuse the whole status write.
 */
export function elapsedSeconds(start: string, end: string): string {
  const ms = new Date(end).getTime() - new Date(start).getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${Number.isFinite(new Date(start).getTime()) ? end : start}`);
  return (Math.max(0, ms) / 1000).toFixed(3);
}
