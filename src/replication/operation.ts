// A switchover or a failover as a record and a list of named, idempotent
// steps. The record is written to the MySQLCluster's status before each step
// acts, so an operator that dies (or loses its lease) anywhere leaves a record a
// new leader resumes from: it runs the recorded step again, which is safe
// because every step is idempotent. Pure: the I/O is a StepExecutor the
// controller provides.
import type { FailoverDecision, SwitchoverDecision } from './decide.ts';

/**
 * Planned change of writer, in order:
 * - fenceOldPrimary: the old primary read-only (and semi-sync master wait kept
 *   on), its client connections killed, so no write lands after this point;
 * - waitForCatchUp: the target has applied the old primary's @@gtid_binlog_pos;
 * - promoteTarget: target stops replicating, becomes writable, semi-sync master on;
 * - moveWriter: the writer Service selects the target (the role label moves);
 * - repointReplicas: every other reachable replica replicates from the target;
 * - rejoinOldPrimary: the old primary replicates from the target (a pod being
 *   deleted is skipped: the decision configures it when it returns);
 * - done: nothing left; the record is cleared.
 * rollBack is entered only on abort before the point of no return (see
 * nextStep): target read-only and replicating from the old primary again, old
 * primary writable.
 */
export const switchoverSteps = [
  'fenceOldPrimary',
  'waitForCatchUp',
  'promoteTarget',
  'moveWriter',
  'repointReplicas',
  'rejoinOldPrimary',
  'done',
] as const;
export type SwitchoverStep = (typeof switchoverSteps)[number] | 'rollBack';

/**
 * Unplanned change of writer (the old primary is unreachable), in order:
 * - fenceReplicas: stop the IO thread of every reachable replica, so that a
 *   primary that is only cut off can no longer collect the acknowledgements
 *   it needs to commit (with semi-sync and no fallback its writes then hang);
 * - chooseTarget: with the received positions frozen, choose the most advanced
 *   replica by received GTID (chooseFailoverTarget); the result is recorded
 *   in `to` before anything else acts;
 * - waitForRelayApplied: the target's SQL thread applied all it received;
 * - promoteTarget, moveWriter, repointReplicas: as in a switchover;
 * - done.
 * The old primary rejoins later through the decision, which first checks it
 * for errant transactions.
 */
export const failoverSteps = [
  'fenceReplicas',
  'chooseTarget',
  'waitForRelayApplied',
  'promoteTarget',
  'moveWriter',
  'repointReplicas',
  'done',
] as const;
export type FailoverStep = (typeof failoverSteps)[number];

export type OperationStep = SwitchoverStep | FailoverStep;

interface OperationRecord {
  /** Pod name of the primary when the operation started. */
  readonly from: string;
  /** Pod name of the new primary. For a failover, the decision's pick until chooseTarget records its own choice. */
  readonly to: string;
  /** Why the operation started, for status, Events and logs. */
  readonly reason: string;
  /** When it started, RFC 3339 in whole seconds (as Kubernetes writes times). */
  readonly startedAt: string;
  /** How many times the current step answered 'retry' in a row; 0 on entering a step. */
  readonly attempt: number;
  /** The last retry or abort reason, for status; undefined when there was none in this step. */
  readonly message?: string | undefined;
}

/** A switchover as persisted in status. */
export interface SwitchoverOperation extends OperationRecord {
  readonly type: 'Switchover';
  /** The step about to run (or running). */
  readonly step: SwitchoverStep;
}

/** A failover as persisted in status. */
export interface FailoverOperation extends OperationRecord {
  readonly type: 'Failover';
  /** The step about to run (or running). */
  readonly step: FailoverStep;
}

/** The operation in progress, as persisted in status before each step. */
export type Operation = SwitchoverOperation | FailoverOperation;

/** What a step reports. */
export type StepResult =
  /** The step took effect (or had already). `target` is required from chooseTarget (pod name) and ignored elsewhere. */
  | { readonly outcome: 'done'; readonly target?: string }
  /** Not yet (a replica still catching up, a server not answering): run the same step again after a backoff. */
  | { readonly outcome: 'retry'; readonly reason: string }
  /** The step cannot succeed (its target died, no candidate left): nextStep says where to go instead. */
  | { readonly outcome: 'abort'; readonly reason: string };

/**
 * Runs one step against the servers and the cluster. Implemented by the
 * controller (and the real-process tests). Contract:
 * - `step` is always `operation.step`, already persisted in status;
 * - idempotent: running a step that already took effect (the operator died
 *   after acting but before recording the next step) answers 'done' again;
 * - returns 'retry' for conditions that time may fix; throws only for an
 *   unexpected failure (the caller logs it and retries the step like 'retry');
 * - stops promptly when `signal` aborts (the lease was lost) and then rejects
 *   with `signal.reason`; it must not start a new statement after the abort.
 */
export interface StepExecutor {
  execute(step: OperationStep, operation: Operation, signal: AbortSignal): Promise<StepResult>;
}

/** What to do after a step reported its result. */
export type Transition =
  /** Persist `operation` (now at its next step), then run that step. */
  | { readonly kind: 'advance'; readonly operation: Operation }
  /** Persist `operation` (same step, attempt + 1, message set) and run the step again after a backoff. */
  | { readonly kind: 'retry'; readonly operation: Operation; readonly reason: string }
  /**
   * The operation ended: record `primary` as status.currentPrimary, the
   * operation as the last switchover/failover (with `outcome`), and clear the
   * operation from status.
   */
  | { readonly kind: 'complete'; readonly operation: Operation; readonly primary: string; readonly outcome: 'succeeded' | 'rolledBack' }
  /**
   * The operation cannot go on and cannot be rolled back: record `primary` as
   * status.currentPrimary, clear the operation, report `reason` (Event and
   * condition). The next decision starts from there (for example a failover
   * away from a target that died after it was promoted).
   */
  | { readonly kind: 'abandon'; readonly operation: Operation; readonly primary: string; readonly reason: string };

