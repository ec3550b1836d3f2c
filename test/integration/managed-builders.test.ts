// The managed cluster's objects, as the builders make them, applied to a real
// kube-apiserver with server-side apply, as the operator will: the API server
// accepts every field (probes, downward API paths, budgets, claim templates),
// a second apply changes nothing, and the StatefulSet's claim template must
// be kept as created (Kubernetes refuses changes to it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { MySQLCluster } from '../../src/api/mysqlcluster.ts';
import { clusterIntent } from '../../src/api/normalize.ts';
import { managedClusterObjects, type ManagedClusterInput } from '../../src/controllers/cluster/managed/builders/all.ts';
import type { VolumeClaimTemplate } from '../../src/controllers/cluster/managed/builders/statefulset.ts';
import { kubectl, kubectlResult, type KubectlTarget } from '../env/kubectl.ts';
import { testEnvironment } from '../env/shared.ts';

// At the top level, so that an environment of this file's own lives as long as the file.
const k: KubectlTarget = (await testEnvironment()).controlPlane;

let counter = 0;
function namespace(): string {
  const name = `managed-${process.pid}-${++counter}`;
  kubectl(k, ['create', 'namespace', name]);
  return name;
}

const fieldManager = 'flightdeck-operator';

function serverSideApply(manifests: readonly object[]): ReturnType<typeof kubectlResult> {
  return kubectlResult(k, ['apply', '--server-side', `--field-manager=${fieldManager}`, '-f', '-'], manifests.map((m) => stringify(m)).join('---\n'));
}

/** Creates the MySQLCluster (the owner the children point at) and returns the builders' input for it. */
function cluster(ns: string, spec: MySQLCluster['spec']): ManagedClusterInput {
  const manifest: MySQLCluster = { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: 'db', namespace: ns }, spec };
  kubectl(k, ['apply', '-f', '-'], stringify(manifest));
  const uid = kubectl(k, ['get', 'mysqlcluster', 'db', '-n', ns, '-o', 'jsonpath={.metadata.uid}']).trim();
  const managed = clusterIntent(manifest).managed;
  assert.ok(managed);
  return { owner: { name: 'db', namespace: ns, uid }, managed, passwords: { root: 'r00t-pw', replication: 'repl-pw', operator: 'op-pw', manager: 'mgr-pw' }, nodeCount: 3 };
}

function resourceVersions(ns: string): string {
  return kubectl(k, ['get', 'statefulset,service,configmap,secret,poddisruptionbudget', '-n', ns, '-l', 'flightdeck.t7.io/cluster=db', '-o', 'jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion} {end}']);
}

describe('managed cluster objects on a real API server', () => {
  it('are all accepted by server-side apply, and a second apply changes nothing', () => {
    const ns = namespace();
    const input = cluster(ns, { readerCount: 2, size: '20Gi', myCnf: 'max_connections = 500', priorityClassName: 'system-cluster-critical', tolerations: [{ key: 'db', operator: 'Exists' }] });
    const objects = managedClusterObjects(input);
    const first = serverSideApply(objects.inApplyOrder);
    assert.equal(first.status, 0, first.stderr);
    const before = resourceVersions(ns);
    assert.equal(before.trim().split(' ').length, 8, before);
    const again = serverSideApply(managedClusterObjects(input).inApplyOrder);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(resourceVersions(ns), before, 'a second apply of the same objects wrote something');

    const sts = JSON.parse(kubectl(k, ['get', 'statefulset', 'db', '-n', ns, '-o', 'json'])) as {
      metadata: { ownerReferences: { kind: string; uid: string; controller: boolean }[] };
      spec: { replicas: number; updateStrategy: { type: string }; template: { spec: { containers: { env: { name: string }[] }[] } }; volumeClaimTemplates: { spec: { resources: { requests: { storage: string } } } }[] };
    };
    assert.equal(sts.spec.replicas, 3);
    assert.equal(sts.spec.updateStrategy.type, 'OnDelete');
    assert.deepEqual(sts.metadata.ownerReferences.map((r) => [r.kind, r.uid, r.controller]), [['MySQLCluster', input.owner.uid, true]]);
    assert.equal(sts.spec.volumeClaimTemplates[0]?.spec.resources.requests.storage, '20Gi');
    const writer = JSON.parse(kubectl(k, ['get', 'service', 'db', '-n', ns, '-o', 'json'])) as { spec: { selector: Record<string, string> } };
    assert.equal(writer.spec.selector['flightdeck.t7.io/role'], 'writer');
    const secretKeys = kubectl(k, ['get', 'secret', 'db-credentials', '-n', ns, '-o', 'jsonpath={.data}']);
    for (const key of ['root-password', 'replication-password-hash', 'operator-password-hash', 'initdb.sql']) assert.ok(secretKeys.includes(`"${key}"`), key);
  });

  it('a larger size: the claim template is kept (Kubernetes refuses to change it) and the rest applies', () => {
    const ns = namespace();
    const input = cluster(ns, { readerCount: 1, size: '10Gi' });
    assert.equal(serverSideApply(managedClusterObjects(input).inApplyOrder).status, 0);
    const grown = cluster(ns, { readerCount: 1, size: '30Gi' });

    const naive = serverSideApply([managedClusterObjects(grown).statefulSet]);
    assert.notEqual(naive.status, 0, 'the API server accepted a changed claim template');
    assert.match(naive.stderr, /Forbidden: updates to statefulset spec for fields other than/);

    const existing = JSON.parse(kubectl(k, ['get', 'statefulset', 'db', '-n', ns, '-o', 'jsonpath={.spec.volumeClaimTemplates[0]}'])) as VolumeClaimTemplate;
    const kept = serverSideApply([managedClusterObjects({ ...grown, existingClaimTemplate: existing }).statefulSet]);
    assert.equal(kept.status, 0, kept.stderr);
  });

  it('scaling to one instance: the budgets are no longer built (the reconciler deletes them), fewer replicas apply', () => {
    const ns = namespace();
    const objects = managedClusterObjects(cluster(ns, { readerCount: 0 }));
    assert.deepEqual(objects.disruptionBudgets, []);
    const result = serverSideApply(objects.inApplyOrder);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(kubectl(k, ['get', 'statefulset', 'db', '-n', ns, '-o', 'jsonpath={.spec.replicas}']), '1');
  });
});
