import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cachedNode, cachedSecret, managedBySelector, type NodeObject, type SecretObject } from './context.ts';

const secret = (type: string | undefined): SecretObject => ({
  metadata: { name: 'x', namespace: 'shop' },
  ...(type === undefined ? {} : { type }),
  data: { password: 'c2VjcmV0' },
});

describe('cachedSecret', () => {
  it('drops the data of Helm release records and ServiceAccount tokens', () => {
    assert.deepEqual(cachedSecret(secret('helm.sh/release.v1')).data, {});
    assert.deepEqual(cachedSecret(secret('kubernetes.io/service-account-token')).data, {});
    assert.equal(cachedSecret(secret('helm.sh/release.v1')).metadata.name, 'x');
  });

  it('keeps every other Secret as it is: passwords, admin credentials and CA certificates live in them', () => {
    for (const type of [undefined, 'Opaque', 'kubernetes.io/tls', 'kubernetes.io/basic-auth']) {
      const original = secret(type);
      assert.equal(cachedSecret(original), original, String(type));
    }
  });
});

describe('cachedNode', () => {
  it('keeps what tells a node ready, cordoned or tainted, and drops the image list and the like', () => {
    const node: NodeObject = {
      metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } },
      spec: { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
        images: [{ names: ['mariadb:10.11'], sizeBytes: 1 }],
        volumesInUse: ['x'],
        nodeInfo: { kubeletVersion: 'v1.35.0' },
      },
    };
    const cached = cachedNode(node);
    assert.deepEqual(cached.spec, node.spec);
    assert.deepEqual(cached.metadata, node.metadata);
    assert.deepEqual(cached.status, { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] });
  });
});

describe('managedBySelector', () => {
  it('selects what the operator labels as its own', () => {
    assert.equal(managedBySelector, 'app.kubernetes.io/managed-by=flightdeck-operator');
  });
});
