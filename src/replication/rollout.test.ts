import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cluster, healthyPrimary, instance, replicaInstance, server, silent } from './fixtures.test.ts';
import type { ClusterObservation } from './observations.ts';
import { planRollout, type RolloutStep } from './rollout.ts';

const plan = (observation: ClusterObservation, outdated: readonly string[], maxLagSeconds = 10): RolloutStep =>
  planRollout({ observation, outdated: new Set(outdated), maxLagSeconds });

interface Row {
  readonly name: string;
  readonly observation: ClusterObservation;
  readonly outdated: readonly string[];
  /** Fields the step must have exactly (besides reason and progress). */
  readonly expected: Record<string, unknown>;
  readonly reason?: RegExp;
  readonly progress?: { restarted: number; total: number };
}

const rows: Row[] = [
  { name: 'nothing outdated, all healthy: up to date', observation: cluster(), outdated: [], expected: { kind: 'upToDate', settling: [] }, progress: { restarted: 3, total: 3 } },
  {
    name: 'nothing outdated, a reader just restarted and not yet caught up: up to date, settling',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1, 'db-0', '0-1-100', { secondsBehind: 40 }), replicaInstance(2)] }),
    outdated: [],
    expected: { kind: 'upToDate', settling: ['db-1'] },
  },
  {
    name: 'all outdated and healthy: the highest reader first',
    observation: cluster(),
    outdated: ['db-0', 'db-1', 'db-2'],
    expected: { kind: 'restart', instance: 'db-2' },
    progress: { restarted: 0, total: 3 },
  },
  {
    name: 'one reader restarted and caught up: the next reader',
    observation: cluster(),
    outdated: ['db-0', 'db-1'],
    expected: { kind: 'restart', instance: 'db-1' },
    progress: { restarted: 1, total: 3 },
  },
  {
    name: 'a restarted reader still catching up: wait, never a second one down',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), replicaInstance(2, 'db-0', '0-1-90', { secondsBehind: 30 })] }),
    outdated: ['db-0', 'db-1'],
    expected: { kind: 'wait' },
    reason: /db-2 is 30s behind/,
  },
  {
    name: 'a restarted reader not configured yet (replication stopped after start): wait',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), instance(2, { server: server({ serverId: 3 }) })] }),
    outdated: ['db-0', 'db-1'],
    expected: { kind: 'wait' },
    reason: /db-2 does not replicate from db-0/,
  },
  {
    name: 'a restarted pod not ready yet: wait',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), silent(2)] }),
    outdated: ['db-0', 'db-1'],
    expected: { kind: 'wait' },
    reason: /db-2 is not ready/,
  },
  {
    name: 'a deleted pod not created again yet: wait',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), instance(2, { exists: false, podReady: false, server: undefined })] }),
    outdated: ['db-0', 'db-1'],
    expected: { kind: 'wait' },
    reason: /db-2 is being created/,
  },
  {
    name: 'a pod terminating: wait',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), instance(2, { podDeleting: true })] }),
    outdated: ['db-0', 'db-1', 'db-2'],
    expected: { kind: 'wait' },
    reason: /db-2 is terminating/,
  },
  {
    name: 'an outdated reader that is down already (a broken image being fixed): restarted at once',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), silent(2)] }),
    outdated: ['db-0', 'db-1', 'db-2'],
    expected: { kind: 'restart', instance: 'db-2' },
    reason: /out of service already/,
  },
  {
    name: 'only the writer outdated: switch over to a current reader',
    observation: cluster(),
    outdated: ['db-0'],
    expected: { kind: 'switchover', from: 'db-0', to: 'db-1' },
    reason: /rolling restart/,
    progress: { restarted: 2, total: 3 },
  },
  {
    name: 'only the writer outdated, spec.primary names db-2: switch over to it',
    observation: cluster({ desiredPrimaryIndex: 2 }),
    outdated: ['db-0'],
    expected: { kind: 'switchover', from: 'db-0', to: 'db-2' },
  },
  {
    name: 'after the switchover the old writer is an outdated reader: restarted',
    observation: cluster({ currentPrimary: 'db-1', instances: [replicaInstance(0, 'db-1'), instance(1, { server: server({ serverId: 2, readOnly: false }) }), replicaInstance(2, 'db-1')] }),
    outdated: ['db-0'],
    expected: { kind: 'restart', instance: 'db-0' },
  },
  {
    name: 'a switchover running: wait',
    observation: cluster({
      status: {
        currentPrimary: 'db-0',
        operation: { type: 'Switchover', from: 'db-0', to: 'db-1', reason: 'test', startedAt: '2026-01-01T00:00:00Z', attempt: 0, step: 'waitForCatchUp' },
      },
    }),
    outdated: ['db-0'],
    expected: { kind: 'wait' },
    reason: /switchover from db-0 to db-1 is running/,
  },
  {
    name: 'the writer does not answer: wait (failover is not the roll\'s business)',
    observation: cluster({ instances: [silent(0), replicaInstance(1), replicaInstance(2)] }),
    outdated: ['db-1', 'db-2'],
    expected: { kind: 'wait' },
    reason: /writer db-0 does not answer/,
  },
  {
    name: 'no writer recorded yet: wait',
    observation: cluster({ currentPrimary: undefined }),
    outdated: ['db-1'],
    expected: { kind: 'wait' },
    reason: /no writer/,
  },
  {
    name: 'a single instance: the writer restarts in place',
    observation: cluster({ instances: [healthyPrimary()], instanceCount: 1 }),
    outdated: ['db-0'],
    expected: { kind: 'restart', instance: 'db-0' },
    reason: /only instance/,
  },
  {
    name: 'only the writer outdated and the current reader lags beyond the switchover limit: wait',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1, 'db-0', '0-1-100', { secondsBehind: 8 })] , instanceCount: 2 }),
    outdated: ['db-0'],
    expected: { kind: 'wait' },
    reason: /no reader can take over yet: db-1 is more than 5s behind/,
  },
  {
    name: 'pods above the desired count (scaling down) are not rolled',
    observation: cluster({ instances: [healthyPrimary(), replicaInstance(1), replicaInstance(2), replicaInstance(3)] }),
    outdated: ['db-3'],
    expected: { kind: 'upToDate', settling: [] },
  },
];

