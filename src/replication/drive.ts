// Runs a recorded operation step by step with the one rule that matters for
// resuming: the record of a step is persisted before the step acts. The I/O is
// injected (persist writes status, the executor talks to servers), so this
// holds no connection and reads no clock.
import { nextStep, type Operation, type StepExecutor, type StepResult, type Transition } from './operation.ts';

/** How driveOperation reaches the world. */
export interface OperationIo {
  readonly executor: StepExecutor;
  /**
   * Writes `operation` into the MySQLCluster's status and resolves once the API
   * server accepted it; rejects when it did not (the step then does not run).
   * Writing an unchanged record again must be harmless.
   */
  readonly persist: (operation: Operation, signal: AbortSignal) => Promise<void>;
  /** Aborted when this operator loses its lease: nothing further is persisted or executed. */
  readonly signal: AbortSignal;
}

/** What a drive ends with: everything but 'advance', which it follows itself. */
export type DriveOutcome = Exclude<Transition, { kind: 'advance' }>;

/** More step changes than this in one call means steps keep bouncing (abort, choose again, abort): hand back a retry. */
export const maxStepsPerDrive = 32;

/**
 * Runs `operation` from its recorded step: persist the record, execute the
 * step, apply nextStep, and go on while steps advance. Returns when the
 * operation completes or is abandoned (the caller writes the final status) or
 * a step asks to retry (the caller requeues with a backoff, and may persist the
 * retry record for status). An executor that throws counts as a retry with the
 * error's message, unless the signal aborted: then the rejection propagates.
 * Persist failures propagate (the step did not run).
 */
export async function driveOperation(operation: Operation, io: OperationIo): Promise<DriveOutcome> {
  let current = operation;
  for (let count = 0; count < maxStepsPerDrive; count++) {
    io.signal.throwIfAborted();
    if (current.step === 'done') return settle(nextStep(current, { outcome: 'done' }));
    await io.persist(current, io.signal);
    io.signal.throwIfAborted();
    const result = await runStep(current, io);
    const transition = nextStep(current, result);
    if (transition.kind !== 'advance') return transition;
    current = transition.operation;
  }
  const reason = `${current.type.toLowerCase()} from ${current.from} changed step ${maxStepsPerDrive} times without settling; trying again later`;
  return { kind: 'retry', operation: { ...current, message: reason }, reason };
}

async function runStep(operation: Operation, io: OperationIo): Promise<StepResult> {
  try {
    return await io.executor.execute(operation.step, operation, io.signal);
  } catch (error) {
    if (io.signal.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    return { outcome: 'retry', reason: `step ${operation.step} failed: ${message}` };
  }
}

function settle(transition: Transition): DriveOutcome {
  if (transition.kind === 'advance') throw new Error(`a finished operation advanced to ${transition.operation.step}`);
  return transition;
}
