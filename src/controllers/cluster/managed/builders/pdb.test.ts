import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterNames } from './names.ts';
import { disruptionBudgets } from './pdb.ts';

const owner = { name: 'db', namespace: 'shop', uid: 'u' };
const names = clusterNames('db', { serviceName: 'db' });

describe('disruptionBudgets', () => {
  it('keeps the writer from eviction and lets readers go one at a time', () => {
    const [writer, readers, ...rest] = disruptionBudgets(owner, names, 3);
    assert.deepEqual(rest, []);
    assert.ok(writer && readers);
    assert.equal(writer.metadata.name, 'db-writer');
    assert.equal(writer.spec.minAvailable, 1);
    assert.equal(writer.spec.maxUnavailable, undefined);
    assert.equal(writer.spec.selector.matchLabels['flightdeck.t7.io/role'], 'writer');
    assert.equal(readers.metadata.name, 'db-readers');
    // Two readers: one may go (a budget over a StatefulSet's subset must count with minAvailable).
    assert.equal(readers.spec.minAvailable, 1);
    assert.equal(readers.spec.maxUnavailable, undefined);
    assert.equal(readers.spec.selector.matchLabels['flightdeck.t7.io/role'], 'reader');
    for (const b of [writer, readers]) {
      assert.equal(b.spec.selector.matchLabels['flightdeck.t7.io/cluster'], 'db');
      assert.equal(b.spec.unhealthyPodEvictionPolicy, 'AlwaysAllow');
      assert.equal(b.metadata.ownerReferences[0]?.name, 'db');
    }
  });

  it('exists from two instances on, and not for one (it would block every drain forever)', () => {
    assert.equal(disruptionBudgets(owner, names, 2).length, 2);
    assert.deepEqual(disruptionBudgets(owner, names, 1), []);
  });
});
