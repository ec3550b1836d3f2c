import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideRun, maxRunAttempts, retryDelayMs, type AttemptObservation } from './run-decision.ts';

const endedAt = new Date('2026-12-02T03:04:05Z');
const failed = (retryable: boolean, reason = 'BackupFailed', message = 'rclone: connection refused'): AttemptObservation => ({ state: 'failed', reason, message, retryable, endedAt });
const after = (ms: number): Date => new Date(endedAt.getTime() + ms);

describe('decideRun', () => {
  const table: { name: string; attempt: number; observation: AttemptObservation; maxAttempts?: number; /** The decision's fields that must have these values. */ expect: Readonly<Record<string, unknown>> }[] = [
    { name: 'a running attempt is followed', attempt: 1, observation: { state: 'running' }, expect: { action: 'follow' } },
    { name: 'a running retry is followed', attempt: 3, observation: { state: 'running' }, expect: { action: 'follow' } },
    { name: 'a success is recorded; only incomplete uploads go', attempt: 1, observation: { state: 'succeeded' }, expect: { action: 'recordSuccess', cleanUp: 'incompleteUploads' } },
    { name: 'a success on the last attempt is still a success', attempt: 3, observation: { state: 'succeeded' }, expect: { action: 'recordSuccess', cleanUp: 'incompleteUploads' } },
    { name: 'a first failure is retried after the base delay', attempt: 1, observation: failed(true), expect: { action: 'retry', nextAttempt: 2, notBefore: after(retryDelayMs), cleanUp: 'folder' } },
    { name: 'a second failure is retried after twice the delay', attempt: 2, observation: failed(true, 'DeadlineExceeded', 'Job was active longer than specified deadline'), expect: { action: 'retry', nextAttempt: 3, notBefore: after(2 * retryDelayMs), cleanUp: 'folder' } },
    { name: 'the last attempt failing gives the run up', attempt: 3, observation: failed(true, 'BackoffLimitExceeded'), expect: { action: 'giveUp', reason: 'BackoffLimitExceeded', cleanUp: 'folder' } },
    { name: 'an attempt past the limit gives up too (the limit was lowered)', attempt: 5, observation: failed(true), expect: { action: 'giveUp', cleanUp: 'folder' } },
    { name: 'a refusal gives up at once', attempt: 1, observation: failed(false, 'DatabaseNotFound', 'database x does not exist'), expect: { action: 'giveUp', reason: 'DatabaseNotFound', cleanUp: 'folder' } },
    { name: 'one attempt allowed: a failure gives up', attempt: 1, maxAttempts: 1, observation: failed(true), expect: { action: 'giveUp', cleanUp: 'folder' } },
  ];
  for (const row of table) {
    it(row.name, () => {
      const decision = decideRun({ attempt: row.attempt, observation: row.observation, ...(row.maxAttempts === undefined ? {} : { maxAttempts: row.maxAttempts }) });
      for (const [field, value] of Object.entries(row.expect)) assert.deepEqual((decision as unknown as Record<string, unknown>)[field], value, field);
    });
  }

  it('allows three attempts in all by default', () => {
    assert.equal(maxRunAttempts, 3);
    assert.equal(decideRun({ attempt: 2, observation: failed(true) }).action, 'retry');
    assert.equal(decideRun({ attempt: 3, observation: failed(true) }).action, 'giveUp');
  });

  it('says in its message which attempt failed, why, and what follows', () => {
    const retry = decideRun({ attempt: 1, observation: failed(true) });
    assert.equal(retry.action, 'retry');
    assert.equal(retry.message, `attempt 1 of 3 failed (BackupFailed: rclone: connection refused); attempt 2 starts from ${after(retryDelayMs).toISOString()} at the run's place in the queue`);
    const given = decideRun({ attempt: 3, observation: failed(true, 'DeadlineExceeded', 'too slow') });
    assert.equal(given.action, 'giveUp');
    assert.equal(given.message, 'failed all 3 attempts; the last: DeadlineExceeded: too slow');
    const refused = decideRun({ attempt: 2, observation: failed(false, 'NothingToBackUp', 'no database') });
    assert.equal(refused.action, 'giveUp');
    assert.match(refused.message, /^attempt 2 was refused, which no retry can change: NothingToBackUp: no database$/);
  });

  it('refuses impossible attempt numbers', () => {
    assert.throws(() => decideRun({ attempt: 0, observation: { state: 'running' } }), /attempt number is a whole number ≥ 1, not 0/);
    assert.throws(() => decideRun({ attempt: 1.5, observation: { state: 'running' } }), RangeError);
    assert.throws(() => decideRun({ attempt: 1, maxAttempts: 0, observation: { state: 'running' } }), /most attempts of a run/);
  });
});
