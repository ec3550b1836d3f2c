import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodObject } from './pods.ts';
import { instanceObservations, seedIsRunning } from './pods.ts';

type SeedStatus = NonNullable<NonNullable<PodObject['status']>['initContainerStatuses']>[number];

function pod(name: string, seed: Partial<SeedStatus> | undefined, annotations: Record<string, string> = {}): PodObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', annotations },
    status: { phase: 'Pending', ...(seed === undefined ? {} : { initContainerStatuses: [{ name: 'seed', restartCount: 0, ...seed }] }) },
  };
}

describe('seedIsRunning', () => {
  it('is true while the seed init container runs, or waits to run again after a failed copy', () => {
    assert.equal(seedIsRunning(pod('db-1', { state: { running: {} } })), true);
    assert.equal(seedIsRunning(pod('db-1', { state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } }, restartCount: 1 })), true);
  });

  it('is false before its first start, once it finished, without one, and for a pod being deleted', () => {
    assert.equal(seedIsRunning(pod('db-1', { state: { waiting: { reason: 'PodInitializing' } } })), false);
    assert.equal(seedIsRunning(pod('db-1', { state: { terminated: { exitCode: 0 } } })), false);
    assert.equal(seedIsRunning(pod('db-1', undefined)), false);
    const deleting = pod('db-1', { state: { running: {} } });
    deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    assert.equal(seedIsRunning(deleting), false);
  });
});

describe('instanceObservations: seeding and rebuild requests', () => {
  it('carries the donor the pod annotation names, and a rebuild request', () => {
    const observed = instanceObservations(
      'db',
      3,
      [
        pod('db-1', { state: { running: {} } }, { 'flightdeck.t7.io/seed-donor': 'db-0' }),
        pod('db-2', { state: { terminated: { exitCode: 0 } } }, { 'flightdeck.t7.io/rebuild': 'now' }),
      ],
      () => undefined,
      new Map(),
    );
    const byName = new Map(observed.map((i) => [i.name, i]));
    assert.deepEqual(byName.get('db-1')?.seeding, { donor: 'db-0' });
    assert.equal(byName.get('db-1')?.rebuildRequested, undefined);
    assert.equal(byName.get('db-2')?.seeding, undefined);
    assert.equal(byName.get('db-2')?.rebuildRequested, true);
    assert.equal(byName.get('db-0')?.exists, false);
  });

  it('a seed waiting for its first donor has none; an empty rebuild annotation asks nothing', () => {
    const one = instanceObservations('db', 2, [pod('db-1', { state: { running: {} } }, { 'flightdeck.t7.io/rebuild': ' ' })], () => undefined, new Map()).find((i) => i.index === 1);
    assert.ok(one !== undefined);
    assert.deepEqual(one.seeding, { donor: undefined });
    assert.equal(one.rebuildRequested, undefined);
  });
});
