// The one decision for a managed cluster, from one observation. Pure: the
// controller gathers the observation, calls decide(), acts on the result
// (through the steps of operation.ts for a switchover or failover), and asks
// again on the next reconcile. Each decision names one thing to do; what it
// leaves for later comes back on the next pass.
//
// The order of the checks is the policy:
// 1. an operation recorded in status is continued, never a second one started;
// 2. without a recorded primary: fence a split brain, then bootstrap;
// 3. any writable instance besides the recorded primary is fenced;
// 4. an unreachable primary: wait, then fail over (or say why not); a
//    reachable one with no data while others have some: blocked;
// 5. a primary that is leaving (pod terminating, node cordoned, scaled away)
//    is switched over at once; a changed spec.primary when its target is ready;
// 6. the primary is made writable if it is not;
// 7. replicas are configured, then rebuilt, then quarantined ones reported;
// 8. otherwise wait (for a switchover target) or steady.
import { formatGtidList, mostAdvanced, type Gtid } from './gtid.ts';
import type { ClusterObservation, InstanceObservation, ServerObservation } from './observations.ts';
import type { Operation } from './operation.ts';
import { historyOf, replicaHealth, type RebuildCause } from './replica-health.ts';
import { chooseFailoverTarget, chooseSwitchoverTarget, preferenceOrder, switchoverLagLimitSeconds, whyNotPlannedTarget } from './targets.ts';

