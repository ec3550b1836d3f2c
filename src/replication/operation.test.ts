import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  failoverSteps,
  nextStep,
  rollBackIsSafe,
  startOperation,
  switchoverSteps,
  type FailoverStep,
  type Operation,
  type SwitchoverStep,
  type Transition,
} from './operation.ts';

const startedAt = new Date('2026-12-02T01:02:03.456Z');
const switchover = startOperation({ kind: 'switchover', from: 'db-0', to: 'db-1', reason: 'spec.primary is 1' }, startedAt);
const failover = startOperation({ kind: 'failover', from: 'db-0', to: 'db-1', reason: 'db-0 silent' }, startedAt);
const at = (operation: Operation, step: SwitchoverStep | FailoverStep): Operation => ({ ...operation, step }) as Operation;

describe('startOperation', () => {
  it('records a switchover at its first step, with the start in whole seconds', () => {
    assert.deepEqual(switchover, {
      type: 'Switchover',
      step: 'fenceOldPrimary',
      from: 'db-0',
      to: 'db-1',
      reason: 'spec.primary is 1',
      startedAt: '2026-12-02T01:02:03Z',
      attempt: 0,
    });
  });

  it('records a failover at fenceReplicas', () => {
    assert.equal(failover.type, 'Failover');
    assert.equal(failover.step, 'fenceReplicas');
    assert.equal(failover.to, 'db-1');
  });
});

/** Feeds 'done' until the operation leaves 'advance', returning the steps it ran and how it ended. */
function runToEnd(operation: Operation, target?: string): { steps: string[]; end: Transition } {
  const steps: string[] = [];
  let current = operation;
  for (;;) {
    steps.push(current.step);
    const transition = nextStep(current, current.step === 'chooseTarget' ? { outcome: 'done', target } : { outcome: 'done' });
    if (transition.kind !== 'advance') return { steps, end: transition };
    current = transition.operation;
  }
}

describe('nextStep', () => {
  it('walks a switchover through its steps in order and completes with the target as primary', () => {
    const { steps, end } = runToEnd(switchover);
    assert.deepEqual(steps, switchoverSteps.filter((s) => s !== 'done'));
    assert.ok(end.kind === 'complete');
    assert.deepEqual([end.primary, end.outcome, end.operation.step], ['db-1', 'succeeded', 'done']);
  });

  it('walks a failover through its steps; chooseTarget records its own choice', () => {
    const { steps, end } = runToEnd(failover, 'db-2');
    assert.deepEqual(steps, failoverSteps.filter((s) => s !== 'done'));
    assert.deepEqual(end.kind === 'complete' && [end.primary, end.operation.to], ['db-2', 'db-2']);
  });

  it('refuses a chooseTarget without a target, naming the failover', () => {
    assert.throws(() => nextStep(at(failover, 'chooseTarget'), { outcome: 'done' }), /failover from db-0: step chooseTarget reported done without a target/);
  });

  it('retries the same step, counting attempts and keeping the reason; the next step starts clean', () => {
    const first = nextStep(at(switchover, 'waitForCatchUp'), { outcome: 'retry', reason: 'db-1 at 0-1-90 of 0-1-100' });
    assert.equal(first.kind, 'retry');
    const second = nextStep(first.operation, { outcome: 'retry', reason: 'db-1 at 0-1-95 of 0-1-100' });
    assert.deepEqual([second.operation.step, second.operation.attempt, second.operation.message], ['waitForCatchUp', 2, 'db-1 at 0-1-95 of 0-1-100']);
    const advanced = nextStep(second.operation, { outcome: 'done' });
    assert.deepEqual([advanced.kind, advanced.operation.step, advanced.operation.attempt, advanced.operation.message], ['advance', 'promoteTarget', 0, undefined]);
  });

  it('completes an operation already at done without doing anything else', () => {
    const end = nextStep(at(switchover, 'done'), { outcome: 'done' });
    assert.deepEqual(end.kind === 'complete' && [end.primary, end.outcome], ['db-1', 'succeeded']);
    assert.equal(nextStep(at(failover, 'done'), { outcome: 'abort', reason: 'late' }).kind, 'complete');
  });

  const aborts: [string, Operation, Partial<Record<'kind' | 'step' | 'primary', string>>][] = [
    ['switchover aborted while fencing: roll back', at(switchover, 'fenceOldPrimary'), { kind: 'advance', step: 'rollBack' }],
    ['switchover aborted while the target catches up: roll back', at(switchover, 'waitForCatchUp'), { kind: 'advance', step: 'rollBack' }],
    ['switchover aborted while promoting: roll back (the writer Service has not moved)', at(switchover, 'promoteTarget'), { kind: 'advance', step: 'rollBack' }],
    ['switchover aborted after the writer moved: abandoned with the target as primary', at(switchover, 'moveWriter'), { kind: 'abandon', primary: 'db-1' }],
    ['switchover aborted while repointing: abandoned with the target', at(switchover, 'repointReplicas'), { kind: 'abandon', primary: 'db-1' }],
    ['switchover aborted while rejoining the old primary: abandoned with the target', at(switchover, 'rejoinOldPrimary'), { kind: 'abandon', primary: 'db-1' }],
    ['roll back itself aborted: abandoned with the old primary', at(switchover, 'rollBack'), { kind: 'abandon', primary: 'db-0' }],
    ['failover aborted while fencing replicas: cancelled, old primary stays recorded', at(failover, 'fenceReplicas'), { kind: 'abandon', primary: 'db-0' }],
    ['failover finding no target: cancelled', at(failover, 'chooseTarget'), { kind: 'abandon', primary: 'db-0' }],
    ['failover target cannot apply its relay log: choose again', at(failover, 'waitForRelayApplied'), { kind: 'advance', step: 'chooseTarget' }],
    ['failover target died while promoted: choose again', at(failover, 'promoteTarget'), { kind: 'advance', step: 'chooseTarget' }],
    ['failover aborted after the writer moved: abandoned with the target', at(failover, 'moveWriter'), { kind: 'abandon', primary: 'db-1' }],
    ['failover aborted while repointing: abandoned with the target', at(failover, 'repointReplicas'), { kind: 'abandon', primary: 'db-1' }],
  ];
  for (const [name, operation, expected] of aborts) {
    it(name, () => {
      const transition = nextStep(operation, { outcome: 'abort', reason: 'db-1 died' });
      assert.equal(transition.kind, expected.kind);
      if (expected.step !== undefined) assert.equal(transition.operation.step, expected.step);
      if (transition.kind === 'abandon') {
        assert.equal(transition.primary, expected.primary);
        assert.match(transition.reason, /db-1 died/);
        assert.equal(transition.operation.message, transition.reason);
      } else {
        assert.deepEqual([transition.operation.attempt, transition.operation.message], [0, 'db-1 died']);
      }
    });
  }

  it('completes a roll back with the old primary as primary', () => {
    const end = nextStep(at(switchover, 'rollBack'), { outcome: 'done' });
    assert.deepEqual(end.kind === 'complete' && [end.primary, end.outcome, end.operation.step], ['db-0', 'rolledBack', 'done']);
  });
});

describe('rollBackIsSafe', () => {
  it('holds until the writer Service moves, and never for a failover', () => {
    const safe = switchoverSteps.filter((step) => rollBackIsSafe(at(switchover, step)));
    assert.deepEqual(safe, ['fenceOldPrimary', 'waitForCatchUp', 'promoteTarget']);
    assert.equal(rollBackIsSafe(at(switchover, 'rollBack')), false);
    assert.deepEqual(failoverSteps.filter((step) => rollBackIsSafe(at(failover, step))), []);
  });
});
