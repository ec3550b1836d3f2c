// Backups and restores of a volume's files on the local cluster, end to end:
// the operator installed by its chart, a site namespace whose ReadWriteOnce
// PVC a running pod filled with a few hundred files (an empty one, a 20 MB
// one, symbolic links, a name with spaces and non-ASCII letters, nested
// folders, other owners and modes, an old modification time) and still holds.
// A one-off VolumeBackup to the cluster's S3 store (zstd, encrypted) runs on
// that pod's node; a VolumeRestore into a new empty PVC is proven by every
// entry's path, type, size, mode, owner, modification time and sha256 (or link
// target), computed by pods on both volumes, being equal; a restore into a
// non-empty PVC without overwrite is refused and changes nothing; with
// overwrite it replaces what was there.
//
// The tests depend on each other in order, like the steps of a user's session.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { apiVersion } from '../../src/api/common.ts';
import { applyObjects, conditionOf, eventually, getObject, type Condition } from '../env/e2e-objects.ts';
import { mariadbImageName } from '../env/images/images.ts';
import { kubectl, kubectlResult } from '../env/kubectl.ts';
import { entryLines, volumeListingScript } from '../env/volume-listing.ts';
import { operatorCluster, releaseOperatorCluster } from '../env/operator-cluster.ts';

const site = `e2e-files-${randomBytes(3).toString('hex')}`;
// The shared cluster with the operator when ./scripts/test started one, else a cluster of its own.
const target = await operatorCluster(1);
after(() => releaseOperatorCluster(target, [site]));
const cluster = target.cluster;
const plane = cluster.controlPlane;

interface Watched {
  status?: {
    conditions?: Condition[];
    lastRun?: { result: string; message?: string; sizeBytes?: number; sha256?: string; fileCount?: number; contentBytes?: number; contentSha256?: string; path?: string };
    backups?: { id: string; path: string; fileCount?: number }[];
    fileCount?: number;
    contentBytes?: number;
    contentSha256?: string;
    verified?: boolean;
    message?: string;
  };
}

const watched = (kind: string, name: string): Watched | undefined => getObject(plane, kind, name, site) as Watched | undefined;
const apply = (objects: readonly unknown[]): void => {
  applyObjects(plane, objects);
};

/** Fills /data: 300 files of sizes 0–200 kB in nested folders, and the awkward cases. Touches /tmp/filled when done. */
const fillScript = `set -euo pipefail
cd /data
mkdir -p wp-content/uploads/2026/12 themes/twenty/assets deep/a/b/c/d
: > empty.txt
for i in $(seq 1 300); do
  case $((i % 4)) in 0) dir=wp-content/uploads/2026/12 ;; 1) dir=themes/twenty/assets ;; 2) dir=deep/a/b/c/d ;; *) dir=. ;; esac
  head -c $(( (i * 7919) % 200000 )) /dev/urandom > "$dir/file-$i.bin"
done
head -c 20971520 /dev/urandom > big-20MB.bin
printf 'h\\xc3\\xa9llo\\n' > "file with spaces and ünïcödé – ok.txt"
ln -s wp-content/uploads/2026 uploads-link
ln -s /does/not/exist dangling-link
chown -R 33:33 wp-content
chmod 600 wp-content/uploads/2026/12/file-4.bin
chmod 750 themes/twenty/assets
chmod 2775 deep/a
touch -d '2020-01-02 03:04:05' themes/twenty/assets/file-5.bin
touch /tmp/filled
sleep infinity
`;

function pod(name: string, claimName: string, script: string, options: { readOnly?: boolean; keepRunning?: boolean } = {}): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: site },
    spec: {
      restartPolicy: 'Never',
      securityContext: { runAsUser: 0, runAsGroup: 0 },
      containers: [
        {
          name: 'work',
          image: mariadbImageName,
          imagePullPolicy: 'IfNotPresent',
          command: ['bash', '-c', script],
          volumeMounts: [{ name: 'data', mountPath: '/data', ...(options.readOnly === true ? { readOnly: true } : {}) }],
          ...(options.keepRunning === true ? { readinessProbe: { exec: { command: ['test', '-f', '/tmp/filled'] }, periodSeconds: 2 } } : {}),
        },
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName, ...(options.readOnly === true ? { readOnly: true } : {}) } }],
    },
  };
}

