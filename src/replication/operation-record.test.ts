import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { operationFromStatus, OperationRecordError } from './operation-record.ts';
import { startOperation } from './operation.ts';

const recorded = { type: 'Failover', from: 'db-0', to: 'db-2', reason: 'db-0 silent', step: 'waitForRelayApplied', startedAt: '2026-12-02T01:02:03Z' };

describe('operationFromStatus', () => {
  it('reads no operation from an absent or null field', () => {
    assert.equal(operationFromStatus(undefined), undefined);
    assert.equal(operationFromStatus(null), undefined);
  });

  it('reads a record whose schema dropped attempt and message', () => {
    assert.deepEqual(operationFromStatus(recorded), { ...recorded, attempt: 0, message: undefined });
  });

  it('round-trips what startOperation records, through JSON as the API server stores it', () => {
    const operation = { ...startOperation({ kind: 'switchover', from: 'db-1', to: 'db-0', reason: 'drain' }, new Date()), attempt: 3, message: 'db-0 behind' };
    assert.deepEqual(operationFromStatus(JSON.parse(JSON.stringify(operation))), operation);
    assert.equal(operationFromStatus({ ...operation, step: 'rollBack' })?.step, 'rollBack');
  });

  const refused: [string, unknown, RegExp][] = [
    ['a string', 'Failover', /must be an object, not "Failover"/],
    ['an unknown type', { ...recorded, type: 'Rebuild' }, /type must be Switchover or Failover, not "Rebuild"/],
    ['a step of the other type', { ...recorded, step: 'fenceOldPrimary' }, /step "fenceOldPrimary" is not a step of a Failover \(fenceReplicas, chooseTarget/],
    ['rollBack in a failover', { ...recorded, step: 'rollBack' }, /not a step of a Failover/],
    ['a missing target', { ...recorded, to: undefined }, /status\.operation\.to must be a non-empty string, not undefined/],
    ['an empty source', { ...recorded, from: '' }, /status\.operation\.from must be a non-empty string/],
    ['a start that is no time', { ...recorded, startedAt: 'yesterday' }, /startedAt must be an RFC 3339 time, not "yesterday"/],
    ['a negative attempt', { ...recorded, attempt: -1 }, /attempt must be a whole number >= 0, not -1/],
    ['a message that is no string', { ...recorded, message: 7 }, /message must be a string, not 7/],
  ];
  for (const [name, value, message] of refused) {
    it(`refuses ${name}, saying which field`, () => {
      assert.throws(() => operationFromStatus(value), (error: unknown) => error instanceof OperationRecordError && message.test(error.message));
    });
  }
});
