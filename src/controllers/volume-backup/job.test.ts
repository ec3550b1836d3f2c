import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refusedExitCode, volumeBackupJob, volumeRestoreJob, workContainer, type FilesBackupJobInput, type JobManifest } from '../backup/job.ts';

const base: FilesBackupJobInput = {
  owner: { kind: 'VolumeBackup', name: 'uploads', namespace: 'site-a', uid: 'uid-1' },
  image: 'flightdeck.local/mariadb:10.11',
  target: { s3: { endpoint: 'https://s3.example.com', bucket: 'backups', prefix: 'agency', credentialsSecret: { name: 's3-creds' } } },
  runPath: 'site-a/uploads/20261202T030000Z',
  activeDeadlineSeconds: 1800,
  runId: '20261202T030000Z',
  source: { claimName: 'wp-content', subPath: 'uploads' },
  compression: 'zstd',
};

interface Container {
  command: string[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
  securityContext: { capabilities: { drop: string[]; add: string[] }; readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  resources: { limits?: Record<string, string> };
}

function container(job: JobManifest): Container {
  const containers = job.spec.template.spec.containers as Container[];
  assert.equal(containers.length, 1);
  const [only] = containers;
  assert.ok(only);
  return only;
}

function env(job: JobManifest): Record<string, string> {
  return Object.fromEntries(container(job).env.map((e) => [e.name, e.value ?? `secret:${e.valueFrom?.secretKeyRef.name}/${e.valueFrom?.secretKeyRef.key}`]));
}

describe('VolumeBackup Job', () => {
  const job = volumeBackupJob(base);

  it('is named and labelled for its run, owned by the VolumeBackup, and takes a backup slot', () => {
    assert.equal(job.metadata.name, 'uploads-files-20261202t030000z');
    assert.equal(job.metadata.labels['flightdeck.t7.io/volume-backup'], 'uploads');
    assert.equal(job.metadata.labels['flightdeck.t7.io/run-id'], '20261202t030000z');
    assert.equal(job.metadata.labels['flightdeck.t7.io/backup'], undefined);
    assert.equal(job.metadata.ownerReferences[0]?.kind, 'VolumeBackup');
  });

  it('mounts the source claim read-only and reads it with DAC_READ_SEARCH alone: no token, no database account, limits, deadline', () => {
    const pod = job.spec.template.spec;
    assert.deepEqual(pod.volumes.find((v) => v.name === 'source')?.persistentVolumeClaim, { claimName: 'wp-content', readOnly: true });
    assert.deepEqual(container(job).volumeMounts.find((m) => m.name === 'source'), { name: 'source', mountPath: '/source', readOnly: true });
    assert.equal(env(job).SOURCE_DIR, '/source/uploads');
    assert.equal(pod.automountServiceAccountToken, false);
    assert.deepEqual(pod.securityContext, { runAsNonRoot: false, runAsUser: 0, runAsGroup: 0, seccompProfile: { type: 'RuntimeDefault' } });
    assert.ok(!('fsGroup' in (pod.securityContext as object)), 'an fsGroup would make the kubelet change the group of every file');
    assert.deepEqual(container(job).securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['DAC_READ_SEARCH'] } });
    assert.ok(!pod.volumes.some((v) => v.name === 'db-password'));
    assert.ok(!Object.keys(env(job)).some((name) => name.startsWith('DB_')));
    assert.equal(container(job).resources.limits?.memory, '1Gi');
    assert.equal(job.spec.activeDeadlineSeconds, 1800);
    assert.deepEqual((job.spec.podFailurePolicy as { rules: unknown[] }).rules[0], { action: 'FailJob', onExitCodes: { containerName: workContainer, operator: 'In', values: [refusedExitCode] } });
    assert.equal(pod.affinity, undefined);
  });

  it('passes the run and the target as environment', () => {
    assert.deepEqual(container(job).command, ['flightdeck-backup', 'files-backup']);
    const vars = env(job);
    assert.equal(vars.LOCATION, 'target:backups/agency/site-a/uploads/20261202T030000Z');
    assert.equal(vars.BACKUP_ID, '20261202T030000Z');
    assert.equal(vars.BACKUP_COMPRESSION, 'zstd');
    assert.equal(vars.RCLONE_CONFIG_TARGET_ACCESS_KEY_ID, 'secret:s3-creds/AWS_ACCESS_KEY_ID');
  });

  it('runs on the node given (a ReadWriteOnce claim in use there), and may write a volume target as another uid', () => {
    const pinned = volumeBackupJob({ ...base, nodeName: 'node-b', source: { claimName: 'wp-content' }, target: { pvc: { claimName: 'backups' } } });
    assert.deepEqual(pinned.spec.template.spec.affinity, {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-b'] }] }] } },
    });
    assert.equal(env(pinned).SOURCE_DIR, '/source');
    assert.deepEqual(container(pinned).securityContext.capabilities.add, ['DAC_READ_SEARCH', 'DAC_OVERRIDE']);
  });
  it('tells the Job which runs to prune on a PVC target, and nothing on S3, which the operator prunes', () => {
    const pruneRuns = ['20261125T030000Z', '20261126T030000Z'];
    assert.equal(env(volumeBackupJob({ ...base, target: { pvc: { claimName: 'backups', subPath: 'files' } }, pruneRuns })).PRUNE_RUNS, '20261125T030000Z\n20261126T030000Z');
    assert.ok(!('PRUNE_RUNS' in env(volumeBackupJob({ ...base, pruneRuns }))));
    assert.ok(!('PRUNE_RUNS' in env(job)));
  });
});

describe('VolumeRestore Job', () => {
  it('mounts the target claim writable, with the capabilities to give files their owners and modes back', () => {
    const job = volumeRestoreJob({
      ...base,
      owner: { kind: 'VolumeRestore', name: 'back', namespace: 'site-a', uid: 'uid-2' },
      volume: { claimName: 'wp-content-new', subPath: 'uploads' },
      overwrite: false,
      encryptionKey: { secretName: 'backup-key', key: 'key' },
    });
    assert.equal(job.metadata.name, 'back-files-restore');
    assert.equal(job.metadata.labels['flightdeck.t7.io/volume-restore'], 'back');
    assert.deepEqual(container(job).command, ['flightdeck-backup', 'files-restore']);
    const vars = env(job);
    assert.equal(vars.VOLUME_ROOT, '/volume');
    assert.equal(vars.TARGET_DIR, '/volume/uploads');
    assert.equal(vars.RESTORE_OVERWRITE, 'false');
    assert.equal(vars.ENCRYPTION_KEY_FILE, '/etc/flightdeck/encryption/key');
    assert.deepEqual(job.spec.template.spec.volumes.find((v) => v.name === 'volume')?.persistentVolumeClaim, { claimName: 'wp-content-new' });
    assert.deepEqual(container(job).securityContext.capabilities, { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID'] });
  });
});
