// Kubernetes MicroTime values (Lease renewTime/acquireTime, events.k8s.io
// eventTime). The API server accepts them only as RFC 3339 UTC with exactly six
// fractional digits, "2026-11-25T10:00:00.123456Z"; a JavaScript Date prints
// three, which the server rejects for these fields.

/**
 * Formats `epochMs` (milliseconds since the Unix epoch, fractions allowed) as a
 * MicroTime string, rounded to the nearest microsecond.
 */
export function formatMicroTime(epochMs: number): string {
  if (!Number.isFinite(epochMs)) throw new RangeError(`not a time: ${epochMs}`);
  const micros = Math.round(epochMs * 1000);
  const wholeMs = Math.floor(micros / 1000);
  const subMs = micros - wholeMs * 1000;
  // toISOString gives "YYYY-MM-DDTHH:MM:SS.mmmZ": keep the milliseconds, add the microseconds.
  return `${new Date(wholeMs).toISOString().slice(0, -1)}${String(subMs).padStart(3, '0')}Z`;
}
