import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimName, clusterNames, podDnsName, podIndex, podName } from './names.ts';
import { childMetadata, ownerReference } from './owner.ts';

describe('names', () => {
  it('names the objects after the cluster, the writer Service after spec.service.name', () => {
    assert.deepEqual(clusterNames('db', { serviceName: 'db' }), {
      statefulSet: 'db',
      instancesService: 'db-instances',
      writerService: 'db',
      readerService: 'db-readers',
      writerDisruptionBudget: 'db-writer',
      readerDisruptionBudget: 'db-readers',
      configMap: 'db-config',
      credentialsSecret: 'db-credentials',
    });
    assert.equal(clusterNames('fdo', { serviceName: 'fdo-mysqlcluster' }).writerService, 'fdo-mysqlcluster');
  });

  it('gives pods their ordinal and finds it again', () => {
    assert.equal(podName('db', 2), 'db-2');
    assert.equal(podIndex('db', 'db-2'), 2);
    assert.equal(podIndex('db', 'db-10'), 10);
    // Another cluster whose name starts like this one, and things that are not ordinals.
    assert.equal(podIndex('db', 'db-readers-0'), undefined);
    assert.equal(podIndex('db', 'dbx-0'), undefined);
    assert.equal(podIndex('db', 'db-01'), undefined);
    assert.equal(podIndex('db', 'db-'), undefined);
  });

  it('reaches a pod through the headless Service', () => {
    assert.equal(podDnsName('db', 'db-1', 'shop'), 'db-1.db-instances.shop.svc.cluster.local');
  });
});

describe('owner', () => {
  it('makes the MySQLCluster the controller of its children', () => {
    const owner = { name: 'db', namespace: 'shop', uid: '1234' };
    assert.deepEqual(ownerReference(owner), {
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLCluster',
      name: 'db',
      uid: '1234',
      controller: true,
      blockOwnerDeletion: true,
    });
    const meta = childMetadata(owner, 'db-config', { a: 'b' });
    assert.equal(meta.namespace, 'shop');
    assert.deepEqual(meta.labels, { a: 'b' });
  });
});

describe('claimName', () => {
  it('names an instance claim as the StatefulSet controller does', () => {
    assert.equal(claimName(clusterNames('db', { serviceName: 'db' }), 2), 'data-db-2');
  });
});
