import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statefulSetReplicas, type ScaleInput } from './scale.ts';

describe('statefulSetReplicas', () => {
  const base: ScaleInput = { cluster: 'db', desiredInstances: 2, currentPrimary: 'db-0', operation: undefined };
  const table: readonly { name: string; input: Partial<ScaleInput>; replicas: number; held: boolean }[] = [
    { name: 'the writer stays: shrink at once', input: {}, replicas: 2, held: false },
    { name: 'scaling up is never held', input: { desiredInstances: 5, currentPrimary: 'db-2' }, replicas: 5, held: false },
    { name: 'a new cluster without a writer', input: { currentPrimary: undefined }, replicas: 2, held: false },
    { name: 'the writer is the highest ordinal: keep it until it moved', input: { currentPrimary: 'db-2' }, replicas: 3, held: true },
    { name: 'the writer beyond several removed ordinals keeps them all (a StatefulSet removes the highest first)', input: { desiredInstances: 1, currentPrimary: 'db-3' }, replicas: 4, held: true },
    {
      name: 'a switchover under way keeps its old writer until it ends',
      input: { currentPrimary: 'db-2', operation: { from: 'db-2', to: 'db-0' } },
      replicas: 3,
      held: true,
    },
    {
      name: 'a switchover done (writer recorded on a remaining instance): shrink',
      input: { currentPrimary: 'db-0', operation: undefined },
      replicas: 2,
      held: false,
    },
    {
      name: 'a failover under way towards a high ordinal keeps its target',
      input: { desiredInstances: 1, currentPrimary: 'db-0', operation: { from: 'db-0', to: 'db-2' } },
      replicas: 3,
      held: true,
    },
    { name: 'a pod name of another cluster does not count', input: { currentPrimary: 'other-7' }, replicas: 2, held: false },
  ];
  for (const row of table) {
    it(row.name, () => {
      const decision = statefulSetReplicas({ ...base, ...row.input });
      assert.equal(decision.replicas, row.replicas);
      assert.equal(decision.heldBy !== undefined, row.held);
    });
  }

  it('says what it waits for', () => {
    assert.equal(
      statefulSetReplicas({ ...base, currentPrimary: 'db-2' }).heldBy,
      'scaling down to 2 instances waits until the writer has moved off the writer db-2; 3 kept meanwhile',
    );
  });
});