/** Starts the record of a decided switchover or failover at its first step. */
export function startOperation(decision: SwitchoverDecision | FailoverDecision, now: Date): Operation {
  const record = {
    from: decision.from,
    to: decision.to,
    reason: decision.reason,
    startedAt: now.toISOString().replace(/\.\d+Z$/, 'Z'),
    attempt: 0,
  };
  return decision.kind === 'switchover'
    ? { type: 'Switchover', step: 'fenceOldPrimary', ...record }
    : { type: 'Failover', step: 'fenceReplicas', ...record };
}

/**
 * Whether an aborted switchover may go back to the old primary. True while
 * the recorded step is fenceOldPrimary, waitForCatchUp or promoteTarget: the
 * writer Service still selects the old primary (it moves in moveWriter), so
 * no client write can have reached the target, and reopening the old primary
 * loses nothing. From moveWriter on, clients may have written to the target;
 * going back would drop those writes, so the operation is abandoned with the
 * target as primary instead. The rollBack step itself must still check that
 * the old primary answers and holds everything the target has
 * (errantTransactions of the target against it is empty), and abort if not.
 */
export function rollBackIsSafe(operation: Operation): boolean {
  return operation.type === 'Switchover' && ['fenceOldPrimary', 'waitForCatchUp', 'promoteTarget'].includes(operation.step);
}

/**
 * The pure transition from a step's result to what the controller does next.
 * - done: the next step ('complete' after the last one; after chooseTarget,
 *   `to` becomes the reported target; after rollBack, 'complete' with the old
 *   primary and outcome 'rolledBack').
 * - retry: the same step, attempt + 1.
 * - abort, switchover: rollBack while rollBackIsSafe; an aborted rollBack is
 *   abandoned with the old primary; later steps are abandoned with the target.
 * - abort, failover: fenceReplicas and chooseTarget cancel (abandon with the
 *   old primary: nothing was promoted); waitForRelayApplied and promoteTarget
 *   go back to chooseTarget; moveWriter and repointReplicas are abandoned with
 *   the target (clients may write to it already).
 * - anything at 'done': 'complete'.
 * Throws only for a chooseTarget 'done' without a target (an executor bug).
 */
export function nextStep(operation: Operation, result: StepResult): Transition {
  switch (result.outcome) {
    case 'retry':
      return { kind: 'retry', operation: { ...operation, attempt: operation.attempt + 1, message: result.reason }, reason: result.reason };
    case 'done':
      return afterDone(operation, result.target);
    case 'abort':
      return afterAbort(operation, result.reason);
  }
}

function afterDone(operation: Operation, target: string | undefined): Transition {
  if (operation.step === 'done') return { kind: 'complete', operation, primary: operation.to, outcome: 'succeeded' };
  let next: Operation;
  if (operation.type === 'Switchover') {
    if (operation.step === 'rollBack') {
      return { kind: 'complete', operation: { ...operation, step: 'done' }, primary: operation.from, outcome: 'rolledBack' };
    }
    next = { ...operation, step: following(switchoverSteps, operation.step), attempt: 0, message: undefined };
  } else {
    let to = operation.to;
    if (operation.step === 'chooseTarget') {
      if (target === undefined || target === '') {
        throw new Error(`failover from ${operation.from}: step chooseTarget reported done without a target`);
      }
      to = target;
    }
    next = { ...operation, to, step: following(failoverSteps, operation.step), attempt: 0, message: undefined };
  }
  if (next.step === 'done') return { kind: 'complete', operation: next, primary: next.to, outcome: 'succeeded' };
  return { kind: 'advance', operation: next };
}

function afterAbort(operation: Operation, reason: string): Transition {
  if (operation.step === 'done') return afterDone(operation, undefined);
  const entering = { attempt: 0, message: reason };
  if (operation.type === 'Switchover') {
    if (rollBackIsSafe(operation)) return { kind: 'advance', operation: { ...operation, ...entering, step: 'rollBack' } };
    if (operation.step === 'rollBack') {
      return abandon(operation, operation.from, `switchover to ${operation.to} could not be rolled back: ${reason}`);
    }
    return abandon(operation, operation.to, `switchover to ${operation.to} stopped at ${operation.step}: ${reason}`);
  }
  switch (operation.step) {
    // Nothing promoted yet: cancelling leaves the old primary recorded, and the
    // decision either restarts the replicas' IO threads (it answers again) or
    // fails over anew (it does not).
    case 'fenceReplicas':
    case 'chooseTarget':
      return abandon(operation, operation.from, `failover from ${operation.from} cancelled at ${operation.step}: ${reason}`);
    // The chosen target cannot be used: choose again among the fenced replicas.
    case 'waitForRelayApplied':
    case 'promoteTarget':
      return { kind: 'advance', operation: { ...operation, ...entering, step: 'chooseTarget' } };
    case 'moveWriter':
    case 'repointReplicas':
      return abandon(operation, operation.to, `failover to ${operation.to} stopped at ${operation.step}: ${reason}`);
  }
}

function abandon(operation: Operation, primary: string, reason: string): Transition {
  return { kind: 'abandon', operation: { ...operation, message: reason }, primary, reason };
}

function following<S extends string>(steps: readonly S[], step: string): S {
  const at = steps.findIndex((s) => s === step);
  const next = at < 0 ? undefined : steps[at + 1];
  if (next === undefined) throw new Error(`no step follows ${JSON.stringify(step)} in ${steps.join(', ')}`);
  return next;
}
