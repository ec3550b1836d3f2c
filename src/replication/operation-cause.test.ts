import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from './decide.ts';
import { cluster, instance, replicaInstance, server, silent } from './fixtures.test.ts';
import type { ClusterObservation } from './observations.ts';
import { operationCause, type OperationCause } from './operation-cause.ts';

/** The cause of the operation decide() starts on `observation`. */
function causeOf(observation: ClusterObservation): OperationCause {
  const decision = decide(observation);
  if (decision.kind !== 'switchover' && decision.kind !== 'failover') throw new Error(`expected a switchover or failover, decided ${decision.kind}`);
  return operationCause({ type: decision.kind === 'failover' ? 'Failover' : 'Switchover', reason: decision.reason });
}

describe('operationCause sorts the reasons decide() writes', () => {
  const table: readonly { name: string; observation: ClusterObservation; cause: OperationCause }[] = [
    { name: 'spec.primary edited', observation: cluster({ desiredPrimaryIndex: 1 }), cause: 'specPrimary' },
    {
      name: "the writer's pod terminating",
      observation: cluster({ instances: [instance(0, { podDeleting: true, server: server({ serverId: 1, readOnly: false }) }), replicaInstance(1), replicaInstance(2)] }),
      cause: 'podDeleted',
    },
    {
      name: "the writer's node draining",
      observation: cluster({ instances: [instance(0, { nodeUnschedulable: true, server: server({ serverId: 1, readOnly: false }) }), replicaInstance(1), replicaInstance(2)] }),
      cause: 'nodeDraining',
    },
    {
      name: 'scaling down past the writer',
      observation: cluster({
        currentPrimary: 'db-2',
        instanceCount: 2,
        instances: [replicaInstance(0, 'db-2'), replicaInstance(1, 'db-2'), instance(2, { server: server({ serverId: 3, readOnly: false }) })],
      }),
      cause: 'scaleDown',
    },
    {
      name: 'the writer silent past failoverAfterSeconds',
      observation: cluster({ instances: [silent(0), replicaInstance(1), replicaInstance(2)], primaryUnreachableSinceMs: 1_000_000 - 6_000 }),
      cause: 'writerUnreachable',
    },
    {
      name: "the writer's pod terminating and silent",
      observation: cluster({ instances: [silent(0, { podDeleting: true }), replicaInstance(1), replicaInstance(2)] }),
      cause: 'writerTerminating',
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      assert.equal(causeOf(row.observation), row.cause);
    });
  }

  it('an empty writer failed over to by spec.primary', () => {
    const observation = cluster({
      desiredPrimaryIndex: 1,
      instances: [instance(0, { server: server({ serverId: 1, readOnly: false, pos: '' }) }), replicaInstance(1), replicaInstance(2)],
    });
    assert.equal(causeOf(observation), 'writerLostData');
  });

  it('anything else is other, never the sentence itself', () => {
    assert.equal(operationCause({ type: 'Switchover', reason: 'someone asked nicely' }), 'other');
    assert.equal(operationCause({ type: 'Failover', reason: 'spec.primary is 1' }), 'other');
  });
});
