import { describe } from 'node:test';
import { checkSituations, cluster, instance, replicaInstance, replicaOf, server, silent, type Situation } from './fixtures.test.ts';

const now = 1_000_000;
const primarySilentFor = (ms: number) => ({ primaryUnreachableSinceMs: now - ms });
// After a failover from db-0 to db-1, db-1 is primary and db-2 follows it.
const followerOfNewPrimary = instance(2, {
  server: server({ serverId: 3, pos: '0-2-150', state: '0-1-100,0-2-150', replica: replicaOf('db-1', { ioPos: '0-2-150' }) }),
});

const situations: Situation[] = [
  {
    name: 'primary silent for 2 s of 5: wait',
    observation: cluster({ instances: [silent(0), replicaInstance(1), replicaInstance(2)], ...primarySilentFor(2000) }),
    expected: { kind: 'wait' },
    reason: /not answered for 2\.0s; failover after 5\.0s/,
  },
  {
    name: 'primary silent, first noticed now: wait',
    observation: cluster({ instances: [silent(0), replicaInstance(1), replicaInstance(2)] }),
    expected: { kind: 'wait' },
  },
  {
    name: 'primary pod gone for 6 s: fail over to the replica that received the most, not the one that applied the most',
    observation: cluster({
      instances: [
        instance(0, { exists: false, server: undefined }),
        replicaInstance(1, 'db-0', '0-1-100', { ioPos: '0-1-105' }),
        replicaInstance(2, 'db-0', '0-1-102'),
      ],
      ...primarySilentFor(6000),
    }),
    expected: { kind: 'failover', from: 'db-0', to: 'db-1' },
    reason: /db-1 received the most of db-0's transactions \(0-1-105\)/,
  },
  {
    name: 'primary pod terminating and no longer answering: fail over without waiting',
    observation: cluster({ instances: [silent(0, { podDeleting: true }), replicaInstance(1), replicaInstance(2)], ...primarySilentFor(500) }),
    expected: { kind: 'failover', from: 'db-0', to: 'db-1' },
    reason: /db-0 is terminating and has stopped answering/,
  },
  {
    name: 'primary silent long enough but autoFailover is off: blocked',
    observation: cluster({ instances: [silent(0), replicaInstance(1), replicaInstance(2)], autoFailover: false, ...primarySilentFor(60_000) }),
    expected: { kind: 'blocked' },
    reason: /autoFailover is false/,
  },
  {
    name: 'primary silent and no replica at all: blocked',
    observation: cluster({ instances: [silent(0)], ...primarySilentFor(60_000) }),
    expected: { kind: 'blocked' },
    reason: /no reachable replica of db-0/,
  },
  {
    name: 'primary and a replica silent: blocked, the silent one may hold acknowledged writes',
    observation: cluster({ instances: [silent(0), replicaInstance(1), silent(2)], ...primarySilentFor(6000) }),
    expected: { kind: 'blocked' },
    reason: /db-2 cannot be reached and may hold acknowledged writes.*set spec\.primary to 1/,
  },
  {
    name: 'primary and a replica silent, spec.primary names a most advanced replica: fail over to it',
    observation: cluster({ instances: [silent(0), replicaInstance(1), silent(2)], desiredPrimaryIndex: 1, ...primarySilentFor(6000) }),
    expected: { kind: 'failover', from: 'db-0', to: 'db-1' },
    reason: /chosen by spec\.primary while db-2 cannot be reached/,
  },
  {
    name: 'primary silent and the replicas diverged: blocked',
    observation: cluster({
      instances: [silent(0), replicaInstance(1, 'db-0', '0-1-100,1-1-5'), replicaInstance(2, 'db-0', '0-1-101')],
      ...primarySilentFor(6000),
    }),
    expected: { kind: 'blocked' },
    reason: /db-1 \(0-1-100,1-1-5\) and db-2 \(0-1-101\) have diverged/,
  },
  {
    name: 'primary silent, replicas equal: the lowest ordinal',
    observation: cluster({ instances: [silent(0), replicaInstance(1), replicaInstance(2)], ...primarySilentFor(6000) }),
    expected: { kind: 'failover', from: 'db-0', to: 'db-1' },
  },
  {
    name: 'primary silent, replicas equal, spec.primary 2: db-2',
    observation: cluster({ instances: [silent(0), replicaInstance(1), replicaInstance(2)], desiredPrimaryIndex: 2, ...primarySilentFor(6000) }),
    expected: { kind: 'failover', from: 'db-0', to: 'db-2' },
  },
  {
    name: 'primary silent, the most advanced replica cannot apply its relay log: blocked',
    observation: cluster({
      instances: [silent(0), replicaInstance(1), replicaInstance(2, 'db-0', '0-1-100', { ioPos: '0-1-105', sqlRunning: false, lastSqlErrno: 1062, lastSqlError: 'Duplicate entry' })],
      ...primarySilentFor(6000),
    }),
    expected: { kind: 'blocked' },
    reason: /db-2 cannot apply what it received \(error 1062/,
  },
  {
    name: 'new primary silent: a quarantined old primary far ahead by seq is no candidate',
    observation: cluster({
      currentPrimary: 'db-1',
      instances: [instance(0, { server: server({ serverId: 1, pos: '0-1-160' }) }), silent(1), followerOfNewPrimary],
      ...primarySilentFor(6000),
    }),
    expected: { kind: 'failover', from: 'db-1', to: 'db-2' },
  },
];

describe('decide with the recorded primary unreachable', () => {
  checkSituations(situations);
});
