// Node-local volumes on a cluster of two nodes, this file's own: a
// StatefulSet spread across the nodes gets each claim provisioned on the node
// its pod was scheduled to, in that node's directory; stopping the cluster
// (what `dev down` does) removes every volume and leaves no mount behind.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stopLocalCluster } from '../env/cluster/cluster.ts';
import { startE2eCluster } from '../env/cluster/shared.ts';
import { nodeVolumesDir } from '../env/cluster/storage.ts';
import { mariadbImageName } from '../env/images/images.ts';
import { kubectl } from '../env/kubectl.ts';
import { mountsUnder } from '../env/mounts.ts';

const cluster = await startE2eCluster(2);
let stopped = false;
after(async () => {
  if (!stopped) await stopLocalCluster(cluster);
});
const plane = cluster.controlPlane;
const namespace = 'spread';
const labels = { app: 'spread' };

interface Volume {
  metadata: { name: string };
  spec: { local?: { path: string }; claimRef?: { name: string }; nodeAffinity?: { required?: { nodeSelectorTerms: { matchExpressions: { values: string[] }[] }[] } } };
}

const volumePaths: string[] = [];

describe('node-local volumes on two nodes', () => {
  it('each claim of a StatefulSet spread across the nodes is on its own pod\'s node', () => {
    const statefulSet = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'spread', namespace },
      spec: {
        serviceName: 'spread',
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 1,
            affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' }] } },
            containers: [
              {
                name: 'writer',
                image: mariadbImageName,
                imagePullPolicy: 'IfNotPresent',
                command: ['sh', '-c', 'hostname > /data/written-by && exec sleep 3600'],
                readinessProbe: { exec: { command: ['test', '-f', '/data/written-by'] }, periodSeconds: 1 },
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Mi' } } } }],
      },
    };
    kubectl(plane, ['create', 'namespace', namespace]);
    kubectl(plane, ['apply', '--server-side', '--field-manager=flightdeck-e2e', '-f', '-'], JSON.stringify(statefulSet));
    kubectl(plane, ['rollout', 'status', 'statefulset/spread', '-n', namespace, '--timeout=180s']);

    const pods = (JSON.parse(kubectl(plane, ['get', 'pods', '-n', namespace, '-o', 'json'])) as { items: { metadata: { name: string }; spec: { nodeName: string } }[] }).items;
    const nodeOfPod = new Map(pods.map((p) => [p.metadata.name, p.spec.nodeName]));
    assert.deepEqual([...nodeOfPod.values()].sort(), ['node-1', 'node-2'], 'one pod per node');
    const volumes = (JSON.parse(kubectl(plane, ['get', 'pv', '-o', 'json'])) as { items: Volume[] }).items;
    assert.equal(volumes.length, 2);
    for (const volume of volumes) {
      const pod = (volume.spec.claimRef?.name ?? '').replace(/^data-/, '');
      const nodeName = nodeOfPod.get(pod) ?? '';
      const node = cluster.nodes.find((n) => n.network.name === nodeName);
      assert.ok(node !== undefined, `${volume.metadata.name}'s pod ${pod} is on a node of the cluster`);
      assert.deepEqual(volume.spec.nodeAffinity?.required?.nodeSelectorTerms.map((t) => t.matchExpressions.map((e) => e.values)), [[[nodeName]]]);
      const path = volume.spec.local?.path ?? '';
      assert.equal(path, join(nodeVolumesDir(node.dir), volume.metadata.name));
      assert.equal(readFileSync(join(path, 'written-by'), 'utf8').trim(), pod, 'the pod wrote into its node\'s directory');
      volumePaths.push(path);
    }
  });

  it('stopping the cluster, as dev down does, removes the volumes and leaves no mount', async () => {
    assert.ok(volumePaths.length === 2 && volumePaths.every((p) => existsSync(p)));
    stopped = true;
    await stopLocalCluster(cluster);
    assert.deepEqual(volumePaths.filter((p) => existsSync(p)), []);
    assert.deepEqual(mountsUnder(cluster.dir), []);
    assert.equal(existsSync(cluster.dir), false);
  });
});
