// Backups interrupted mid-upload on the local cluster, retried by the
// operator: a MariaDB server with a database of about 24 MiB under an
// external MySQLCluster, the operator installed by its chart, MySQLBackups to
// the cluster's S3 store (SeaweedFS, a process of the test's cluster: the
// shared one with the operator that ./scripts/test starts, or its own).
// The upload is caught mid-way by freezing the store (SIGSTOP) as soon as
// the run's multipart upload exists; then
// - the Job's pod is killed: the attempt fails, the run folder holds no
//   manifest, status lists no backup, a MySQLRestore of the folder's path is
//   refused (NotABackup); the store thawed, attempt 2 succeeds and nothing
//   of attempt 1 is left (no unfinished upload);
// - the store stays frozen past the Job's deadline (the store unreachable
//   mid-upload): the attempt fails on its deadline, and the same follows.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { apiVersion } from '../../src/api/common.ts';
import { mariadbImageName } from '../env/images/images.ts';
import { kubectl, kubectlResult } from '../env/kubectl.ts';
import { withMethods } from '../env/object-store.ts';
import { operatorCluster, releaseOperatorCluster } from '../env/operator-cluster.ts';
import { mariadbServerManifests } from './mariadb-manifests.ts';

const suffix = randomBytes(3).toString('hex');
const namespace = `e2e-interrupted-${suffix}`;
// The shared cluster with the operator when ./scripts/test started one, else a cluster of its own.
const target = await operatorCluster(1);
after(async () => {
  // The store first: a frozen one would hold up the next file on the shared cluster, or a stop of this one.
  thawStore();
  await releaseOperatorCluster(target, [namespace]);
});
const cluster = target.cluster;
const plane = cluster.controlPlane;
const store = withMethods(cluster.objectStore);
const prefix = `interrupted-${suffix}`;
const bucket = 'backups';
const rootPassword = randomBytes(12).toString('base64url');

let frozen = false;
function freezeStore(): void {
  process.kill(store.process.pid, 'SIGSTOP');
  frozen = true;
}
function thawStore(): void {
  if (!frozen) return;
  process.kill(store.process.pid, 'SIGCONT');
  frozen = false;
}

function apply(objects: readonly unknown[]): void {
  kubectl(plane, ['apply', '--server-side', '--field-manager=flightdeck-e2e', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>, intervalMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

interface Watched {
  status?: {
    conditions?: Condition[];
    lastRun?: { id: string; result: string; attempts?: number; message?: string; jobName?: string; path?: string };
    backups?: { id: string }[];
    message?: string;
  };
}

function getObject(kind: string, name: string): Watched | undefined {
  const result = kubectlResult(plane, ['get', kind, name, '-n', namespace, '-o', 'json']);
  return result.status === 0 ? (JSON.parse(result.stdout) as Watched) : undefined;
}

function condition(object: Watched | undefined, type: string): Condition | undefined {
  return object?.status?.conditions?.find((c) => c.type === type);
}

/** Runs SQL as root in a client pod of the MariaDB image. */
async function sql(name: string, statements: string): Promise<void> {
  apply([
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace },
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'client',
            image: mariadbImageName,
            imagePullPolicy: 'IfNotPresent',
            command: ['mariadb', '--host=mariadb', '--user=root', '--batch', '-e', statements],
            env: [{ name: 'MYSQL_PWD', valueFrom: { secretKeyRef: { name: 'mariadb-admin', key: 'password' } } }],
          },
        ],
      },
    },
  ]);
  const phase = await eventually(`SQL pod ${name} to end`, 180_000, () => {
    const p = kubectl(plane, ['get', 'pod', name, '-n', namespace, '-o', 'jsonpath={.status.phase}']);
    return p === 'Succeeded' || p === 'Failed' ? p : undefined;
  });
  assert.equal(phase, 'Succeeded', `SQL failed: ${kubectl(plane, ['logs', name, '-n', namespace])}`);
}