let podRuns = 0;

/** Runs `script` in a pod with `claimName` at /data and returns its output; the pod is deleted. */
async function inPod(claimName: string, script: string, readOnly = true): Promise<string> {
  const name = `files-${++podRuns}`;
  apply([pod(name, claimName, script, { readOnly })]);
  const phase = await eventually(`pod ${name} to finish`, 600_000, () => {
    const result = kubectlResult(plane, ['get', 'pod', name, '-n', site, '-o', 'jsonpath={.status.phase}']);
    return result.stdout === 'Succeeded' || result.stdout === 'Failed' ? result.stdout : undefined;
  });
  const output = kubectl(plane, ['logs', name, '-n', site]);
  kubectl(plane, ['delete', 'pod', name, '-n', site, '--wait=true']);
  assert.equal(phase, 'Succeeded', `pod ${name} failed: ${output.slice(-2000)}`);
  return output;
}

const listing = async (claimName: string): Promise<string[]> => entryLines(await inPod(claimName, volumeListingScript));

function claim(name: string): unknown {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: site }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
}

function restore(name: string, claimName: string, overwrite: boolean): unknown {
  return { apiVersion, kind: 'VolumeRestore', metadata: { name, namespace: site }, spec: { source: { backup: { name: 'uploads' } }, target: { claimName }, overwrite, activeDeadlineSeconds: 600 } };
}

async function restoreEnded(name: string): Promise<Watched> {
  return eventually(`VolumeRestore ${name} to end`, 300_000, () => {
    const object = watched('volumerestore', name);
    return conditionOf(object, 'Complete')?.status === 'True' || conditionOf(object, 'Failed')?.status === 'True' ? object : undefined;
  });
}

