import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition } from '../api/common.ts';
import { findCondition, kubernetesTime, setCondition } from './conditions.ts';

const t0 = new Date('2026-01-02T03:04:05.678Z');
const t1 = new Date('2026-01-02T04:00:00.000Z');

const ready = (status: 'True' | 'False' | 'Unknown', reason = 'Reconciled', message = 'ok') => ({
  type: 'Ready',
  status,
  reason,
  message,
});

describe('setCondition', () => {
  it('adds a new condition with the transition time (whole seconds) and generation', () => {
    const result = setCondition(undefined, ready('True'), 3, t0);
    assert.deepEqual(result, [
      { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'ok', lastTransitionTime: '2026-01-02T03:04:05Z', observedGeneration: 3 },
    ]);
  });

  it('keeps lastTransitionTime when the status stays, but takes the new reason, message and generation', () => {
    const first = setCondition([], ready('False', 'ClusterNotFound', 'no cluster'), 1, t0);
    const second = setCondition(first, ready('False', 'ClusterNotReady', 'cluster starting'), 2, t1);
    assert.deepEqual(second, [
      {
        type: 'Ready',
        status: 'False',
        reason: 'ClusterNotReady',
        message: 'cluster starting',
        lastTransitionTime: '2026-01-02T03:04:05Z',
        observedGeneration: 2,
      },
    ]);
  });

  it('moves lastTransitionTime when the status changes', () => {
    const first = setCondition([], ready('False'), 1, t0);
    const second = setCondition(first, ready('True'), 1, t1);
    assert.equal(second[0]?.lastTransitionTime, '2026-01-02T04:00:00Z');
    const third = setCondition(second, ready('Unknown'), 1, t0);
    assert.equal(third[0]?.lastTransitionTime, '2026-01-02T03:04:05Z');
  });

  it('replaces only the condition of its type, in place, and leaves the input untouched', () => {
    const input: Condition[] = [
      { type: 'Ready', status: 'False', reason: 'A', message: 'a', lastTransitionTime: '2025-01-01T00:00:00Z', observedGeneration: 1 },
      { type: 'Conflict', status: 'False', reason: 'B', message: 'b', lastTransitionTime: '2025-01-01T00:00:00Z' },
    ];
    const snapshot = structuredClone(input);
    const result = setCondition(input, ready('True'), 2, t1);
    assert.deepEqual(input, snapshot);
    assert.deepEqual(
      result.map((c) => [c.type, c.status]),
      [
        ['Ready', 'True'],
        ['Conflict', 'False'],
      ],
    );
    assert.notEqual(result[1], input[1]);
    assert.deepEqual(result[1], input[1]);

    const appended = setCondition(input, { type: 'Degraded', status: 'True', reason: 'C', message: 'c' }, 2, t1);
    assert.deepEqual(
      appended.map((c) => c.type),
      ['Ready', 'Conflict', 'Degraded'],
    );
  });
});

describe('findCondition', () => {
  it('finds by type and returns undefined when absent', () => {
    const list = setCondition(undefined, ready('True'), 1, t0);
    assert.equal(findCondition(list, 'Ready')?.status, 'True');
    assert.equal(findCondition(list, 'Conflict'), undefined);
    assert.equal(findCondition(undefined, 'Ready'), undefined);
  });
});

describe('kubernetesTime', () => {
  it('drops the fraction of a second, as the API server does', () => {
    assert.equal(kubernetesTime(t0), '2026-01-02T03:04:05Z');
  });
});
