import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clusterLabels,
  hasLabels,
  labelKeys,
  readerSelector,
  readerServiceSelector,
  roleLabels,
  sameLabels,
  selectorLabels,
  selectorString,
  writerSelector,
} from './labels.ts';

describe('labels', () => {
  it('names the cluster in the recommended labels and our own', () => {
    assert.deepEqual(clusterLabels('db'), {
      'app.kubernetes.io/name': 'mariadb',
      'app.kubernetes.io/instance': 'db',
      'app.kubernetes.io/managed-by': 'flightdeck-operator',
      'flightdeck.t7.io/cluster': 'db',
    });
  });

  it('selects the writer by role, the reader Service by serves-reads, and both within the cluster', () => {
    assert.equal(writerSelector('db')[labelKeys.role], 'writer');
    assert.equal(readerSelector('db')[labelKeys.role], 'reader');
    assert.equal(readerServiceSelector('db')[labelKeys.servesReads], 'true');
    for (const selector of [writerSelector('db'), readerSelector('db'), readerServiceSelector('db')]) {
      assert.ok(hasLabels(selector, selectorLabels('db')));
      assert.ok(!hasLabels(selector, selectorLabels('other')));
    }
  });

  it('a pod labelled by roleLabels is selected by exactly the Services it should be', () => {
    const pod = (role: 'writer' | 'reader', servesReads: boolean) => ({ ...clusterLabels('db'), ...roleLabels(role, servesReads) });
    assert.ok(hasLabels(pod('writer', false), writerSelector('db')));
    assert.ok(!hasLabels(pod('writer', false), readerServiceSelector('db')));
    assert.ok(hasLabels(pod('writer', true), readerServiceSelector('db')), 'the writer serves reads when no reader can');
    assert.ok(hasLabels(pod('reader', true), readerServiceSelector('db')));
    assert.ok(!hasLabels(pod('reader', false), readerServiceSelector('db')));
    assert.ok(!hasLabels(pod('reader', true), writerSelector('db')));
    assert.deepEqual(roleLabels('reader', false), { 'flightdeck.t7.io/role': 'reader' });
  });

  it('compares label maps by content, not by key order', () => {
    assert.ok(sameLabels({ a: '1', b: '2' }, { b: '2', a: '1' }));
    assert.ok(sameLabels(undefined, {}));
    assert.ok(!sameLabels({ a: '1' }, { a: '1', b: '2' }));
    assert.ok(!sameLabels({ a: '1', b: '2' }, { a: '1' }));
    assert.ok(!sameLabels({ a: '1' }, { a: '2' }));
    assert.ok(!sameLabels({ a: '' }, { b: '' }));
  });

  it('writes a selector for list requests', () => {
    assert.equal(
      selectorString(writerSelector('db')),
      'app.kubernetes.io/name=mariadb,app.kubernetes.io/instance=db,flightdeck.t7.io/cluster=db,flightdeck.t7.io/role=writer',
    );
  });
});
