// Real pods on the local cluster: a MariaDB server from the locally built
// image, run by a plain StatefulSet behind a Service, and a client pod of the
// same image that reaches it by the Service's DNS name (CoreDNS, then
// kube-proxy's rules on the node) and writes and reads a row.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { e2eCluster } from '../env/cluster/shared.ts';
import { mariadbImageName } from '../env/images/images.ts';
import { mariadbServerManifests } from './mariadb-manifests.ts';
import { kubectl, kubectlResult } from '../env/kubectl.ts';

const cluster = await e2eCluster();
const plane = cluster.controlPlane;
const namespace = `e2e-mariadb-${randomBytes(3).toString('hex')}`;
const rootPassword = randomBytes(12).toString('base64url');

function apply(objects: readonly unknown[]): void {
  kubectl(plane, ['apply', '--server-side', '--field-manager=flightdeck-e2e', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

interface PodStatus {
  spec: { nodeName?: string };
  status: { phase: string; podIP?: string };
}

async function podFinished(name: string, timeoutMs: number): Promise<PodStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = kubectlResult(plane, ['get', 'pod', name, '-n', namespace, '-o', 'json']);
    if (result.status === 0) {
      const pod = JSON.parse(result.stdout) as PodStatus;
      if (pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') return pod;
    }
    if (Date.now() > deadline) throw new Error(`pod ${name} did not finish within ${timeoutMs} ms`);
    await sleep(250);
  }
}

const container = { image: mariadbImageName, imagePullPolicy: 'IfNotPresent' };
const passwordFromSecret = { secretKeyRef: { name: 'mariadb-root', key: 'password' } };

describe('a MariaDB StatefulSet on the local cluster', () => {
  it('runs a pod of the local image that becomes Ready', () => {
    apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
    apply([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mariadb-root', namespace }, stringData: { password: rootPassword } },
      ...mariadbServerManifests({
        namespace,
        instance: 'e2e',
        rootPassword: { secret: 'mariadb-root', key: 'password' },
        env: [{ name: 'MARIADB_DATABASE', value: 'e2e' }],
      }),
    ]);
    kubectl(plane, ['rollout', 'status', 'statefulset/mariadb', '-n', namespace, '--timeout=120s']);
    const pod = JSON.parse(kubectl(plane, ['get', 'pod', 'mariadb-0', '-n', namespace, '-o', 'json'])) as PodStatus;
    assert.equal(pod.spec.nodeName, 'node-1');
    assert.match(pod.status.podIP ?? '', /^10\.244\.1\.\d+$/);
  });

  it('a client pod writes and reads a row through the Service DNS name', async () => {
    const host = `mariadb.${namespace}.svc.cluster.local`;
    const sql = "CREATE TABLE visits (id INT PRIMARY KEY, note VARCHAR(40)); INSERT INTO visits VALUES (1, 'written through the Service'); SELECT note FROM visits WHERE id = 1";
    apply([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'client', namespace },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              ...container,
              name: 'client',
              env: [{ name: 'MYSQL_PWD', valueFrom: passwordFromSecret }],
              command: ['mariadb', '--host', host, '--user', 'root', '--batch', '--skip-column-names', 'e2e', '--execute', sql],
            },
          ],
        },
      },
    ]);
    const client = await podFinished('client', 120_000);
    const logs = kubectl(plane, ['logs', 'client', '-n', namespace]);
    assert.equal(client.status.phase, 'Succeeded', logs);
    assert.equal(logs.trim(), 'written through the Service');
  });

  it('the row is on the server', () => {
    const result = kubectlResult(plane, [
      'exec', 'mariadb-0', '-n', namespace, '--',
      'sh', '-c', 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -uroot -N -B -e "SELECT id, note FROM e2e.visits"',
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), '1\twritten through the Service');
  });

  it('cleans up its namespace', () => {
    kubectl(plane, ['delete', 'namespace', namespace, '--wait=false']);
  });
});
