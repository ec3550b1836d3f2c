// decide() over thousands of generated clusters (a seeded generator, so a
// failure reproduces): whatever the mix of pods, servers, positions and
// errors, the rules that protect data hold.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from './decide.ts';
import { instance, replicaOf, server } from './fixtures.test.ts';
import { containsGtidPosition, formatGtidList } from './gtid.ts';
import type { ClusterObservation, InstanceObservation } from './observations.ts';
import { startOperation } from './operation.ts';
import { receivedPosition } from './targets.ts';

/** Mulberry32: small, fast, and the same sequence for the same seed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCluster(random: () => number): ClusterObservation {
  const pick = <T>(options: readonly T[]): T => options[Math.floor(random() * options.length)] as T;
  const count = pick([1, 2, 3, 4]);
  const names = Array.from({ length: count }, (_, i) => `db-${i}`);
  const position = () => pick(['', '0-1-90', '0-1-100', '0-1-101', '0-2-101', '0-2-120', '0-1-100,1-3-2']);
  const instances: InstanceObservation[] = names.map((_, index) => {
    const exists = random() > 0.1;
    const reachable = exists && random() > 0.25;
    const pos = position();
    const replica =
      random() > 0.3
        ? replicaOf(pick([...names, undefined]), {
            ioPos: pick([pos, position()]),
            ioThread: pick(['Yes', 'Yes', 'Connecting', 'No'] as const),
            sqlRunning: random() > 0.2,
            secondsBehind: pick([0, 1, 30, undefined]),
            lastIoErrno: pick([0, 0, 0, 1236, 2003]),
            lastSqlErrno: pick([0, 0, 0, 1062, 1205]),
          })
        : undefined;
    return instance(index, {
      exists,
      podReady: reachable && random() > 0.1,
      podDeleting: random() > 0.85,
      nodeUnschedulable: random() > 0.85,
      server: reachable ? server({ serverId: index + 1, readOnly: random() > 0.3, pos, state: pick([undefined, '0-1-100,0-2-101']), replica }) : undefined,
    });
  });
  const currentPrimary = pick([...names, undefined]);
  const operation =
    random() > 0.9 && currentPrimary !== undefined
      ? startOperation({ kind: 'failover', from: currentPrimary, to: pick(names), reason: 'generated' }, new Date(0))
      : undefined;
  return {
    nowMs: 100_000,
    instanceCount: count - (random() > 0.85 && count > 1 ? 1 : 0),
    desiredPrimaryIndex: pick([undefined, undefined, 0, count - 1]),
    autoFailover: random() > 0.1,
    failoverAfterMs: 5000,
    writerSemiSync: true,
    primaryUnreachableSinceMs: pick([undefined, 99_000, 90_000]),
    status: { currentPrimary, operation },
    instances,
  };
}

describe('decide invariants over generated clusters', () => {
  it('never loses what a replica received, never acts on the primary as on a replica, never starts a second operation', () => {
    const random = generator(20261202);
    const seen = new Map<string, number>();
    for (let run = 0; run < 5000; run++) {
      const observation = randomCluster(random);
      const decision = decide(observation);
      seen.set(decision.kind, (seen.get(decision.kind) ?? 0) + 1);
      const context = `run ${run}: ${JSON.stringify(decision, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}`;
      const primary = observation.status.currentPrimary;
      const byName = (name: string) => observation.instances.find((i) => i.name === name);

      if (observation.status.operation !== undefined) {
        assert.equal(decision.kind, 'continue', context);
        continue;
      }
      switch (decision.kind) {
        case 'failover': {
          assert.equal(decision.from, primary, context);
          const target = byName(decision.to)?.server;
          assert.ok(target !== undefined, context);
          for (const other of observation.instances) {
            if (other.name === primary || other.server === undefined || other.server.replica?.sourceHost !== primary) continue;
            assert.ok(
              containsGtidPosition(receivedPosition(target), receivedPosition(other.server)),
              `${context}: ${decision.to} (${formatGtidList(receivedPosition(target))}) lacks what ${other.name} received`,
            );
          }
          break;
        }
        case 'switchover': {
          const target = byName(decision.to);
          assert.ok(target !== undefined && !target.podDeleting && !target.nodeUnschedulable && target.server !== undefined, context);
          assert.notEqual(decision.to, primary, context);
          break;
        }
        case 'rebuild':
        case 'quarantine':
          assert.notEqual(decision.instance, primary, context);
          break;
        case 'fence':
          if (primary !== undefined) assert.ok(!decision.instances.includes(primary), context);
          break;
        case 'configureReplicas':
          assert.equal(decision.primary, primary, context);
          assert.ok(!decision.instances.some((i) => i.instance === primary), context);
          break;
        case 'bootstrap':
          assert.equal(primary, undefined, context);
          break;
        default:
          break;
      }
    }
    // The generator must reach the interesting decisions, or the invariants prove little.
    for (const kind of ['failover', 'switchover', 'rebuild', 'quarantine', 'fence', 'configureReplicas', 'bootstrap', 'blocked', 'wait', 'continue']) {
      assert.ok((seen.get(kind) ?? 0) > 0, `no generated cluster led to ${kind}: ${JSON.stringify([...seen])}`);
    }
  });
});
