// How many pods the StatefulSet keeps while readerCount goes down. A
// StatefulSet removes its highest ordinals first and knows nothing of roles,
// so shrinking it at once could take the writer away: the writer's pod would
// be deleted under it, and the preStop hook and the pod-deleted switchover
// would have to save the day within the termination grace period. Instead the
// StatefulSet keeps every ordinal up to the writer (and up to both ends of a
// switchover or failover under way) until decide() has moved the writer to a
// remaining instance — it sees the writer's ordinal at or above the desired
// count and switches over at once (src/replication/decide.ts, leavingReason)
// — and only then shrinks. Pure.
import { podIndex } from './builders/names.ts';

export interface ScaleInput {
  readonly cluster: string;
  /** readerCount + 1. */
  readonly desiredInstances: number;
  /** status.currentPrimary. */
  readonly currentPrimary: string | undefined;
  /** Both ends of the switchover or failover recorded in status, if one is under way. */
  readonly operation: { readonly from?: string | undefined; readonly to?: string | undefined } | undefined;
}

export interface ScaleDecision {
  /** spec.replicas of the StatefulSet. */
  readonly replicas: number;
  /** Why more than the desired count are kept, for logs and status; undefined when none are. */
  readonly heldBy?: string;
}

/** The StatefulSet's replicas: the desired count, or more while the writer (or an operation) needs an ordinal beyond it. */
export function statefulSetReplicas(input: ScaleInput): ScaleDecision {
  const needed = (pod: string | undefined, what: string): { count: number; what: string } | undefined => {
    const index = pod === undefined ? undefined : podIndex(input.cluster, pod);
    return index === undefined || index < input.desiredInstances ? undefined : { count: index + 1, what: `${what} ${pod ?? ''}` };
  };
  const holders = [
    needed(input.currentPrimary, 'the writer'),
    needed(input.operation?.from, 'the operation from'),
    needed(input.operation?.to, 'the operation to'),
  ].filter((h) => h !== undefined);
  if (holders.length === 0) return { replicas: input.desiredInstances };
  const replicas = Math.max(...holders.map((h) => h.count));
  return {
    replicas,
    heldBy: `scaling down to ${input.desiredInstances} instances waits until the writer has moved off ${holders.map((h) => h.what).join(', ')}; ${replicas} kept meanwhile`,
  };
}
