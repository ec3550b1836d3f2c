import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from './decide.ts';
import { checkSituations, cluster, healthyPrimary, instance, replicaInstance, replicaOf, server, silent, type Situation } from './fixtures.test.ts';
import { startOperation } from './operation.ts';

const now = 1_000_000;
const newInstance = (index: number) => instance(index, { server: server({ serverId: index + 1, pos: '' }) });
// After a failover from db-0 to db-1: db-1 wrote 0-2-101..150 and its binlog state remembers db-0's server_id.
const newPrimaryAfterFailover = instance(1, { server: server({ serverId: 2, readOnly: false, pos: '0-2-150', state: '0-1-100,0-2-150' }) });
const followerOfNewPrimary = instance(2, {
  server: server({ serverId: 3, pos: '0-2-150', state: '0-1-100,0-2-150', replica: replicaOf('db-1', { ioPos: '0-2-150' }) }),
});

const situations: Situation[] = [
  { name: 'healthy cluster', observation: cluster(), expected: { kind: 'steady' } },
  {
    name: 'an operation recorded in status is continued, even with the primary gone',
    observation: cluster({
      instances: [silent(0), replicaInstance(1), replicaInstance(2)],
      status: {
        currentPrimary: 'db-0',
        operation: startOperation({ kind: 'failover', from: 'db-0', to: 'db-1', reason: 'x' }, new Date(now)),
      },
    }),
    expected: { kind: 'continue', operation: startOperation({ kind: 'failover', from: 'db-0', to: 'db-1', reason: 'x' }, new Date(now)) },
  },
  {
    name: 'new cluster of empty instances: instance 0 bootstraps',
    observation: cluster({ currentPrimary: undefined, instances: [newInstance(0), newInstance(1), newInstance(2)] }),
    expected: { kind: 'bootstrap', primary: 'db-0' },
    reason: /new cluster/,
  },
  {
    name: 'new cluster with spec.primary 2',
    observation: cluster({ currentPrimary: undefined, desiredPrimaryIndex: 2, instances: [newInstance(0), newInstance(1), newInstance(2)] }),
    expected: { kind: 'bootstrap', primary: 'db-2' },
  },
  {
    name: 'new cluster whose first instance does not answer yet',
    observation: cluster({ currentPrimary: undefined, instances: [silent(0), newInstance(1), newInstance(2)] }),
    expected: { kind: 'wait' },
    reason: /instance 0 to accept connections/,
  },
  {
    name: 'no primary recorded and two writable instances: fence both',
    observation: cluster({
      currentPrimary: undefined,
      instances: [healthyPrimary(), instance(1, { server: server({ serverId: 2, readOnly: false }) }), replicaInstance(2)],
    }),
    expected: { kind: 'fence', instances: ['db-0', 'db-1'] },
    reason: /db-0 and db-1 all accept writes and no primary is recorded/,
  },
  {
    name: 'no primary recorded, data present, one instance silent: wait for it',
    observation: cluster({ currentPrimary: undefined, instances: [instance(0), replicaInstance(1), silent(2)] }),
    expected: { kind: 'wait' },
    reason: /waiting for db-2/,
  },
  {
    name: 'no primary recorded: the most advanced instance bootstraps',
    observation: cluster({
      currentPrimary: undefined,
      instances: [instance(0), replicaInstance(1, 'db-0', '0-1-120'), replicaInstance(2, 'db-0', '0-1-110')],
    }),
    expected: { kind: 'bootstrap', primary: 'db-1' },
    reason: /0-1-120/,
  },
  {
    name: 'no primary recorded and diverged data: blocked',
    observation: cluster({
      currentPrimary: undefined,
      instances: [instance(0, { server: server({ pos: '0-1-101' }) }), instance(1, { server: server({ serverId: 2, pos: '0-2-101' }) }), replicaInstance(2)],
    }),
    expected: { kind: 'blocked' },
    reason: /db-0 \(0-1-101\) and db-1 \(0-2-101\) have diverged/,
  },
  {
    name: 'old primary back from a partition, still writable, while another is recorded: fence it',
    observation: cluster({
      currentPrimary: 'db-1',
      instances: [instance(0, { server: server({ serverId: 1, readOnly: false, pos: '0-1-101' }) }), newPrimaryAfterFailover, followerOfNewPrimary],
    }),
    expected: { kind: 'fence', instances: ['db-0'] },
    reason: /db-0 accepts writes but db-1 is the primary/,
  },
  {
    name: 'primary restarted read-only: make it writable',
    observation: cluster({ instances: [instance(0), replicaInstance(1), replicaInstance(2)] }),
    expected: { kind: 'configurePrimary', primary: 'db-0' },
    reason: /is read-only/,
  },
  {
    name: 'primary still replicating from someone',
    observation: cluster({
      instances: [instance(0, { server: server({ readOnly: false, replica: replicaOf('db-1') }) }), replicaInstance(1), replicaInstance(2)],
    }),
    expected: { kind: 'configurePrimary', primary: 'db-0' },
    reason: /still replicates/,
  },
  {
    name: 'readers added to a lone writer: its commits start waiting for an acknowledgement',
    observation: cluster({
      instances: [instance(0, { server: { ...server({ readOnly: false }), semiSyncSource: { enabled: false, active: false, clients: 0 } } }), replicaInstance(1), replicaInstance(2)],
    }),
    expected: { kind: 'configurePrimary', primary: 'db-0' },
    reason: /semi-synchronous replication should be on on the primary db-0 \(2 readers wanted\)/,
  },
  {
    name: 'every reader removed: the lone writer stops waiting for acknowledgements nobody will send',
    observation: cluster({ instanceCount: 1, writerSemiSync: false, instances: [healthyPrimary()] }),
    expected: { kind: 'configurePrimary', primary: 'db-0' },
    reason: /semi-synchronous replication should be off on the primary db-0 \(0 readers wanted\)/,
  },
  {
    name: 'a lone writer without semi-sync: steady',
    observation: cluster({
      instanceCount: 1,
      writerSemiSync: false,
      instances: [instance(0, { server: { ...server({ readOnly: false }), semiSyncSource: { enabled: false, active: false, clients: 0 } } })],
    }),
    expected: { kind: 'steady' },
  },
  {
    name: 'recorded primary has lost its data while a replica has some: blocked, nothing rebuilt',
    observation: cluster({ instances: [instance(0, { server: server({ readOnly: false, pos: '' }) }), replicaInstance(1), replicaInstance(2)] }),
    expected: { kind: 'blocked' },
    reason: /db-0 has no data while db-1 has transactions.*restore its volume, or set spec\.primary to 1 to fail over to db-1/,
  },
  {
    name: 'recorded primary has lost its data and spec.primary names the most advanced replica: fail over to it',
    observation: cluster({
      desiredPrimaryIndex: 2,
      instances: [instance(0, { server: server({ readOnly: false, pos: '' }) }), replicaInstance(1, 'db-0', '0-1-99'), replicaInstance(2)],
    }),
    expected: { kind: 'failover', from: 'db-0', to: 'db-2' },
    reason: /spec\.primary chooses db-2/,
  },
  {
    name: 'primary pod terminating: switch over to the most caught-up replica',
    observation: cluster({
      instances: [instance(0, { podDeleting: true, server: server({ readOnly: false }) }), replicaInstance(1, 'db-0', '0-1-98', { secondsBehind: 2 }), replicaInstance(2)],
    }),
    expected: { kind: 'switchover', from: 'db-0', to: 'db-2' },
    reason: /pod db-0 is terminating/,
  },
  {
    name: "primary's node cordoned: switch over, skipping a replica on a cordoned node",
    observation: cluster({
      instances: [instance(0, { nodeUnschedulable: true, server: server({ readOnly: false }) }), { ...replicaInstance(1), nodeUnschedulable: true }, replicaInstance(2)],
    }),
    expected: { kind: 'switchover', from: 'db-0', to: 'db-2' },
    reason: /node node-0 is cordoned or draining/,
  },
  {
    name: "primary's node cordoned and every replica too: wait",
    observation: cluster({
      instances: [
        instance(0, { nodeUnschedulable: true, server: server({ readOnly: false }) }),
        { ...replicaInstance(1), nodeUnschedulable: true },
        { ...replicaInstance(2), nodeUnschedulable: true },
      ],
    }),
    expected: { kind: 'wait' },
    reason: /cordoned or draining, but no replica can take over yet: db-1's node node-1 is cordoned or draining; db-2's node node-2 is cordoned or draining$/,
  },
  {
    name: "primary's node cordoned, no target, a replica to configure: configuring goes first",
    observation: cluster({
      instances: [
        instance(0, { nodeUnschedulable: true, server: server({ readOnly: false }) }),
        instance(1, { server: server({ serverId: 2 }) }),
        { ...replicaInstance(2), nodeUnschedulable: true },
      ],
    }),
    expected: { kind: 'configureReplicas', primary: 'db-0', instances: [{ instance: 'db-1', reason: 'db-1 does not replicate' }] },
  },
  {
    name: 'scaling down past the primary: switch over to a staying instance',
    observation: cluster({
      currentPrimary: 'db-2',
      instanceCount: 2,
      instances: [replicaInstance(0, 'db-2'), replicaInstance(1, 'db-2'), instance(2, { server: server({ serverId: 3, readOnly: false }) })],
    }),
    expected: { kind: 'switchover', from: 'db-2', to: 'db-0' },
    reason: /scaling down to 2 instances removes db-2/,
  },
  {
    name: 'spec.primary changed to a ready, caught-up replica: switch over',
    observation: cluster({ desiredPrimaryIndex: 1 }),
    expected: { kind: 'switchover', from: 'db-0', to: 'db-1', reason: 'spec.primary is 1' },
  },
  {
    name: 'spec.primary changed to a lagging replica: wait',
    observation: cluster({ desiredPrimaryIndex: 1, instances: [healthyPrimary(), replicaInstance(1, 'db-0', '0-1-60', { secondsBehind: 30 }), replicaInstance(2)] }),
    expected: { kind: 'wait' },
    reason: /spec\.primary asks for db-1, which cannot take over yet: db-1 is 30s behind db-0 \(at most 5s\)/,
  },
  {
    name: 'spec.primary names a replica on a cordoned node: wait, saying so',
    observation: cluster({ desiredPrimaryIndex: 2, instances: [healthyPrimary(), replicaInstance(1), { ...replicaInstance(2), nodeUnschedulable: true }] }),
    expected: { kind: 'wait' },
    reason: /spec\.primary asks for db-2, which cannot take over yet: db-2's node node-2 is cordoned or draining/,
  },
  {
    name: 'replica replicating from the wrong source',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1, 'db-2'), replicaInstance(2)] }),
    expected: { kind: 'configureReplicas', primary: 'db-0', instances: [{ instance: 'db-1', reason: 'db-1 replicates from db-2 instead of db-0' }] },
  },
  {
    name: 'replica threads stopped without an error',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), replicaInstance(2, 'db-0', '0-1-100', { ioThread: 'No', sqlRunning: false })] }),
    expected: {
      kind: 'configureReplicas',
      primary: 'db-0',
      instances: [{ instance: 'db-2', reason: 'db-2: IO thread stopped, SQL thread stopped' }],
    },
  },
  {
    name: 'replica SQL thread stopped on a lock wait timeout (transient): restart it',
    observation: cluster({
      instances: [healthyPrimary(), replicaInstance(1), replicaInstance(2, 'db-0', '0-1-100', { sqlRunning: false, lastSqlErrno: 1205, lastSqlError: 'Lock wait timeout' })],
    }),
    expected: {
      kind: 'configureReplicas',
      primary: 'db-0',
      instances: [{ instance: 'db-2', reason: 'db-2: IO thread running, SQL thread stopped; SQL error 1205: Lock wait timeout' }],
    },
  },
  {
    name: 'replica IO thread still connecting after an error: configured again to reconnect now',
    observation: cluster({
      instances: [healthyPrimary(), replicaInstance(1), replicaInstance(2, 'db-0', '0-1-100', { ioThread: 'Connecting', lastIoErrno: 2003, lastIoError: "Can't connect" })],
    }),
    expected: {
      kind: 'configureReplicas',
      primary: 'db-0',
      instances: [{ instance: 'db-2', reason: "db-2: IO thread connecting, SQL thread running; IO error 2003: Can't connect" }],
    },
  },
  {
    name: 'replica IO thread connecting for the first time: left alone',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), replicaInstance(2, 'db-0', '0-1-100', { ioThread: 'Connecting' })] }),
    expected: { kind: 'steady' },
  },
  {
    name: 'a running instance without any transaction replays the writer\'s binary logs from the first',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), newInstance(2)] }),
    expected: { kind: 'rebuild', instance: 'db-2', source: 'db-1', cause: 'empty', step: 'replay' },
    reason: /db-2 has no data yet: it replicates from the writer's first transaction \(a copy of db-1 once the writer lacks some\)/,
  },
  {
    name: 'empty instance already replicating from the primary: left to catch up',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), replicaInstance(2, 'db-0', '')] }),
    expected: { kind: 'steady' },
  },
  {
    name: 'replica whose source purged its binary logs (1236)',
    observation: cluster({
      instances: [healthyPrimary(), replicaInstance(1), replicaInstance(2, 'db-0', '0-1-10', { ioThread: 'No', lastIoErrno: 1236, lastIoError: 'Could not find GTID state' })],
    }),
    expected: { kind: 'rebuild', instance: 'db-2', source: 'db-1', cause: 'binlogPurged', step: 'discard' },
    reason: /no longer has the binary logs it needs \(error 1236: Could not find GTID state\)/,
  },
  {
    name: 'replica stopped on a duplicate key (1062): diverged',
    observation: cluster({
      instances: [healthyPrimary(), replicaInstance(1, 'db-0', '0-1-100', { sqlRunning: false, lastSqlErrno: 1062, lastSqlError: 'Duplicate entry' }), replicaInstance(2)],
    }),
    expected: { kind: 'rebuild', instance: 'db-1', source: 'db-2', cause: 'diverged', step: 'report' },
    reason: /data that differs from db-0 .*; to discard its data .*kubectl annotate pod db-1 flightdeck\.t7\.io\/rebuild=now/,
  },
  {
    name: 'replica with a local write under its own server_id, unknown to the primary: rebuilt',
    observation: cluster({
      instances: [healthyPrimary(), replicaInstance(1), instance(2, { server: server({ serverId: 3, pos: '0-1-100', state: '0-1-100,0-3-1', replica: replicaOf('db-0') }) })],
    }),
    expected: { kind: 'rebuild', instance: 'db-2', source: 'db-1', cause: 'errantTransactions', step: 'report' },
    reason: /db-2 has transactions 0-3-1 that the primary db-0 lacks, written directly on a replica/,
  },
  {
    name: 'old primary back with a write the new primary never received: quarantined',
    observation: cluster({
      currentPrimary: 'db-1',
      instances: [instance(0, { server: server({ serverId: 1, pos: '0-1-101' }) }), newPrimaryAfterFailover, followerOfNewPrimary],
    }),
    expected: { kind: 'quarantine', instance: 'db-0' },
    errant: '0-1-101',
    reason: /may be acknowledged writes/,
  },
  {
    name: 'old primary back with nothing the new primary lacks: rejoins as a replica',
    observation: cluster({
      currentPrimary: 'db-1',
      instances: [instance(0, { server: server({ serverId: 1, pos: '0-1-100' }) }), newPrimaryAfterFailover, followerOfNewPrimary],
    }),
    expected: { kind: 'configureReplicas', primary: 'db-1', instances: [{ instance: 'db-0', reason: 'db-0 does not replicate' }] },
  },
  {
    name: 'configuring goes before rebuilding, which goes before quarantine',
    observation: cluster({
      instances: [
        // Server 5 was writer before db-0: db-2 has a transaction of it that db-0 never got (quarantine).
        instance(0, { server: server({ serverId: 1, readOnly: false, pos: '0-1-100', state: '0-5-50,0-1-100' }) }),
        instance(1, { server: server({ serverId: 2, pos: '0-1-100', state: '0-5-50,0-1-100,0-2-1', replica: replicaOf('db-0') }) }),
        instance(2, { server: server({ serverId: 3, pos: '0-1-100', state: '0-5-51,0-1-100', replica: replicaOf('db-0') }) }),
      ],
    }),
    expected: { kind: 'rebuild', instance: 'db-1', source: 'db-0', cause: 'errantTransactions', step: 'report' },
  },
  {
    name: 'a new instance waiting for a copy is named the best healthy replica as donor',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), silent(2, { seeding: { donor: undefined } })] }),
    expected: { kind: 'rebuild', instance: 'db-2', source: 'db-1', cause: 'empty', step: 'seed' },
    reason: /db-2 waits for a copy: it is seeded from db-1/,
  },
  {
    name: 'a new instance waiting for a copy with no healthy replica is seeded from the primary',
    observation: cluster({ instances: [healthyPrimary(), silent(1, { seeding: { donor: undefined } })] }),
    expected: { kind: 'rebuild', instance: 'db-1', source: 'db-0', cause: 'empty', step: 'seed' },
  },
  {
    name: 'a copy under way from a fit donor is left alone, also when another replica is further ahead',
    observation: cluster({ instanceCount: 4, instances: [healthyPrimary(), replicaInstance(1, 'db-0', '0-1-99'), replicaInstance(2), silent(3, { seeding: { donor: 'db-1' } })] }),
    expected: { kind: 'steady' },
  },
  {
    name: 'a copy waiting on a donor that is no longer fit is pointed at another',
    observation: cluster({ instanceCount: 4, instances: [healthyPrimary(), silent(1), replicaInstance(2), silent(3, { seeding: { donor: 'db-1' } })] }),
    expected: { kind: 'rebuild', instance: 'db-3', source: 'db-2', cause: 'empty', step: 'seed' },
    reason: /its donor db-1 is not fit/,
  },
  {
    name: 'a quarantined replica is discarded only when a rebuild is asked for',
    observation: cluster({
      currentPrimary: 'db-1',
      instances: [instance(0, { server: server({ serverId: 1, pos: '0-1-101' }), rebuildRequested: true }), newPrimaryAfterFailover, followerOfNewPrimary],
    }),
    expected: { kind: 'rebuild', instance: 'db-0', source: 'db-2', cause: 'errantTransactions', step: 'discard' },
    reason: /db-0 was asked to be rebuilt, discarding its transactions 0-1-101/,
  },
  {
    name: 'a quarantined replica says how to ask for its rebuild',
    observation: cluster({
      currentPrimary: 'db-1',
      instances: [instance(0, { server: server({ serverId: 1, pos: '0-1-101' }) }), newPrimaryAfterFailover, followerOfNewPrimary],
    }),
    expected: { kind: 'quarantine', instance: 'db-0' },
    reason: /kubectl annotate pod db-0 flightdeck\.t7\.io\/rebuild=now/,
  },
  {
    name: 'a diverged replica with a rebuild asked for is discarded, before another is reported',
    observation: cluster({
      instances: [
        healthyPrimary(),
        replicaInstance(1, 'db-0', '0-1-100', { sqlRunning: false, lastSqlErrno: 1062, lastSqlError: 'Duplicate entry' }),
        { ...replicaInstance(2, 'db-0', '0-1-100', { sqlRunning: false, lastSqlErrno: 1032, lastSqlError: 'Missing row' }), rebuildRequested: true },
      ],
    }),
    expected: { kind: 'rebuild', instance: 'db-2', source: 'db-0', cause: 'diverged', step: 'discard' },
  },
  {
    name: 'a healthy replica is rebuilt when asked; a rebuild asked of the primary is ignored',
    observation: cluster({ instances: [{ ...healthyPrimary(), rebuildRequested: true }, replicaInstance(1), { ...replicaInstance(2), rebuildRequested: true }] }),
    expected: { kind: 'rebuild', instance: 'db-2', source: 'db-1', cause: 'requested', step: 'discard' },
  },
  {
    // Instances are observed one after the other, not at one instant: under
    // writes a replica is often seen ahead of the moment the primary was read.
    // Transactions of the primary's own server_id can only have come from it;
    // should the primary have lost them (crash recovery drops transactions no
    // replica acknowledged), no client was told they committed, and the
    // replica stops on the conflict and is rebuilt.
    name: "a replica seen ahead of the primary in the primary's own chain is healthy, not errant",
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), replicaInstance(2, 'db-0', '0-1-101')] }),
    expected: { kind: 'steady' },
  },
];

describe('decide with a reachable primary, or none recorded', () => {
  checkSituations(situations);

  it('never reads a clock: the same observation gives the same decision', () => {
    const observation = cluster({ instances: [silent(0), replicaInstance(1), replicaInstance(2)], primaryUnreachableSinceMs: now - 6000 });
    assert.deepEqual(decide(observation), decide(structuredClone(observation)));
  });
});
