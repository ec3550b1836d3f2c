import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { driveOperation, maxStepsPerDrive } from './drive.ts';
import { startOperation, type Operation, type OperationStep, type StepResult } from './operation.ts';

const started = new Date('2026-12-02T00:00:00Z');
const switchover = startOperation({ kind: 'switchover', from: 'db-0', to: 'db-1', reason: 'drain' }, started);
const failover = startOperation({ kind: 'failover', from: 'db-0', to: 'db-1', reason: 'silent' }, started);

/** An executor answering from a script per step ('done' when the script is empty), logging with the persists. */
function world(script: Partial<Record<OperationStep, (StepResult | Error)[]>> = {}, options: { failPersistAt?: OperationStep } = {}) {
  const log: string[] = [];
  const persisted: Operation[] = [];
  const controller = new AbortController();
  return {
    log,
    persisted,
    controller,
    io: {
      signal: controller.signal,
      persist: (operation: Operation) => {
        if (operation.step === options.failPersistAt) return Promise.reject(new Error('status write refused (409)'));
        log.push(`persist ${operation.step}`);
        persisted.push(operation);
        return Promise.resolve();
      },
      executor: {
        execute: (step: OperationStep, operation: Operation, signal: AbortSignal): Promise<StepResult> => {
          assert.equal(step, operation.step);
          assert.equal(signal, controller.signal);
          log.push(`execute ${step}`);
          const next = script[step]?.shift() ?? { outcome: 'done', target: step === 'chooseTarget' ? 'db-2' : undefined };
          return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
        },
      },
    },
  };
}

describe('driveOperation', () => {
  it('persists each step before it runs, and completes a switchover', async () => {
    const { io, log } = world();
    const outcome = await driveOperation(switchover, io);
    const steps = ['fenceOldPrimary', 'waitForCatchUp', 'promoteTarget', 'moveWriter', 'repointReplicas', 'rejoinOldPrimary'];
    assert.deepEqual(log, steps.flatMap((step) => [`persist ${step}`, `execute ${step}`]));
    assert.deepEqual(outcome.kind === 'complete' && [outcome.primary, outcome.outcome], ['db-1', 'succeeded']);
  });

  it('records the failover target chosen by chooseTarget before the next step acts', async () => {
    const { io, persisted } = world();
    const outcome = await driveOperation(failover, io);
    const afterChoice = persisted.find((operation) => operation.step === 'waitForRelayApplied');
    assert.equal(afterChoice?.to, 'db-2');
    assert.deepEqual(outcome.kind === 'complete' && outcome.primary, 'db-2');
  });

  it('hands back a retry, and a new leader resumes at the recorded step', async () => {
    const first = world({ waitForCatchUp: [{ outcome: 'retry', reason: 'db-1 is 3 transactions behind' }] });
    const outcome = await driveOperation(switchover, first.io);
    assert.equal(outcome.kind, 'retry');
    assert.deepEqual([outcome.operation.step, outcome.operation.attempt, outcome.reason], ['waitForCatchUp', 1, 'db-1 is 3 transactions behind']);

    const resumed = world();
    const recorded = first.persisted.at(-1);
    assert.ok(recorded !== undefined);
    await driveOperation(recorded, resumed.io);
    assert.deepEqual(resumed.log.slice(0, 2), ['persist waitForCatchUp', 'execute waitForCatchUp']);
    assert.ok(!resumed.log.includes('execute fenceOldPrimary'));
  });

  it('turns an executor error into a retry that names the step', async () => {
    const { io } = world({ promoteTarget: [new Error('connect ECONNREFUSED 10.0.0.7:3306')] });
    const outcome = await driveOperation({ ...switchover, step: 'promoteTarget' }, io);
    assert.deepEqual([outcome.kind, outcome.kind === 'retry' && outcome.reason], ['retry', 'step promoteTarget failed: connect ECONNREFUSED 10.0.0.7:3306']);
  });

  it('stops when the lease is lost: the rejection propagates and nothing more is persisted', async () => {
    const deposed = new Error('lease lost');
    const setup = world();
    setup.io.executor.execute = (step) => {
      setup.log.push(`execute ${step}`);
      setup.controller.abort(deposed);
      return Promise.reject(deposed);
    };
    await assert.rejects(driveOperation(switchover, setup.io), deposed);
    assert.deepEqual(setup.log, ['persist fenceOldPrimary', 'execute fenceOldPrimary']);
  });

  it('does not run a step whose record could not be written', async () => {
    const { io, log } = world({}, { failPersistAt: 'promoteTarget' });
    await assert.rejects(driveOperation(switchover, io), /status write refused/);
    assert.ok(!log.includes('execute promoteTarget'));
    assert.equal(log.at(-1), 'execute waitForCatchUp');
  });

  it('finishes a record already at done without touching anything', async () => {
    const { io, log } = world();
    const outcome = await driveOperation({ ...switchover, step: 'done' }, io);
    assert.deepEqual([outcome.kind, log], ['complete', []]);
  });

  it('rolls a switchover back when the target dies before the writer moves', async () => {
    const { io, log } = world({ waitForCatchUp: [{ outcome: 'abort', reason: 'db-1 is gone' }] });
    const outcome = await driveOperation(switchover, io);
    assert.deepEqual(log.slice(-2), ['persist rollBack', 'execute rollBack']);
    assert.deepEqual(outcome.kind === 'complete' && [outcome.primary, outcome.outcome], ['db-0', 'rolledBack']);
  });

  it(`gives up for this pass after ${maxStepsPerDrive} step changes without settling`, async () => {
    const bounce = Array.from({ length: 100 }, (): StepResult => ({ outcome: 'abort', reason: 'relay log stuck' }));
    const { io } = world({ waitForRelayApplied: bounce });
    const outcome = await driveOperation(failover, io);
    assert.ok(outcome.kind === 'retry');
    assert.match(outcome.reason, /changed step 32 times without settling/);
  });
});