describe('backups and restores of a volume’s files on the local cluster', () => {
  let source: string[] = [];
  let writerNode = '';

  it('runs the operator, and a site pod that filled its ReadWriteOnce volume and holds it', async () => {
    const store = cluster.objectStore;
    apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: site } }]);
    apply([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3-creds', namespace: site }, stringData: { AWS_ACCESS_KEY_ID: store.accessKeyId, AWS_SECRET_ACCESS_KEY: store.secretAccessKey } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'files-key', namespace: site }, stringData: { key: randomBytes(32).toString('base64') } },
      claim('uploads'),
      pod('site', 'uploads', fillScript, { keepRunning: true }),
    ]);
    kubectl(plane, ['wait', '--for=condition=Ready', 'pod/site', '-n', site, '--timeout=240s']);
    writerNode = kubectl(plane, ['get', 'pod', 'site', '-n', site, '-o', 'jsonpath={.spec.nodeName}']).trim();
    assert.notEqual(writerNode, '');
    source = await listing('uploads');
    const files = source.filter((line) => line.startsWith('f\t'));
    assert.equal(files.length, 303, 'the 300 files, the empty one, the 20 MB one and the one with spaces');
    assert.ok(source.some((line) => line.startsWith('f\t./empty.txt\t0 644 0:0 ')));
    assert.ok(source.some((line) => line.startsWith('f\t./big-20MB.bin\t20971520 ')));
    assert.ok(source.some((line) => line.startsWith('f\t./file with spaces and ünïcödé – ok.txt\t')));
    assert.ok(source.includes('l\t./uploads-link\twp-content/uploads/2026'));
    assert.ok(source.includes('l\t./dangling-link\t/does/not/exist'));
    assert.ok(source.some((line) => line.startsWith('f\t./wp-content/uploads/2026/12/file-4.bin\t') && line.includes(' 600 33:33 ')));
    assert.ok(source.includes('d\t./deep/a\t2775 0:0'));
    assert.ok(source.some((line) => line.startsWith('f\t./themes/twenty/assets/file-5.bin\t') && line.includes(` ${Date.UTC(2020, 0, 2, 3, 4, 5) / 1000}\t`)));
  });

  it('a one-off VolumeBackup to the S3 store completes on the node that holds the volume, with its entries counted', async () => {
    const store = cluster.objectStore;
    apply([
      {
        apiVersion,
        kind: 'VolumeBackup',
        metadata: { name: 'uploads', namespace: site },
        spec: {
          source: { claimName: 'uploads' },
          compression: 'zstd',
          encryption: { secretKeyRef: { name: 'files-key' } },
          target: { s3: { endpoint: store.endpoint, bucket: 'backups', prefix: 'files', credentialsSecret: { name: 's3-creds' } } },
          activeDeadlineSeconds: 600,
        },
      },
    ]);
    const backup = await eventually('VolumeBackup uploads to complete a run', 300_000, () => {
      const object = watched('volumebackup', 'uploads');
      const result = object?.status?.lastRun?.result;
      if (result === 'Failed') throw new Error(`VolumeBackup uploads failed: ${object?.status?.lastRun?.message ?? ''}`);
      return result === 'Succeeded' ? object : undefined;
    });
    const run = backup.status?.lastRun;
    assert.equal(run?.fileCount, source.length);
    const bytes = source.filter((line) => line.startsWith('f\t')).reduce((sum, line) => sum + Number((line.split('\t')[2] ?? '').split(' ')[0]), 0);
    assert.equal(run.contentBytes, bytes);
    assert.match(run.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.match(run.contentSha256 ?? '', /^[0-9a-f]{64}$/);
    assert.ok((run.sizeBytes ?? 0) > 20_000_000, 'random data does not compress');
    assert.equal(conditionOf(backup, 'LastBackupSucceeded')?.status, 'True');
    assert.equal(backup.status?.backups?.length, 1);
    // The Job was pinned to the node where the ReadWriteOnce volume is in use.
    const jobs = JSON.parse(kubectl(plane, ['get', 'jobs', '-n', site, '-l', 'flightdeck.t7.io/volume-backup=uploads', '-o', 'json'])) as {
      items: { spec: { template: { spec: { affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: { matchFields?: { values: string[] }[] }[] } } } } } } }[];
    };
    assert.equal(jobs.items.length, 1);
    assert.deepEqual(jobs.items[0]?.spec.template.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchFields?.[0]?.values, [writerNode]);
  });

  it('a VolumeRestore into a new empty PVC gives back every entry: path, type, size, mode, owner, time and sha256', async () => {
    apply([claim('restored'), restore('into-new', 'restored', false)]);
    const done = await restoreEnded('into-new');
    assert.equal(conditionOf(done, 'Complete')?.status, 'True', JSON.stringify(done.status));
    assert.equal(conditionOf(done, 'Complete')?.reason, 'Verified');
    assert.equal(done.status?.fileCount, source.length);
    assert.equal(done.status.verified, true);
    assert.equal(done.status.contentSha256, watched('volumebackup', 'uploads')?.status?.lastRun?.contentSha256);
    assert.deepEqual(await listing('restored'), source);
  });

  it('a restore into a non-empty PVC without overwrite is refused and changes nothing', async () => {
    await inPod('restored', 'echo written after the restore > /data/marker.txt && rm /data/empty.txt', false);
    const before = await listing('restored');
    assert.ok(before.some((line) => line.startsWith('f\t./marker.txt\t')));
    apply([restore('refused', 'restored', false)]);
    const done = await restoreEnded('refused');
    const failed = conditionOf(done, 'Failed');
    assert.equal(failed?.status, 'True', JSON.stringify(done.status));
    assert.equal(failed.reason, 'TargetNotEmpty');
    assert.match(failed.message ?? '', /holds \d+ entries .*set overwrite to replace them/);
    assert.deepEqual(await listing('restored'), before);
  });

  it('with overwrite the backup replaces what the PVC held, equal to the source again', async () => {
    apply([restore('replaced', 'restored', true)]);
    const done = await restoreEnded('replaced');
    assert.equal(conditionOf(done, 'Complete')?.status, 'True', JSON.stringify(done.status));
    assert.equal(done.status?.verified, true);
    assert.deepEqual(await listing('restored'), source);
  });
});
