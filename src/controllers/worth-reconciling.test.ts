import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../runtime/informer.ts';
import type { SecretObject } from './context.ts';
import { sameLabels, secretChangeMatters, worthReconciling } from './worth-reconciling.ts';

const user = (metadata: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  metadata: { name: 'site', namespace: 'shop', generation: 1, resourceVersion: '10', ...metadata },
});

describe('worthReconciling', () => {
  it('queues adds, deletes and periodic resyncs', () => {
    const object = user();
    assert.equal(worthReconciling('add', object, undefined), true);
    assert.equal(worthReconciling('delete', object, object), true);
    assert.equal(worthReconciling('update', object, object), true);
  });

  it('queues a new spec, a deletion, changed labels and a removed finalizer', () => {
    const before = user({ finalizers: ['flightdeck.t7.io/drop-user'] });
    assert.equal(worthReconciling('update', user({ generation: 2, finalizers: ['flightdeck.t7.io/drop-user'] }), before), true);
    assert.equal(
      worthReconciling('update', user({ deletionTimestamp: '2026-11-26T00:00:00Z', finalizers: ['flightdeck.t7.io/drop-user'] }), before),
      true,
    );
    assert.equal(worthReconciling('update', user({ labels: { tier: 'gold' }, finalizers: ['flightdeck.t7.io/drop-user'] }), before), true);
    assert.equal(worthReconciling('update', user({ finalizers: [] }), before), true);
    assert.equal(worthReconciling('update', user({ finalizers: ['other.io/keep'] }), before), true);
  });

  it('skips a status write and a finalizer just added', () => {
    const before = user();
    assert.equal(worthReconciling('update', user({ resourceVersion: '11' }), before), false);
    assert.equal(worthReconciling('update', user({ resourceVersion: '11', finalizers: ['flightdeck.t7.io/drop-user'] }), before), false);
  });
});

describe('secretChangeMatters', () => {
  const secret = (data: Record<string, string>, labels?: Record<string, string>, owner?: string): SecretObject => ({
    metadata: {
      name: 'site-password',
      namespace: 'shop',
      ...(labels === undefined ? {} : { labels }),
      ...(owner === undefined ? {} : { ownerReferences: [{ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLUser', name: 'site', uid: owner }] }),
    },
    data,
  });
  const ours = { 'app.kubernetes.io/managed-by': 'flightdeck-operator' };

  it("skips a Secret the operator just created, but not one somebody else created", () => {
    assert.equal(secretChangeMatters('add', secret({ password: 'eA==' }, ours, 'uid-1'), undefined), false);
    assert.equal(secretChangeMatters('add', secret({ password: 'eA==' }), undefined), true);
    assert.equal(secretChangeMatters('add', secret({ password: 'eA==' }, { 'app.kubernetes.io/managed-by': 'helm' }), undefined), true);
  });

  it('queues a deletion, an edited value and new owners, even of the operator’s own Secrets', () => {
    const before = secret({ password: 'eA==' }, ours, 'uid-1');
    assert.equal(secretChangeMatters('delete', before, before), true);
    assert.equal(secretChangeMatters('update', secret({ password: 'eQ==' }, ours, 'uid-1'), before), true);
    assert.equal(secretChangeMatters('update', secret({ password: 'eA==' }, ours, 'uid-2'), before), true);
  });

  it('skips an update that changes neither data nor owners', () => {
    const before = secret({ password: 'eA==' }, ours, 'uid-1');
    assert.equal(secretChangeMatters('update', secret({ password: 'eA==' }, { ...ours, extra: 'label' }, 'uid-1'), before), false);
  });
});

describe('sameLabels', () => {
  it('compares by content, not by the order the keys came in', () => {
    assert.equal(sameLabels({ a: '1', b: '2' }, { b: '2', a: '1' }), true);
    assert.equal(sameLabels(undefined, {}), true);
    assert.equal(sameLabels({ a: '1' }, { a: '2' }), false);
    assert.equal(sameLabels({ a: '1' }, { a: '1', b: '2' }), false);
    assert.equal(sameLabels({ a: '1', b: '2' }, { a: '1', c: '2' }), false);
    assert.equal(sameLabels({ a: '' }, {}), false);
  });

  it('lets a reordered but equal label map pass as no change', () => {
    const before: KubeObject = { metadata: { name: 'n', generation: 1, labels: { x: '1', y: '2' } } };
    const after: KubeObject = { metadata: { name: 'n', generation: 1, labels: { y: '2', x: '1' } } };
    assert.equal(worthReconciling('update', after, before), false);
  });
});