function backupManifest(name: string, activeDeadlineSeconds: number): unknown {
  return {
    apiVersion,
    kind: 'MySQLBackup',
    metadata: { name, namespace },
    spec: {
      cluster: { name: 'shared' },
      databases: ['site_big'],
      compression: 'none',
      target: { s3: { endpoint: store.endpoint, bucket, prefix, credentialsSecret: { name: 's3-creds' } } },
      activeDeadlineSeconds,
    },
  };
}

async function s3Listing(folder: string): Promise<{ objects: string[]; uploads: string[] }> {
  const client = store.client();
  try {
    return {
      objects: (await client.listAllObjects(bucket, { prefix: `${folder}/` })).map((o) => o.key.slice(folder.length + 1)).sort(),
      uploads: (await client.listMultipartUploads(bucket, { prefix: `${folder}/` })).map((u) => u.key.slice(folder.length + 1)),
    };
  } finally {
    client.close();
  }
}

/** The run's folder from status, once its first attempt runs. */
async function runningFolder(name: string): Promise<{ folder: string; path: string; jobName: string }> {
  const run = await eventually(`${name}'s first attempt`, 180_000, () => {
    const lastRun = getObject('mysqlbackup', name)?.status?.lastRun;
    return lastRun?.result === 'Running' && lastRun.path !== undefined && lastRun.jobName !== undefined ? lastRun : undefined;
  });
  return { folder: `${prefix}/${run.path ?? ''}`, path: run.path ?? '', jobName: run.jobName ?? '' };
}

/** Freezes the store as soon as the run's data upload exists, so the attempt is interrupted mid-upload. */
async function freezeMidUpload(folder: string): Promise<void> {
  await eventually(`the upload into ${folder}`, 180_000, async () => ((await s3Listing(folder)).uploads.length > 0 ? true : undefined), 100);
  freezeStore();
}

function jobFailed(jobName: string): Condition | undefined {
  const job = JSON.parse(kubectl(plane, ['get', 'job', jobName, '-n', namespace, '-o', 'json'])) as { status?: { conditions?: Condition[] } };
  return job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
}

/** What follows an interrupted attempt 1, whatever interrupted it. */
async function provesRetried(name: string, folder: string, path: string): Promise<void> {
  // Interrupted: no manifest, no backup listed, a restore of its folder refused.
  const left = await s3Listing(folder);
  assert.ok(!left.objects.includes('manifest.json'), `no manifest after the interruption: ${left.objects.join(', ')}`);
  assert.deepEqual(getObject('mysqlbackup', name)?.status?.backups ?? [], [], 'status lists no backup');
  apply([
    {
      apiVersion,
      kind: 'MySQLRestore',
      metadata: { name: `${name}-restore`, namespace },
      spec: {
        cluster: { name: 'shared' },
        source: { target: { s3: { endpoint: store.endpoint, bucket, prefix, credentialsSecret: { name: 's3-creds' } } }, path },
        databases: [{ from: 'site_big', to: 'site_big_copy' }],
      },
    },
  ]);
  const refused = await eventually('the restore to be refused', 60_000, () => {
    const c = condition(getObject('mysqlrestore', `${name}-restore`), 'Failed');
    return c?.status === 'True' ? c : undefined;
  });
  assert.equal(refused.reason, 'NotABackup');
  assert.match(refused.message ?? '', /manifest\.json does not exist: .* is not a complete backup/);

  // Retried, and the retry succeeds.
  const backup = await eventually(`${name}'s run to end`, 300_000, () => {
    const b = getObject('mysqlbackup', name);
    return b?.status?.lastRun?.result === 'Succeeded' || b?.status?.lastRun?.result === 'Failed' ? b : undefined;
  });
  const lastRun = backup.status?.lastRun;
  assert.equal(lastRun?.result, 'Succeeded', JSON.stringify(lastRun));
  // Retried: attempt 2, or 3 when a loaded machine made attempt 2 miss a short deadline as well.
  assert.ok(lastRun.attempts !== undefined && lastRun.attempts >= 2 && lastRun.attempts <= 3, `attempts ${String(lastRun.attempts)}`);
  assert.equal(condition(backup, 'LastBackupSucceeded')?.status, 'True');
  assert.equal(backup.status?.backups?.length, 1);
  // Nothing of the interrupted attempt is left: the data and manifest of the retry only, no unfinished upload.
  assert.deepEqual(await s3Listing(folder), { objects: ['data.sql', 'manifest.json'], uploads: [] });
  const events = (JSON.parse(kubectl(plane, ['get', 'events', '-n', namespace, '--field-selector', `involvedObject.name=${name}`, '-o', 'json'])) as { items: { reason: string }[] }).items.map((e) => e.reason);
  assert.ok(events.includes('BackupAttemptFailed') && events.includes('BackupRetried'), events.join(', '));
}

