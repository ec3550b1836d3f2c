// Why a switchover or failover started, as one word from a small fixed set:
// the `reason` label of the operator's failover and switchover counters. The
// recorded reason is a sentence for people (status, Events); a metric label
// must not grow without bound, so the sentence is sorted into the cause it
// was written for. The patterns follow the sentences decide() writes
// (leavingReason, decideUnreachablePrimary, lostData and the spec.primary
// check); operation-cause.test.ts runs decide() itself so that a change of
// wording there shows up here as a failing test, not as a drift to `other`.
import type { Operation } from './operation.ts';

export type OperationCause =
  /** spec.primary was edited. */
  | 'specPrimary'
  /** The writer's pod is terminating (deleted, evicted). */
  | 'podDeleted'
  /** The writer's node is cordoned or draining. */
  | 'nodeDraining'
  /** readerCount went down and the writer was among the instances to go. */
  | 'scaleDown'
  /** A rolling restart moves the writer last. */
  | 'rollingRestart'
  /** Failover: the writer stopped answering for failoverAfterSeconds. */
  | 'writerUnreachable'
  /** Failover: the writer's pod is terminating and no longer answers. */
  | 'writerTerminating'
  /** Failover: the writer came back without its data and spec.primary chose the replica. */
  | 'writerLostData'
  | 'other';

const switchoverCauses: readonly (readonly [RegExp, OperationCause])[] = [
  [/^spec\.primary /, 'specPrimary'],
  [/^the primary's pod .* is terminating/, 'podDeleted'],
  [/^the primary's node .* is cordoned or draining/, 'nodeDraining'],
  [/^scaling down to /, 'scaleDown'],
  [/rolling|restart/i, 'rollingRestart'],
];

const failoverCauses: readonly (readonly [RegExp, OperationCause])[] = [
  [/^the primary .* has no data while /, 'writerLostData'],
  [/^the primary .* is terminating and has stopped answering/, 'writerTerminating'],
  [/^the primary .* has not answered for /, 'writerUnreachable'],
];

/** The cause of `operation`, for metric labels. */
export function operationCause(operation: Pick<Operation, 'type' | 'reason'>): OperationCause {
  const table = operation.type === 'Failover' ? failoverCauses : switchoverCauses;
  return table.find(([pattern]) => pattern.test(operation.reason))?.[1] ?? 'other';
}
