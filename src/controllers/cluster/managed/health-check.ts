// When to look at a managed cluster again after a reconcile. While the writer
// does not answer, the failover is due exactly failoverAfterMs after it was
// first seen unreachable; looking only once per health-check period would
// start the failover up to a whole period late (measured: 0.4–0.9 s of the
// kill → first write time went there, bench/failover.ts).
import type { ClusterObservation } from '../../../replication/observations.ts';

/** Never sooner than this: a reconcile costs SQL on every instance and API calls. */
const soonestMs = 50;

export function nextHealthCheckMs(
  observation: Pick<ClusterObservation, 'nowMs' | 'failoverAfterMs' | 'primaryUnreachableSinceMs'>,
  intervalMs: number,
): number {
  const since = observation.primaryUnreachableSinceMs;
  if (since === undefined) return intervalMs;
  const untilDue = since + observation.failoverAfterMs - observation.nowMs;
  // Past due: the decision has already acted or is blocked (autoFailover off, no candidate); the usual period then.
  if (untilDue <= 0) return intervalMs;
  return Math.max(soonestMs, Math.min(intervalMs, untilDue));
}
