// A local cluster of its own with two nodes: pods spread over both, a Service
// reaches a pod on the other node, and draining a node moves its pod — what
// the operator's failover and drain tests will rely on.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { startLocalCluster, stopLocalCluster } from '../env/cluster/cluster.ts';
import { mariadbImageName } from '../env/images/images.ts';
import { kubectl, kubectlResult } from '../env/kubectl.ts';

const cluster = await startLocalCluster({ dir: mkdtempSync(join(tmpdir(), 'flightdeck-e2e-nodes-')), nodes: 2 });
after(() => stopLocalCluster(cluster));
const plane = cluster.controlPlane;

interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: { phase: string; podIP?: string };
}

function pods(selector: string): Pod[] {
  return (JSON.parse(kubectl(plane, ['get', 'pods', '-l', selector, '-o', 'json'])) as { items: Pod[] }).items;
}

async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const labels = { app: 'spread' };

describe('a two-node local cluster', () => {
  it('has two Ready nodes with their own addresses', () => {
    const nodes = JSON.parse(kubectl(plane, ['get', 'nodes', '-o', 'json'])) as {
      items: { metadata: { name: string }; status: { addresses: { type: string; address: string }[] } }[];
    };
    const internal = nodes.items.map((n) => [n.metadata.name, n.status.addresses.find((a) => a.type === 'InternalIP')?.address]);
    assert.deepEqual(internal.map(([name]) => name).sort(), ['node-1', 'node-2']);
    assert.equal(new Set(internal.map(([, address]) => address)).size, 2);
  });

  it('spreads a Deployment over both nodes, and a Service reaches the pod on the other node', () => {
    kubectl(plane, ['apply', '--server-side', '--field-manager=flightdeck-e2e', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'spread', namespace: 'default' },
          spec: {
            replicas: 2,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: {
                terminationGracePeriodSeconds: 1,
                // Honor: a cordoned node is no spreading domain, so a drain can move pods together.
                topologySpreadConstraints: [
                  { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: labels } },
                ],
                containers: [{
                  name: 'mariadb',
                  image: mariadbImageName,
                  imagePullPolicy: 'IfNotPresent',
                  env: [{ name: 'MARIADB_ALLOW_EMPTY_ROOT_PASSWORD', value: '1' }],
                  readinessProbe: { tcpSocket: { port: 3306 }, periodSeconds: 1 },
                }],
              },
            },
          },
        },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'spread', namespace: 'default' }, spec: { selector: labels, ports: [{ port: 3306 }] } },
      ],
    }));
    kubectl(plane, ['rollout', 'status', 'deployment/spread', '--timeout=120s']);
    const placed = pods('app=spread');
    assert.deepEqual(placed.map((p) => p.spec.nodeName).sort(), ['node-1', 'node-2']);

    // From node-1, ask the Service until the pod on node-2 has answered: kube-proxy picks at random.
    const remote = placed.find((p) => p.spec.nodeName === 'node-2')?.metadata.name;
    const script = 'for i in $(seq 1 30); do mariadb -h spread.default.svc.cluster.local -uroot -N -B -e "SELECT @@hostname"; done';
    const result = kubectlResult(plane, [
      'run', 'probe', '--rm', '-i', '--restart=Never', `--image=${mariadbImageName}`, '--image-pull-policy=IfNotPresent',
      '--overrides={"spec":{"nodeName":"node-1"}}', '--command', '--', 'sh', '-c', script,
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.stdout.split('\n').includes(remote ?? '(none)'), `no answer from ${remote ?? '(none)'} in:\n${result.stdout}`);
  });

  it('draining node-2 moves its pod to node-1', async () => {
    kubectl(plane, ['drain', 'node-2', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=90s']);
    const node = JSON.parse(kubectl(plane, ['get', 'node', 'node-2', '-o', 'json'])) as { spec: { unschedulable?: boolean } };
    assert.equal(node.spec.unschedulable, true);
    const moved = await eventually('both pods Running on node-1', () => {
      const current = pods('app=spread');
      return current.length === 2 && current.every((p) => p.spec.nodeName === 'node-1' && p.status.phase === 'Running') ? current : undefined;
    });
    assert.equal(moved.length, 2);
  });
});
