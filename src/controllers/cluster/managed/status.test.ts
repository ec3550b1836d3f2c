import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cluster, healthyPrimary, instance, replicaInstance, replicaOf, server } from '../../../replication/fixtures.test.ts';
import type { ClusterObservation, InstanceObservation } from '../../../replication/observations.ts';
import { startOperation } from '../../../replication/operation.ts';
import type { ActOutcome } from './replication/act.ts';
import { readiness, writesCannotCompleteReasons } from './status.ts';

const steady: ActOutcome = { kind: 'steady' };

/** The writer db-0 with semi-sync on and `clients` readers connected to it. */
function writerWithClients(clients: number): InstanceObservation {
  return instance(0, { server: { ...server({ serverId: 1, readOnly: false }), semiSyncSource: { enabled: true, active: true, clients } } });
}

/** A reader still seeding: no server to ask yet. */
const seeding = (index: number): InstanceObservation => instance(index, { podReady: false, server: undefined, seeding: { donor: 'db-0' } });

interface Row {
  readonly name: string;
  readonly observation: ClusterObservation;
  readonly outcome?: ActOutcome;
  readonly asyncFallback?: boolean;
  readonly ready: boolean;
  readonly reason: string;
  readonly message?: RegExp;
}

const rows: Row[] = [
  {
    name: 'writer with a reader connected: ready',
    observation: cluster({ instances: [writerWithClients(1), replicaInstance(1), replicaInstance(2)] }),
    ready: true,
    reason: 'Running',
  },
  {
    name: "a new cluster's writer before any reader is seeded: a write would wait for an acknowledgement, so not ready",
    observation: cluster({ instances: [writerWithClients(0), seeding(1), seeding(2)] }),
    ready: false,
    reason: 'NoReaderConnected',
    message: /writer db-0 waits for a reader to acknowledge every write \(spec\.replication\.allowAsyncFallback is false\) and no reader is connected yet/,
  },
  {
    name: 'no reader connected, but the user allowed the fallback to asynchronous replication: writes complete, ready',
    observation: cluster({ instances: [writerWithClients(0), seeding(1), seeding(2)] }),
    asyncFallback: true,
    ready: true,
    reason: 'Running',
  },
  {
    name: 'a lone writer (no readers wanted) with semi-sync off: ready',
    observation: cluster({
      instanceCount: 1,
      writerSemiSync: false,
      instances: [instance(0, { server: { ...server({ serverId: 1, readOnly: false }), semiSyncSource: { enabled: false, active: false, clients: 0 } } })],
    }),
    ready: true,
    reason: 'Running',
  },
  {
    name: 'no writer chosen yet',
    observation: cluster({ currentPrimary: undefined, instances: [seeding(0), seeding(1), seeding(2)] }),
    ready: false,
    reason: 'Initializing',
  },
  {
    name: 'a switchover in progress',
    observation: {
      ...cluster({ instances: [writerWithClients(1), replicaInstance(1), instance(2, { server: server({ replica: replicaOf('db-0') }) })] }),
      status: { currentPrimary: 'db-0', operation: startOperation({ kind: 'switchover', from: 'db-0', to: 'db-1', reason: 'node draining' }, new Date(1_000_000)) },
    },
    ready: false,
    reason: 'SwitchingOver',
  },
  {
    name: 'the writer read-only',
    observation: cluster({ instances: [instance(0, { server: server({ serverId: 1, readOnly: true }) }), replicaInstance(1), replicaInstance(2)] }),
    ready: false,
    reason: 'WriterReadOnly',
  },
  {
    name: 'the decision is blocked',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), replicaInstance(2)] }),
    outcome: { kind: 'blocked', reason: 'db-0 lost its data' },
    ready: false,
    reason: 'Blocked',
    message: /db-0 lost its data/,
  },
];

describe('readiness: can applications write through the writer Service now', () => {
  for (const row of rows) {
    it(row.name, () => {
      const result = readiness(row.observation, row.outcome ?? steady, 1, row.asyncFallback ?? false);
      assert.equal(result.reason, row.reason, result.message);
      assert.equal(result.ready, row.ready);
      if (row.message !== undefined) assert.match(result.message, row.message);
    });
  }

  it('databases and users wait (send no write) exactly while no writer is chosen or none could be acknowledged', () => {
    assert.deepEqual([...writesCannotCompleteReasons].sort(), ['Initializing', 'NoReaderConnected']);
  });
});