/** Start a planned switchover from `from` to `to` (operation.ts: startOperation). */
export interface SwitchoverDecision {
  readonly kind: 'switchover';
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

/** Start a failover from the unreachable `from`; `to` is the pick now, which chooseTarget confirms once replicas are fenced. */
export interface FailoverDecision {
  readonly kind: 'failover';
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

/** A replica to point at the primary: read-only, CHANGE MASTER TO the primary with Using_Gtid=Slave_Pos, semi-sync replica on, START SLAVE. */
export interface ReplicaToConfigure {
  readonly instance: string;
  readonly reason: string;
}

/** The one thing to do now. Every `reason` is a sentence for status, Events and logs. */
export type Decision =
  /** No primary recorded: record `primary` in status.currentPrimary first, then make it writable (as configurePrimary). */
  | { readonly kind: 'bootstrap'; readonly primary: string; readonly reason: string }
  /** Nothing to do. */
  | { readonly kind: 'steady' }
  /** The recorded primary is read-only or still replicating: stop its replication, semi-sync master on, read_only off. */
  | { readonly kind: 'configurePrimary'; readonly primary: string; readonly reason: string }
  /** Set these instances read-only and kill their client connections now; they are writable but must not be. */
  | { readonly kind: 'fence'; readonly instances: readonly string[]; readonly reason: string }
  /** Make each listed instance a replica of `primary`. */
  | { readonly kind: 'configureReplicas'; readonly primary: string; readonly instances: readonly ReplicaToConfigure[] }
  | SwitchoverDecision
  | FailoverDecision
  /** An operation is recorded in status: resume it at its recorded step. */
  | { readonly kind: 'continue'; readonly operation: Operation }
  /** Nothing safe to do yet; time may fix it (ask again soon). */
  | { readonly kind: 'wait'; readonly reason: string }
  /** Nothing safe to do without a person (or a change of circumstances): report it as a condition. */
  | { readonly kind: 'blocked'; readonly reason: string }
  /**
   * Replace `instance`'s data with a consistent copy of `source` (a healthy
   * replica, else the primary), then configure it. `step`: 'seed' names
   * `source` to the instance's waiting seed init container; 'replay' makes a
   * reachable instance without any transaction replicate from the writer's
   * first one (complete while the writer keeps every binary log; when it no
   * longer does, MariaDB refuses with error 1236 and the next decision is
   * 'discard'); 'discard' marks
   * its data directory to be discarded and restarts its pod, whose seed init
   * container then waits for a donor; 'report' only reports it (the data may
   * matter: it is discarded only when a person asks, see rebuildRequested).
   */
  | { readonly kind: 'rebuild'; readonly instance: string; readonly source: string; readonly cause: RebuildCause; readonly step: RebuildStep; readonly reason: string }
  /** Keep `instance` read-only, replication stopped, out of the reader Service; report `errant` and `reason`. */
  | { readonly kind: 'quarantine'; readonly instance: string; readonly errant: readonly Gtid[]; readonly reason: string };

export type RebuildStep = 'seed' | 'replay' | 'discard' | 'report';

/**
 * Causes after which an instance's data is discarded without asking: it has
 * nothing the primary lacks (no data at all, or a subset the primary can no
 * longer complete from its binary logs). Diverged data and errant
 * transactions may be all that is left of something: a person decides.
 */
const discardedWithoutAsking: ReadonlySet<RebuildCause> = new Set<RebuildCause>(['binlogPurged']);

/** How a user asks for a rebuild; named in every report that needs one. */
function howToRebuild(instance: string): string {
  return `to discard its data and seed it from a copy of a healthy instance, annotate its pod: kubectl annotate pod ${instance} ${rebuildAnnotationKey}=now`;
}

/** The pod annotation of a rebuild request (managed/builders/seed.ts rebuildRequestAnnotation; repeated here to keep this module free of Kubernetes builders). */
export const rebuildAnnotationKey = 'flightdeck.t7.io/rebuild';

type Reachable = InstanceObservation & { readonly server: ServerObservation };

function isReachable(instance: InstanceObservation): instance is Reachable {
  return instance.exists && instance.server !== undefined;
}

/** Decides what to do with the cluster as observed. */
export function decide(observation: ClusterObservation): Decision {
  const operation = observation.status.operation;
  if (operation !== undefined) return { kind: 'continue', operation };

  const primaryName = observation.status.currentPrimary;
  if (primaryName === undefined) return decideWithoutPrimary(observation);

  const intruders = observation.instances.filter((i) => i.name !== primaryName && isReachable(i) && !i.server.readOnly);
  if (intruders.length > 0) {
    const names = intruders.map((i) => i.name).join(', ');
    const verb = intruders.length === 1 ? 'accepts' : 'accept';
    return { kind: 'fence', instances: intruders.map((i) => i.name), reason: `${names} ${verb} writes but ${primaryName} is the primary` };
  }

  const primary = observation.instances.find((i) => i.name === primaryName);
  if (primary === undefined || !isReachable(primary)) return decideUnreachablePrimary(observation, primaryName, primary?.podDeleting === true);

  const lost = lostData(observation, primary);
  if (lost !== undefined) return lost;

  let waitReason: string | undefined;
  const leaving = leavingReason(observation, primary);
  if (leaving !== undefined) {
    const target = chooseSwitchoverTarget(observation, primary);
    if (target !== undefined) return { kind: 'switchover', from: primary.name, to: target.name, reason: leaving };
    const obstacles = observation.instances
      .filter((i) => i.name !== primary.name)
      .map((i) => whyNotPlannedTarget(observation, i, primary))
      .filter((text) => text !== undefined);
    waitReason = `${leaving}, but no replica can take over yet: ${obstacles.length > 0 ? obstacles.join('; ') : 'there is none'}`;
  } else if (observation.desiredPrimaryIndex !== undefined && observation.desiredPrimaryIndex !== primary.index) {
    const desired = observation.instances.find((i) => i.index === observation.desiredPrimaryIndex);
    const lag = desired?.server?.replica?.secondsBehind;
    const whyNot =
      desired === undefined
        ? `instance ${observation.desiredPrimaryIndex} is not observed`
        : (whyNotPlannedTarget(observation, desired, primary) ??
          (lag === undefined || lag > switchoverLagLimitSeconds
            ? `${desired.name} is ${lag === undefined ? 'an unknown time' : `${lag}s`} behind ${primary.name} (at most ${switchoverLagLimitSeconds}s)`
            : undefined));
    if (desired !== undefined && whyNot === undefined) {
      return { kind: 'switchover', from: primary.name, to: desired.name, reason: `spec.primary is ${desired.index}` };
    }
    waitReason = `spec.primary asks for ${desired?.name ?? `instance ${observation.desiredPrimaryIndex}`}, which cannot take over yet: ${whyNot ?? ''}`;
  }

  if (primary.server.readOnly || (primary.server.replica !== undefined && primary.server.replica.ioThread !== 'No')) {
    const why = primary.server.readOnly ? 'is read-only' : 'still replicates';
    return { kind: 'configurePrimary', primary: primary.name, reason: `the primary ${primary.name} ${why}` };
  }
  if (primary.server.semiSyncSource.enabled !== observation.writerSemiSync) {
    const wanted = observation.writerSemiSync ? 'on' : 'off';
    const readers = observation.instanceCount - 1;
    return {
      kind: 'configurePrimary',
      primary: primary.name,
      reason: `semi-synchronous replication should be ${wanted} on the primary ${primary.name} (${readers} reader${readers === 1 ? '' : 's'} wanted)`,
    };
  }

  return maintainReplicas(observation, primary) ?? (waitReason === undefined ? { kind: 'steady' } : { kind: 'wait', reason: waitReason });
}

/** Why the primary must move now, or undefined when it may stay. */
function leavingReason(observation: ClusterObservation, primary: Reachable): string | undefined {
  if (primary.podDeleting) return `the primary's pod ${primary.name} is terminating`;
  if (primary.nodeUnschedulable) return `the primary's node ${primary.nodeName ?? ''} is cordoned or draining`;
  if (primary.index >= observation.instanceCount) return `scaling down to ${observation.instanceCount} instances removes ${primary.name}`;
  return undefined;
}

/**
 * The recorded primary has no transaction while another instance has some:
 * its volume was likely replaced, and making it writable or rebuilding the
 * replicas from it would throw the data away. Blocked, unless spec.primary
 * names the replica a failover would choose: then fail over to it (nothing on
 * the empty primary can be lost).
 */
function lostData(observation: ClusterObservation, primary: Reachable): Decision | undefined {
  if (historyOf(primary.server).length > 0) return undefined;
  const holder = observation.instances.find((i) => i.name !== primary.name && isReachable(i) && historyOf(i.server).length > 0);
  if (holder === undefined) return undefined;
  const why = `the primary ${primary.name} has no data while ${holder.name} has transactions; its volume may have been replaced`;
  const choice = chooseFailoverTarget(observation, primary.name);
  if (choice.kind === 'chosen' && choice.target.index === observation.desiredPrimaryIndex) {
    return { kind: 'failover', from: primary.name, to: choice.target.name, reason: `${why}; spec.primary chooses ${choice.target.name}` };
  }
  const remedy =
    choice.kind === 'chosen'
      ? `set spec.primary to ${choice.target.index} to fail over to ${choice.target.name}`
      : `fail over by hand (no automatic choice: ${choice.reason})`;
  return { kind: 'blocked', reason: `${why}. Nothing is changed: restore its volume, or ${remedy}` };
}

/**
 * The wait (failoverAfterMs) only keeps a blip from costing a failover; a
 * primary whose pod is terminating and no longer answers is not coming back,
 * so the failover starts at once (a switchover would have needed it to answer).
 */
function decideUnreachablePrimary(observation: ClusterObservation, primaryName: string, terminating: boolean): Decision {
  const since = observation.primaryUnreachableSinceMs ?? observation.nowMs;
  const elapsed = Math.max(0, observation.nowMs - since);
  const forHow = terminating
    ? `the primary ${primaryName} is terminating and has stopped answering`
    : `the primary ${primaryName} has not answered for ${(elapsed / 1000).toFixed(1)}s`;
  if (!terminating && elapsed < observation.failoverAfterMs) {
    return { kind: 'wait', reason: `${forHow}; failover after ${(observation.failoverAfterMs / 1000).toFixed(1)}s` };
  }
  if (!observation.autoFailover) {
    return { kind: 'blocked', reason: `${forHow} and spec.replication.autoFailover is false` };
  }
  const choice = chooseFailoverTarget(observation, primaryName);
  if (choice.kind === 'none') return { kind: 'blocked', reason: `${forHow}; cannot fail over: ${choice.reason}` };
  return { kind: 'failover', from: primaryName, to: choice.target.name, reason: `${forHow}; ${choice.reason}` };
}

function decideWithoutPrimary(observation: ClusterObservation): Decision {
  const writable = observation.instances.filter((i) => isReachable(i) && !i.server.readOnly);
  if (writable.length > 1) {
    const names = writable.map((i) => i.name).join(' and ');
    return {
      kind: 'fence',
      instances: writable.map((i) => i.name),
      reason: `${names} all accept writes and no primary is recorded: all are made read-only before one is chosen`,
    };
  }
  const reachable = observation.instances.filter(isReachable);
  const withData = reachable.filter((i) => historyOf(i.server).length > 0);
  const preferred = observation.desiredPrimaryIndex ?? 0;
  if (withData.length === 0) {
    const first = observation.instances.find((i) => i.index === preferred);
    if (first === undefined || !isReachable(first)) {
      return { kind: 'wait', reason: `new cluster: waiting for instance ${preferred} to accept connections` };
    }
    return { kind: 'bootstrap', primary: first.name, reason: `new cluster: ${first.name} is the first primary` };
  }
  // Data without a recorded primary: the status was lost (a restored object).
  // Only with every instance in view can the most advanced one be known.
  const missing = observation.instances.filter((i) => i.index < observation.instanceCount && !isReachable(i));
  if (missing.length > 0) {
    return {
      kind: 'wait',
      reason: `no primary is recorded and ${withData.map((i) => i.name).join(', ')} hold data; waiting for ${missing.map((i) => i.name).join(', ')} to answer before choosing the most advanced`,
    };
  }
  const result = mostAdvanced(reachable, (i) => i.server.gtidCurrentPos, preferenceOrder(observation));
  if (result.kind === 'diverged') {
    const [a, b] = [result.first, result.second];
    return {
      kind: 'blocked',
      reason:
        `no primary is recorded and ${a.name} (${formatGtidList(a.server.gtidCurrentPos)}) and ${b.name} (${formatGtidList(b.server.gtidCurrentPos)}) ` +
        `have diverged; choosing one would drop the other's transactions`,
    };
  }
  if (result.kind === 'none') return { kind: 'wait', reason: 'no instance answers' };
  return {
    kind: 'bootstrap',
    primary: result.best.name,
    reason: `no primary is recorded; ${result.best.name} holds the most advanced data (${formatGtidList(result.best.server.gtidCurrentPos)})`,
  };
}

/** The replica work to do, by priority (configure, seed, discard for a rebuild, report, quarantine), or undefined when there is none. */
function maintainReplicas(observation: ClusterObservation, primary: Reachable): Decision | undefined {
  const replicas = observation.instances.filter((i) => i.name !== primary.name && i.index < observation.instanceCount);
  const verdicts = replicas.map((instance) => ({ instance, health: replicaHealth(instance, primary) }));

  const toConfigure: ReplicaToConfigure[] = [];
  for (const { instance, health } of verdicts) {
    if (health.kind === 'configure') toConfigure.push({ instance: instance.name, reason: health.reason });
  }
  if (toConfigure.length > 0) return { kind: 'configureReplicas', primary: primary.name, instances: toConfigure };

  // The donor: the most advanced healthy replica, so the writer is spared the
  // copy's reads; the primary when there is none.
  const healthy = verdicts.filter((v) => v.health.kind === 'healthy').map((v) => v.instance);
  const best = mostAdvanced(healthy.filter(isReachable), (i) => i.server.gtidCurrentPos, preferenceOrder(observation));
  const donor = best.kind === 'found' ? best.best.name : primary.name;
  const fitDonors = new Set([primary.name, ...healthy.map((i) => i.name)]);

  for (const instance of replicas) {
    if (instance.seeding === undefined) continue;
    // A donor once named is kept while it is fit: a copy in progress must not be pointed elsewhere.
    const named = instance.seeding.donor;
    if (named !== undefined && fitDonors.has(named)) continue;
    const why = named === undefined ? `${instance.name} waits for a copy` : `${instance.name} waits for a copy and its donor ${named} is not fit to give one`;
    return { kind: 'rebuild', instance: instance.name, source: donor, cause: 'empty', step: 'seed', reason: `${why}: it is seeded from ${donor}` };
  }

  const rebuild = (instance: InstanceObservation, cause: RebuildCause, step: RebuildStep, reason: string): Decision => ({
    kind: 'rebuild',
    instance: instance.name,
    source: donor,
    cause,
    step,
    reason:
      step === 'report'
        ? `${reason}; ${howToRebuild(instance.name)}`
        : step === 'replay'
          ? `${reason}: it replicates from the writer's first transaction (a copy of ${donor} once the writer lacks some)`
          : `${reason}: rebuild it from a copy of ${donor}`,
  });
  for (const { instance, health } of verdicts) {
    if (health.kind === 'rebuild' && health.cause === 'empty' && instance.rebuildRequested !== true) {
      return rebuild(instance, health.cause, 'replay', health.reason);
    }
    if (health.kind === 'rebuild' && (discardedWithoutAsking.has(health.cause) || instance.rebuildRequested === true)) {
      return rebuild(instance, health.cause, 'discard', instance.rebuildRequested === true ? `${health.reason} and a rebuild was asked for` : health.reason);
    }
    if (health.kind === 'healthy' && instance.rebuildRequested === true) {
      return rebuild(instance, 'requested', 'discard', `${instance.name} was asked to be rebuilt`);
    }
    if (health.kind === 'quarantine' && instance.rebuildRequested === true) {
      return rebuild(instance, 'errantTransactions', 'discard', `${instance.name} was asked to be rebuilt, discarding its transactions ${formatGtidList(health.errant)}`);
    }
  }
  for (const { instance, health } of verdicts) {
    if (health.kind === 'rebuild') return rebuild(instance, health.cause, 'report', health.reason);
  }

  for (const { instance, health } of verdicts) {
    if (health.kind === 'quarantine') {
      return { kind: 'quarantine', instance: instance.name, errant: health.errant, reason: `${health.reason}; ${howToRebuild(instance.name)}` };
    }
  }
  return undefined;
}
