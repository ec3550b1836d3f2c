// The operation in progress as it comes back from status.operation. What a
// status holds was written by some operator version, or by hand with kubectl
// edit --subresource=status, and the API server prunes fields its schema does
// not list; so it is checked here, once, before anything resumes from it. A
// record that does not check out is refused with the reason rather than
// guessed at: resuming the wrong step is how a half-done failover loses data.
import { failoverSteps, switchoverSteps, type FailoverStep, type Operation, type SwitchoverStep } from './operation.ts';

/** Thrown for a status.operation that cannot be resumed; the message says which field is wrong and how. */
export class OperationRecordError extends Error {
  override readonly name = 'OperationRecordError';
}

const switchoverStepNames: readonly string[] = [...switchoverSteps, 'rollBack'];
const failoverStepNames: readonly string[] = failoverSteps;
// RFC 3339 as Kubernetes writes it, with an optional fraction and any offset.
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The operation recorded in status, or undefined when none is (the field is
 * absent or null). `attempt` and `message` default to 0 and undefined when
 * the status schema dropped them. Throws OperationRecordError when a field is
 * missing or malformed, or the step does not belong to the type.
 */
export function operationFromStatus(value: unknown): Operation | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new OperationRecordError(`status.operation must be an object, not ${JSON.stringify(value)}`);
  }
  const record = value as Record<string, unknown>;
  const text = (field: string): string => {
    const found = record[field];
    if (typeof found !== 'string' || found === '') {
      throw new OperationRecordError(`status.operation.${field} must be a non-empty string, not ${JSON.stringify(found)}`);
    }
    return found;
  };
  const type = text('type');
  const step = text('step');
  const startedAt = text('startedAt');
  if (!rfc3339.test(startedAt) || Number.isNaN(Date.parse(startedAt))) {
    throw new OperationRecordError(`status.operation.startedAt must be an RFC 3339 time, not ${JSON.stringify(startedAt)}`);
  }
  const attempt = record.attempt ?? 0;
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 0) {
    throw new OperationRecordError(`status.operation.attempt must be a whole number >= 0, not ${JSON.stringify(attempt)}`);
  }
  const message = record.message;
  if (message !== undefined && typeof message !== 'string') {
    throw new OperationRecordError(`status.operation.message must be a string, not ${JSON.stringify(message)}`);
  }
  const common = { from: text('from'), to: text('to'), reason: typeof record.reason === 'string' ? record.reason : '', startedAt, attempt, message };
  if (type === 'Switchover') {
    if (!isSwitchoverStep(step)) throw stepError(type, step, switchoverStepNames);
    return { type, step, ...common };
  }
  if (type === 'Failover') {
    if (!isFailoverStep(step)) throw stepError(type, step, failoverStepNames);
    return { type, step, ...common };
  }
  throw new OperationRecordError(`status.operation.type must be Switchover or Failover, not ${JSON.stringify(type)}`);
}

function isSwitchoverStep(step: string): step is SwitchoverStep {
  return switchoverStepNames.includes(step);
}

function isFailoverStep(step: string): step is FailoverStep {
  return failoverStepNames.includes(step);
}

function stepError(type: string, step: string, names: readonly string[]): OperationRecordError {
  return new OperationRecordError(`status.operation.step ${JSON.stringify(step)} is not a step of a ${type} (${names.join(', ')})`);
}