describe('planRollout', () => {
  for (const row of rows) {
    it(row.name, () => {
      const step = plan(row.observation, row.outdated);
      const { reason, progress, ...rest } = step as RolloutStep & { reason?: string };
      assert.deepEqual(rest, row.expected);
      if (row.reason !== undefined) assert.match(reason ?? '', row.reason);
      if (row.progress !== undefined) assert.deepEqual(progress, row.progress);
    });
  }

  it('restarts every instance exactly once, readers first, the writer after one switchover, never two down at once', () => {
    // A simulated roll: each step is applied to the observation as the cluster would react.
    const names = ['db-0', 'db-1', 'db-2'];
    const outdated = new Set(names);
    let primary = 'db-0';
    const restarts: string[] = [];
    const switchovers: string[] = [];
    const build = (): ClusterObservation =>
      cluster({
        currentPrimary: primary,
        instances: names.map((name, index) =>
          name === primary ? instance(index, { server: server({ serverId: index + 1, readOnly: false }) }) : replicaInstance(index, primary),
        ),
      });
    for (let pass = 0; pass < 10; pass++) {
      const step = planRollout({ observation: build(), outdated, maxLagSeconds: 10 });
      if (step.kind === 'upToDate') break;
      if (step.kind === 'restart') {
        assert.notEqual(step.instance, primary, 'the writer is never restarted while it is the writer');
        restarts.push(step.instance);
        outdated.delete(step.instance);
      } else if (step.kind === 'switchover') {
        switchovers.push(`${step.from}->${step.to}`);
        primary = step.to;
      } else {
        assert.fail(`unexpected wait: ${step.reason}`);
      }
    }
    assert.deepEqual(restarts, ['db-2', 'db-1', 'db-0']);
    assert.deepEqual(switchovers, ['db-0->db-1']);
    assert.equal(outdated.size, 0);
  });
});