describe('backups interrupted mid-upload on the local cluster', () => {
  it('runs a MariaDB server with about 24 MiB of rows, and the operator', async () => {
    apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
    apply([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mariadb-admin', namespace }, stringData: { username: 'root', password: rootPassword } },
      ...mariadbServerManifests({ namespace, instance: 'interrupted', rootPassword: { secret: 'mariadb-admin', key: 'password' } }),
    ]);
    kubectl(plane, ['rollout', 'status', 'statefulset/mariadb', '-n', namespace, '--timeout=180s']);
    apply([
      {
        apiVersion,
        kind: 'MySQLCluster',
        metadata: { name: 'shared', namespace },
        spec: { external: { host: `mariadb.${namespace}.svc.cluster.local`, port: 3306, adminSecretRef: { name: 'mariadb-admin' } } },
      },
      { apiVersion, kind: 'MySQLDatabase', metadata: { name: 'big', namespace }, spec: { cluster: { name: 'shared' }, dbName: 'site_big' } },
      { apiVersion, kind: 'MySQLDatabase', metadata: { name: 'big-copy', namespace }, spec: { cluster: { name: 'shared' }, dbName: 'site_big_copy' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3-creds', namespace }, stringData: { AWS_ACCESS_KEY_ID: store.accessKeyId, AWS_SECRET_ACCESS_KEY: store.secretAccessKey } },
    ]);
    await eventually('MySQLDatabase big to be Ready', 120_000, () => (condition(getObject('mysqldatabase', 'big'), 'Ready')?.status === 'True' ? true : undefined));
    await sql('load', 'CREATE TABLE site_big.blobs (id INT PRIMARY KEY, payload VARBINARY(1024)) ENGINE=InnoDB; INSERT INTO site_big.blobs SELECT seq, RANDOM_BYTES(1024) FROM site_big.seq_1_to_24576;');
  });

  it('a pod killed mid-upload: no manifest, no backup listed, a restore of it refused; retried, the retry succeeds, nothing left over', async () => {
    apply([backupManifest('killed', 600)]);
    const { folder, path, jobName } = await runningFolder('killed');
    await freezeMidUpload(folder);
    try {
      const pods = kubectl(plane, ['get', 'pods', '-n', namespace, '-l', `batch.kubernetes.io/job-name=${jobName}`, '-o', 'jsonpath={.items[*].metadata.name}']).split(' ').filter((p) => p !== '');
      assert.equal(pods.length, 1, 'one pod per attempt');
      kubectl(plane, ['delete', 'pod', pods[0] ?? '', '-n', namespace, '--grace-period=0', '--force', '--wait=false']);
      const failed = await eventually(`Job ${jobName} to fail`, 120_000, () => jobFailed(jobName));
      assert.ok(failed.reason !== undefined);
    } finally {
      thawStore();
    }
    await provesRetried('killed', folder, path);
  });

  it('the store unreachable mid-upload past the Job’s deadline: the same', async () => {
    apply([backupManifest('unreachable', 60)]);
    const { folder, path, jobName } = await runningFolder('unreachable');
    await freezeMidUpload(folder);
    try {
      const failed = await eventually(`Job ${jobName} to fail on its deadline`, 150_000, () => jobFailed(jobName));
      assert.equal(failed.reason, 'DeadlineExceeded');
    } finally {
      thawStore();
    }
    await provesRetried('unreachable', folder, path);
  });
});
