import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterIntent } from '../../../../api/normalize.ts';
import { managedClusterObjects } from './all.ts';
import { configChecksumAnnotation } from './statefulset.ts';

describe('managedClusterObjects', () => {
  const intent = clusterIntent({
    apiVersion: 'flightdeck.t7.io/v1',
    kind: 'MySQLCluster',
    metadata: { name: 'mysqlcluster-sample', namespace: 'my-db-namespace' },
    spec: { size: '20Gi', readerCount: 2, myCnf: 'max_connections = 500' },
  });
  assert.ok(intent.managed);
  const objects = managedClusterObjects({
    owner: { name: 'mysqlcluster-sample', namespace: 'my-db-namespace', uid: 'u' },
    managed: intent.managed,
    passwords: { root: 'a', replication: 'b', operator: 'c', manager: 'd' },
    nodeCount: 3,
  });

  it("builds the problem statement's cluster: every object in its namespace, owned by it but the credentials Secret, mounted things first", () => {
    assert.deepEqual(
      objects.inApplyOrder.map((o) => `${o.kind}/${o.metadata.name}`),
      [
        'Secret/mysqlcluster-sample-credentials',
        'ConfigMap/mysqlcluster-sample-config',
        'Service/mysqlcluster-sample-instances',
        'Service/mysqlcluster-sample',
        'Service/mysqlcluster-sample-readers',
        'PodDisruptionBudget/mysqlcluster-sample-writer',
        'PodDisruptionBudget/mysqlcluster-sample-readers',
        'StatefulSet/mysqlcluster-sample',
      ],
    );
    for (const o of objects.inApplyOrder) {
      assert.equal(o.metadata.namespace, 'my-db-namespace');
      // All but the credentials Secret, which outlives the cluster like its volumes (secrets.ts).
      const owners = 'ownerReferences' in o.metadata ? o.metadata.ownerReferences.map((r) => `${r.kind}/${r.name}/${r.controller}`) : [];
      assert.deepEqual(owners, o.kind === 'Secret' ? [] : ['MySQLCluster/mysqlcluster-sample/true'], o.kind);
    }
  });

  it('ties the pieces together: the StatefulSet mounts the ConfigMap and Secret built, and carries their checksum', () => {
    assert.equal(objects.statefulSet.spec.replicas, 3);
    assert.equal(objects.statefulSet.spec.template.metadata.annotations[configChecksumAnnotation], objects.config.restartChecksum);
    assert.match(JSON.stringify(objects.statefulSet.spec.template.spec), new RegExp(`"${objects.configMap.metadata.name}"`));
    assert.match(JSON.stringify(objects.statefulSet.spec.template.spec), new RegExp(`"${objects.secret.metadata.name}"`));
    assert.deepEqual(objects.config.live, [{ name: 'max_connections', value: 500 }]);
  });
});
