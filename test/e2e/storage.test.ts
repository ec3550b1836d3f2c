// Storage on the local cluster as a user meets it: the default StorageClass
// gives a MariaDB StatefulSet's volumeClaimTemplate a Bound volume on the node
// its pod runs on (a directory under that node's directory); a row written
// survives the pod's deletion and re-creation; a pod running as uid 999 with
// an fsGroup can write to a fresh volume; deleting the claim removes the
// PersistentVolume and its directory. The image has mariadb-backup and socat.
//
// The tests depend on each other in order, like the steps of a user's session.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { e2eCluster } from '../env/cluster/shared.ts';
import { defaultStorageClassName, nodeVolumesDir, provisionerName } from '../env/cluster/storage.ts';
import { mariadbImageName } from '../env/images/images.ts';
import { kubectl, kubectlResult } from '../env/kubectl.ts';

const cluster = await e2eCluster();
const plane = cluster.controlPlane;
const namespace = `e2e-storage-${randomBytes(3).toString('hex')}`;
const rootPassword = randomBytes(12).toString('base64url');
const labels = { 'app.kubernetes.io/name': 'mariadb', 'app.kubernetes.io/instance': 'storage-e2e' };

function apply(objects: readonly unknown[]): void {
  kubectl(plane, ['apply', '--server-side', '--field-manager=flightdeck-e2e', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

/** The object as JSON, or undefined when it does not exist. */
function getJson(args: readonly string[]): unknown {
  const result = kubectlResult(plane, [...args, '-o', 'json']);
  if (result.status !== 0) {
    if (/NotFound|not found/.test(result.stderr)) return undefined;
    throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout);
}

async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

interface StorageClass {
  metadata: { name: string; annotations?: Record<string, string> };
  provisioner: string;
  volumeBindingMode: string;
  reclaimPolicy: string;
  allowVolumeExpansion?: boolean;
}
interface Claim {
  metadata: { uid: string };
  spec: { volumeName?: string; storageClassName?: string };
  status: { phase: string };
}
interface Volume {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: {
    storageClassName: string;
    persistentVolumeReclaimPolicy: string;
    local?: { path: string };
    nodeAffinity?: { required?: { nodeSelectorTerms: { matchExpressions: { key: string; operator: string; values: string[] }[] }[] } };
  };
  status: { phase: string };
}
interface Pod {
  metadata: { uid: string };
  spec: { nodeName?: string };
  status: { phase: string; conditions?: { type: string; status: string }[] };
}

function sqlInPod(pod: string, sql: string): string {
  const result = kubectlResult(plane, [
    'exec', pod, '-n', namespace, '--',
    'sh', '-c', `MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -uroot -N -B -e "${sql}"`,
  ]);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

/** The MariaDB StatefulSet of this file: its data on a claim of the default StorageClass (none named). */
function mariadbStatefulSet(): unknown {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'mariadb', namespace },
    spec: {
      serviceName: 'mariadb',
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'mariadb',
              image: mariadbImageName,
              imagePullPolicy: 'IfNotPresent',
              env: [{ name: 'MARIADB_ROOT_PASSWORD', valueFrom: { secretKeyRef: { name: 'mariadb-root', key: 'password' } } }],
              readinessProbe: { exec: { command: ['sh', '-c', 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -uroot -e "SELECT 1"'] }, periodSeconds: 1 },
              volumeMounts: [{ name: 'data', mountPath: '/var/lib/mysql' }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      ],
    },
  };
}

const claimName = 'data-mariadb-0';
let volumeName = '';
let volumePath = '';

describe('node-local volumes of the default StorageClass', () => {
  it('the default StorageClass names the provisioner and waits for the first consumer', () => {
    const classes = getJson(['get', 'storageclass']) as { items: StorageClass[] } | undefined;
    const defaults = (classes?.items ?? []).filter((c) => c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
    assert.deepEqual(
      defaults.map((c) => [c.metadata.name, c.provisioner, c.volumeBindingMode, c.reclaimPolicy, c.allowVolumeExpansion ?? false]),
      [[defaultStorageClassName, provisionerName, 'WaitForFirstConsumer', 'Delete', false]],
    );
  });

  it('a StatefulSet\'s claim is Bound to a volume on the node its pod runs on', async () => {
    apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
    apply([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mariadb-root', namespace }, stringData: { password: rootPassword } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'mariadb', namespace }, spec: { clusterIP: 'None', selector: labels, ports: [{ name: 'mysql', port: 3306 }] } },
      mariadbStatefulSet(),
    ]);
    kubectl(plane, ['rollout', 'status', 'statefulset/mariadb', '-n', namespace, '--timeout=180s']);
    const claim = await eventually('the claim to be Bound', () => {
      const c = getJson(['get', 'pvc', claimName, '-n', namespace]) as Claim | undefined;
      return c?.status.phase === 'Bound' ? c : undefined;
    });
    assert.equal(claim.spec.storageClassName, defaultStorageClassName, 'the default StorageClass is filled in');
    volumeName = claim.spec.volumeName ?? '';
    assert.equal(volumeName, `pvc-${claim.metadata.uid}`);
    const pod = getJson(['get', 'pod', 'mariadb-0', '-n', namespace]) as Pod | undefined;
    const nodeName = pod?.spec.nodeName ?? '';
    const node = cluster.nodes.find((n) => n.network.name === nodeName);
    assert.ok(node !== undefined, `pod runs on ${nodeName}, a node of the cluster`);
    const volume = getJson(['get', 'pv', volumeName]) as Volume | undefined;
    assert.ok(volume !== undefined);
    assert.equal(volume.status.phase, 'Bound');
    assert.equal(volume.spec.persistentVolumeReclaimPolicy, 'Delete');
    assert.equal(volume.metadata.annotations?.['pv.kubernetes.io/provisioned-by'], provisionerName);
    assert.deepEqual(volume.spec.nodeAffinity?.required?.nodeSelectorTerms, [
      { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] },
    ]);
    volumePath = volume.spec.local?.path ?? '';
    assert.equal(volumePath, join(nodeVolumesDir(node.dir), volumeName));
    // MariaDB initialised its data directory in the volume, as the mysql user (999).
    assert.ok(existsSync(join(volumePath, 'mysql')), `${volumePath} holds MariaDB's data directory`);
    assert.equal(statSync(join(volumePath, 'mysql')).uid, 999);
  });

  it('a row written survives the pod\'s deletion and re-creation on the same node', async () => {
    sqlInPod('mariadb-0', "CREATE DATABASE kept; CREATE TABLE kept.notes (id INT PRIMARY KEY, note VARCHAR(40)); INSERT INTO kept.notes VALUES (1, 'on a node-local volume')");
    const before = getJson(['get', 'pod', 'mariadb-0', '-n', namespace]) as Pod | undefined;
    kubectl(plane, ['delete', 'pod', 'mariadb-0', '-n', namespace, '--wait=true']);
    const after = await eventually('mariadb-0 to be re-created and Ready', () => {
      const p = getJson(['get', 'pod', 'mariadb-0', '-n', namespace]) as Pod | undefined;
      const ready = p?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      return p !== undefined && p.metadata.uid !== before?.metadata.uid && ready ? p : undefined;
    });
    assert.equal(after.spec.nodeName, before?.spec.nodeName);
    assert.equal(sqlInPod('mariadb-0', 'SELECT note FROM kept.notes WHERE id = 1'), 'on a node-local volume');
  });

  it('the image has mariadb-backup and socat, to stream a copy of the data', () => {
    const result = kubectlResult(plane, ['exec', 'mariadb-0', '-n', namespace, '--', 'sh', '-c', 'mariadb-backup --version 2>&1; socat -V | head -n 2']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /mariadb-backup based on MariaDB server 10\.11/);
    assert.match(result.stdout, /socat version 1\.7/);
  });

  it('a pod running as uid 999 with an fsGroup writes to a fresh volume', async () => {
    apply([
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'as-mysql', namespace }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Mi' } } } },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'writer', namespace },
        spec: {
          restartPolicy: 'Never',
          securityContext: { runAsUser: 999, runAsGroup: 999, fsGroup: 999 },
          containers: [{ name: 'writer', image: mariadbImageName, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo written > /data/file && id -u'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'as-mysql' } }],
        },
      },
    ]);
    const pod = await eventually('the writer pod to finish', () => {
      const p = getJson(['get', 'pod', 'writer', '-n', namespace]) as Pod | undefined;
      return p?.status.phase === 'Succeeded' || p?.status.phase === 'Failed' ? p : undefined;
    });
    const logs = kubectl(plane, ['logs', 'writer', '-n', namespace]);
    assert.equal(pod.status.phase, 'Succeeded', logs);
    assert.equal(logs.trim(), '999');
    const claim = getJson(['get', 'pvc', 'as-mysql', '-n', namespace]) as Claim | undefined;
    const volume = getJson(['get', 'pv', claim?.spec.volumeName ?? '']) as Volume | undefined;
    const path = volume?.spec.local?.path ?? '';
    assert.equal(readFileSync(join(path, 'file'), 'utf8'), 'written\n');
    // The kubelet applied the fsGroup to the `local` volume: group 999, set-group-ID.
    const stat = statSync(path);
    assert.equal(stat.gid, 999);
    assert.equal(stat.mode & 0o2000, 0o2000);
  });

  it('deleting the claim removes the PersistentVolume and its directory', async () => {
    kubectl(plane, ['delete', 'statefulset', 'mariadb', '-n', namespace, '--wait=true']);
    await eventually('mariadb-0 to be gone', () => (getJson(['get', 'pod', 'mariadb-0', '-n', namespace]) === undefined ? true : undefined));
    assert.ok(existsSync(volumePath), 'the volume stays while its claim exists');
    kubectl(plane, ['delete', 'pvc', claimName, '-n', namespace, '--wait=true']);
    await eventually(`PersistentVolume ${volumeName} to be deleted`, () => (getJson(['get', 'pv', volumeName]) === undefined ? true : undefined));
    assert.equal(existsSync(volumePath), false, `${volumePath} is removed`);
  });

  it('a claim that no node-local volume can serve says why', async () => {
    apply([
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'shared', namespace }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '10Mi' } } } },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'shared-user', namespace },
        spec: {
          containers: [{ name: 'c', image: mariadbImageName, imagePullPolicy: 'IfNotPresent', command: ['sleep', '60'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'shared' } }],
        },
      },
    ]);
    const message = await eventually('a ProvisioningFailed event', () => {
      const events = getJson(['get', 'events', '-n', namespace]) as { items: { reason: string; message: string; involvedObject: { name: string } }[] } | undefined;
      return events?.items.find((e) => e.involvedObject.name === 'shared' && e.reason === 'ProvisioningFailed')?.message;
    }, 60_000);
    assert.match(message, /ReadWriteMany: a node-local volume is only reachable from one node/);
  });

  it('cleans up its namespace', async () => {
    kubectl(plane, ['delete', 'namespace', namespace, '--wait=true', '--timeout=120s']);
    await eventually('the namespace\'s volumes to be gone', () => {
      const volumes = getJson(['get', 'pv']) as { items: { spec: { claimRef?: { namespace: string } } }[] } | undefined;
      return volumes?.items.every((v) => v.spec.claimRef?.namespace !== namespace) === true ? true : undefined;
    });
  });
});
