// Which instance becomes primary: for a switchover, a healthy replica on a node
// that stays; for a failover, the replica that received the most, because with
// semi-synchronous replication what a replica received is what it
// acknowledged, and an acknowledged write must survive. Pure; used by decide()
// and by the failover's chooseTarget step (with positions frozen by
// fenceReplicas).
import { formatGtidList, laterGtidPosition, mostAdvanced, type GtidPosition } from './gtid.ts';
import type { ClusterObservation, InstanceObservation, ServerObservation } from './observations.ts';
import { divergenceSqlErrnos, replicaHealth } from './replica-health.ts';

/** A replica whose lag is above this is not chosen for a switchover that can wait (spec.primary): fencing would stop writes while it catches up. */
export const switchoverLagLimitSeconds = 5;

type Reachable = InstanceObservation & { readonly server: ServerObservation };

function isReachable(instance: InstanceObservation): instance is Reachable {
  return instance.exists && instance.server !== undefined;
}

/** Orders instances the way a choice between equals should go: keepers first, then spec.primary, then the lowest ordinal. */
export function preferenceOrder(observation: ClusterObservation): (a: InstanceObservation, b: InstanceObservation) => number {
  const rank = (i: InstanceObservation): number[] => [
    i.podDeleting ? 1 : 0,
    i.nodeUnschedulable ? 1 : 0,
    i.index >= observation.instanceCount ? 1 : 0,
    i.index === observation.desiredPrimaryIndex ? 0 : 1,
    i.index,
  ];
  return (a, b) => {
    const left = rank(a);
    const right = rank(b);
    for (let k = 0; k < left.length; k++) {
      const difference = (left[k] ?? 0) - (right[k] ?? 0);
      if (difference !== 0) return difference;
    }
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  };
}

/**
 * Why `instance` cannot take over from `primary` in a switchover, or undefined
 * when it can: it must be a ready pod that stays (not terminating, node
 * schedulable, within the desired count) and a healthy replica of the primary
 * (both threads running, no errant transaction).
 */
export function whyNotPlannedTarget(observation: ClusterObservation, instance: InstanceObservation, primary: Reachable): string | undefined {
  if (instance.name === primary.name) return `${instance.name} is the primary`;
  if (!instance.exists) return `${instance.name} has no pod`;
  if (instance.podDeleting) return `${instance.name} is terminating`;
  if (instance.nodeUnschedulable) return `${instance.name}'s node ${instance.nodeName ?? ''} is cordoned or draining`;
  if (instance.index >= observation.instanceCount) return `${instance.name} is being removed by scaling down`;
  if (!instance.podReady) return `${instance.name} is not ready`;
  const health = replicaHealth(instance, primary);
  switch (health.kind) {
    case 'unavailable':
      return `${instance.name} does not answer`;
    case 'configure':
    case 'rebuild':
    case 'quarantine':
      return health.reason;
    case 'healthy':
      return instance.server?.replica?.ioThread === 'Yes' ? undefined : `${instance.name} is still connecting to ${primary.name}`;
  }
}

/** Whether whyNotPlannedTarget finds nothing against `instance`. */
export function canTakeOverPlanned(observation: ClusterObservation, instance: InstanceObservation, primary: Reachable): boolean {
  return whyNotPlannedTarget(observation, instance, primary) === undefined;
}

/**
 * The best switchover target, or undefined when no replica can take over: the
 * most caught-up (applied position) of those canTakeOverPlanned allows, ties
 * (and replicas progressing in different domains) going by preferenceOrder.
 */
export function chooseSwitchoverTarget(observation: ClusterObservation, primary: Reachable): InstanceObservation | undefined {
  const eligible = observation.instances.filter((i) => canTakeOverPlanned(observation, i, primary)).filter(isReachable);
  const order = preferenceOrder(observation);
  const result = mostAdvanced(eligible, (i) => i.server.gtidCurrentPos, order);
  if (result.kind === 'found') return result.best;
  return [...eligible].sort(order)[0];
}

/** What a replica has received: per domain, the later of its applied position and its IO thread's. */
export function receivedPosition(server: ServerObservation): GtidPosition {
  return server.replica === undefined ? server.gtidCurrentPos : laterGtidPosition(server.gtidCurrentPos, server.replica.gtidIoPos);
}

/** The outcome of choosing a failover target. */
export type FailoverChoice =
  | { readonly kind: 'chosen'; readonly target: InstanceObservation; readonly reason: string }
  /** No safe choice now; `reason` says why and what a person can do. */
  | { readonly kind: 'none'; readonly reason: string };

/**
 * The failover target after losing `from`: among reachable instances that
 * replicate from `from` (stopped IO threads included: fenceReplicas stops
 * them), the one whose received position contains all the others'.
 *
 * Refuses (kind 'none') when: no such replica; two of them diverged; the most
 * advanced has no data at all or cannot apply what it received (a divergence
 * error); or another instance of the cluster is unreachable, because it may
 * hold acknowledged writes that every reachable replica lacks. In that last
 * case setting spec.primary to a reachable replica that is among the most
 * advanced is the explicit override: that replica is chosen.
 */
export function chooseFailoverTarget(observation: ClusterObservation, from: string): FailoverChoice {
  const followers = observation.instances
    .filter(isReachable)
    .filter((i) => i.name !== from && i.server.replica?.sourceHost === from);
  const unreachable = observation.instances.filter(
    (i) => i.name !== from && i.index < observation.instanceCount && !isReachable(i),
  );
  if (followers.length === 0) {
    return { kind: 'none', reason: `no reachable replica of ${from} to fail over to` };
  }
  const result = mostAdvanced(followers, (i) => receivedPosition(i.server), preferenceOrder(observation));
  if (result.kind === 'none') return { kind: 'none', reason: `no reachable replica of ${from} to fail over to` };
  if (result.kind === 'diverged') {
    const [a, b] = [result.first, result.second];
    return {
      kind: 'none',
      reason:
        `replicas ${a.name} (${formatGtidList(receivedPosition(a.server))}) and ${b.name} (${formatGtidList(receivedPosition(b.server))}) ` +
        `have diverged; promoting either would drop the other's transactions`,
    };
  }
  const tied = result.tied;
  let target = result.best;
  let reason = `${target.name} received the most of ${from}'s transactions (${formatGtidList(receivedPosition(target.server))})`;
  if (unreachable.length > 0) {
    const names = unreachable.map((i) => i.name).join(', ');
    const chosen = tied.find((i) => i.index === observation.desiredPrimaryIndex);
    if (chosen === undefined) {
      return {
        kind: 'none',
        reason:
          `${names} cannot be reached and may hold acknowledged writes that the reachable replicas lack; ` +
          `bring ${unreachable.length === 1 ? 'it' : 'them'} back, or set spec.primary to ${tied.map((i) => i.index).join(' or ')} to fail over without ${unreachable.length === 1 ? 'it' : 'them'}`,
      };
    }
    target = chosen;
    reason = `${target.name} chosen by spec.primary while ${names} cannot be reached`;
  }
  if (receivedPosition(target.server).length === 0) {
    return { kind: 'none', reason: `no replica of ${from} has received any transaction; promoting one would start from nothing` };
  }
  const replica = target.server.replica;
  if (replica !== undefined && !replica.sqlRunning && divergenceSqlErrnos.has(replica.lastSqlErrno)) {
    return {
      kind: 'none',
      reason: `the most advanced replica ${target.name} cannot apply what it received (error ${replica.lastSqlErrno}: ${replica.lastSqlError})`,
    };
  }
  return { kind: 'chosen', target, reason };
}
