// Triggers declared beside a controller, on a real kube-apiserver: the kinds
// a managed cluster is made of queue the cluster that owns them, a Node queues
// the clusters with an instance on it, and the informers behind them cache
// only what the operator manages, slimmed. All informers share one transport.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { cachedNode, managedBySelector, type NodeObject } from '../../src/controllers/context.ts';
import { addPodsByNodeIndex, ownersOfPodsOnNode, type ScheduledPod } from '../../src/controllers/indexes.ts';
import { Informer, type KubeObject } from '../../src/runtime/informer.ts';
import { KubeTransport } from '../../src/runtime/kube-request.ts';
import { labelled, owns, watches } from '../../src/runtime/triggers.ts';
import { kubectl, type KubectlTarget } from '../env/kubectl.ts';
import { testEnvironment } from '../env/shared.ts';
import { capturedLogger, eventually, freshNamespace, kubeConfigOf } from './runtime-kube-support.ts';

const k: KubectlTarget = (await testEnvironment()).controlPlane;
const access = kubeConfigOf(k);
const transport = new KubeTransport(access);
const informers: Informer<KubeObject>[] = [];

after(() => {
  for (const informer of informers) informer.stop();
  transport.destroy();
});

const instanceLabel = 'app.kubernetes.io/instance';
const managed = { 'app.kubernetes.io/managed-by': 'flightdeck-operator' };

function apply(...objects: object[]): void {
  kubectl(k, ['apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
}

function informer<T extends KubeObject>(apiVersion: string, plural: string, extra: { labelSelector?: string; transform?: (o: KubeObject) => KubeObject } = {}): Informer<T> {
  const made = new Informer<T>({ kubeConfig: access, transport, apiVersion, plural, logger: capturedLogger().logger, ...extra });
  informers.push(made as unknown as Informer<KubeObject>);
  return made;
}

function pod(namespace: string, name: string, nodeName: string, labels: Record<string, string>): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    // Bound to a node by name: no scheduler or kubelet needed for the object to exist.
    spec: { nodeName, automountServiceAccountToken: false, containers: [{ name: 'mariadb', image: 'mariadb:10.11' }] },
  };
}

describe('triggers on a real API server', () => {
  it('owned and labelled children and Nodes queue the cluster, from informers that hold only managed objects', async () => {
    const ns = freshNamespace(k, 'triggers');
    // No controller manager runs here to create it; Pods need it.
    kubectl(k, ['create', 'serviceaccount', 'default', '-n', ns]);
    const nodeA = `node-a-${process.pid}`;
    const nodeB = `node-b-${process.pid}`;
    apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeA } }, { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeB } });
    after(() => {
      kubectl(k, ['delete', 'node', nodeA, nodeB, '--wait=false']);
    });
    kubectl(k, [
      'patch', 'node', nodeA, '--subresource=status', '--type=merge',
      '-p', JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True' }], images: [{ names: ['mariadb:10.11'], sizeBytes: 123 }] } }),
    ]);
    apply({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: 'main', namespace: ns }, spec: {} });
    const clusterUid = kubectl(k, ['get', 'mysqlcluster', 'main', '-n', ns, '-o', 'jsonpath={.metadata.uid}']);
    const ownedByMain = [{ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', name: 'main', uid: clusterUid, controller: true }];
    apply(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'main', namespace: ns, labels: managed, ownerReferences: ownedByMain }, spec: { ports: [{ port: 3306 }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'unmanaged', namespace: ns }, spec: { ports: [{ port: 3306 }] } },
      pod(ns, 'main-0', nodeA, { ...managed, [instanceLabel]: 'main' }),
      pod(ns, 'other-0', nodeB, { ...managed, [instanceLabel]: 'other' }),
      pod(ns, 'stray', nodeA, { [instanceLabel]: 'main' }),
    );

    const pods = informer<ScheduledPod>('v1', 'pods', { labelSelector: managedBySelector });
    addPodsByNodeIndex(pods);
    const services = informer<KubeObject>('v1', 'services', { labelSelector: managedBySelector });
    const nodes = informer<NodeObject>('v1', 'nodes', { transform: cachedNode });
    const queued: string[] = [];
    const enqueue = (key: string): void => {
      queued.push(key);
    };
    for (const trigger of [
      owns(services, 'services owned by MySQLCluster', { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster' }),
      labelled(pods, 'pods of a cluster', instanceLabel),
      watches(nodes, 'clusters with an instance on the node', ownersOfPodsOnNode(pods, (p) => `${p.metadata.namespace ?? ''}/${p.metadata.labels?.[instanceLabel] ?? ''}`)),
    ]) {
      trigger.connect(enqueue);
    }
    // The node trigger finds a node's clusters in the pod cache, so the pods
    // are listed first: with all three listed at once (as the operator does,
    // where each pod queues its own cluster anyway), whether the node list
    // sees the pods is a race, and the counts below would vary.
    await pods.start();
    await Promise.all([services.start(), nodes.start()]);

    assert.deepEqual(pods.list(ns).map((p) => p.metadata.name).sort(), ['main-0', 'other-0'], 'the unlabelled Pod is not sent');
    assert.deepEqual(services.list(ns).map((s) => s.metadata.name), ['main'], 'the unmanaged Service is not sent');
    const cached = nodes.get(undefined, nodeA);
    assert.ok(cached !== undefined);
    assert.deepEqual(cached.status?.conditions?.map((c) => c.type), ['Ready']);
    assert.equal(Object.hasOwn(cached.status ?? {}, 'images'), false, 'the image list is not cached');
    const initial = queued.filter((key) => key.startsWith(`${ns}/`)).sort();
    assert.deepEqual(initial, [`${ns}/main`, `${ns}/main`, `${ns}/main`, `${ns}/other`, `${ns}/other`], 'the initial list queues every owner');

    queued.length = 0;
    kubectl(k, ['label', 'node', nodeA, 'topology.kubernetes.io/zone=z1']);
    await eventually('the node change to queue its cluster', () => queued.includes(`${ns}/main`));
    assert.ok(!queued.includes(`${ns}/other`), 'a cluster with no instance on the node is not queued');

    queued.length = 0;
    kubectl(k, ['annotate', 'service', 'main', '-n', ns, 'touched=yes']);
    await eventually('the service change to queue its owner', () => queued.includes(`${ns}/main`));

    queued.length = 0;
    kubectl(k, ['delete', 'pod', 'other-0', '-n', ns, '--grace-period=0', '--force']);
    await eventually('the deleted pod to queue its cluster', () => queued.includes(`${ns}/other`));

    const open = transport.openConnections();
    assert.equal(open.watches, 3, 'one watch connection per informer');
    assert.ok(open.requests <= 3, `lists reuse a few connections (${open.requests})`);
  });
});
