import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backupJob, backupJobName, refusedExitCode, restoreJob, workContainer, type BackupJobInput, type JobManifest } from './job.ts';

const base: BackupJobInput = {
  owner: { kind: 'MySQLBackup', name: 'nightly', namespace: 'site-a', uid: 'uid-1' },
  image: 'flightdeck.local/mariadb:10.11',
  credentials: { host: 'db.example', port: 3306, secretName: 'nightly-backup-account' },
  target: {
    s3: {
      endpoint: 'https://s3.example.com',
      bucket: 'backups',
      prefix: 'agency',
      region: 'eu-central-1',
      credentialsSecret: { name: 's3-creds', accessKeyIdKey: 'id', secretAccessKeyKey: 'secret' },
    },
  },
  runPath: 'site-a/nightly/20261202T030000Z',
  activeDeadlineSeconds: 1800,
  runId: '20261202T030000Z',
  databases: ['site_a', 'site_a_shop'],
  compression: 'zstd',
};

interface Container {
  name: string;
  command: string[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
  securityContext: Record<string, unknown>;
  resources: { limits?: Record<string, string> };
  volumeMounts: { name: string; mountPath: string }[];
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

describe('backup Job', () => {
  const job = backupJob(base);

  it('is named after the backup and run, labelled, and owned by the MySQLBackup', () => {
    assert.equal(job.metadata.name, 'nightly-20261202t030000z');
    assert.equal(job.metadata.namespace, 'site-a');
    assert.equal(job.metadata.labels['flightdeck.t7.io/backup'], 'nightly');
    assert.equal(job.metadata.labels['app.kubernetes.io/managed-by'], 'flightdeck-operator');
    assert.deepEqual(job.spec.template.metadata.labels, job.metadata.labels);
    assert.deepEqual(job.metadata.ownerReferences, [
      { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLBackup', name: 'nightly', uid: 'uid-1', controller: true, blockOwnerDeletion: true },
    ]);
  });

  it('runs with least privilege: no token, non-root, no capabilities, read-only root, limits, deadline, bounded retries', () => {
    const pod = job.spec.template.spec;
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.restartPolicy, 'Never');
    assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, seccompProfile: { type: 'RuntimeDefault' } });
    const work = container(job);
    assert.deepEqual(work.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    assert.equal(work.resources.limits?.memory, '1Gi');
    assert.equal(job.spec.activeDeadlineSeconds, 1800);
    // One pod per attempt: the operator retries a failed attempt at its place in the queue (run-decision.ts).
    assert.equal(job.spec.backoffLimit, 0);
    assert.deepEqual((job.spec.podFailurePolicy as { rules: unknown[] }).rules[0], {
      action: 'FailJob',
      onExitCodes: { containerName: workContainer, operator: 'In', values: [refusedExitCode] },
    });
  });

  it('passes every input as environment or Secret file, never in the command', () => {
    assert.deepEqual(container(job).command, ['flightdeck-backup', 'backup']);
    const vars = env(job);
    assert.equal(vars.DB_USER, 'secret:nightly-backup-account/username');
    assert.equal(vars.DB_PASSWORD_FILE, '/etc/flightdeck/db/password');
    assert.equal(vars.RCLONE_CONFIG_TARGET_ACCESS_KEY_ID, 'secret:s3-creds/id');
    assert.equal(vars.RCLONE_CONFIG_TARGET_SECRET_ACCESS_KEY, 'secret:s3-creds/secret');
    assert.equal(vars.RCLONE_CONFIG_TARGET_ENDPOINT, 'https://s3.example.com');
    assert.equal(vars.RCLONE_CONFIG_TARGET_REGION, 'eu-central-1');
    assert.equal(vars.LOCATION, 'target:backups/agency/site-a/nightly/20261202T030000Z');
    assert.equal(vars.BACKUP_DATABASES, 'site_a\nsite_a_shop');
    assert.equal(vars.BACKUP_COMPRESSION, 'zstd');
    assert.equal(vars.RESULT_FILE, '/dev/termination-log');
    assert.ok(!('ENCRYPTION_KEY_FILE' in vars));
    const passwordVolume = job.spec.template.spec.volumes.find((v) => v.name === 'db-password');
    assert.deepEqual(passwordVolume?.secret, { secretName: 'nightly-backup-account', defaultMode: 0o400, items: [{ key: 'password', path: 'password' }] });
  });

  it('mounts a PVC target and an encryption key when given', () => {
    const pvcJob = backupJob({ ...base, target: { pvc: { claimName: 'backups', subPath: 'agency' } }, encryptionKey: { secretName: 'backup-key', key: 'key' } });
    const vars = env(pvcJob);
    assert.equal(vars.RCLONE_CONFIG_TARGET_TYPE, 'local');
    assert.equal(vars.LOCATION, 'target:/backup/agency/site-a/nightly/20261202T030000Z');
    assert.equal(vars.ENCRYPTION_KEY_FILE, '/etc/flightdeck/encryption/key');
    assert.deepEqual(pvcJob.spec.template.spec.volumes.find((v) => v.name === 'target')?.persistentVolumeClaim, { claimName: 'backups' });
    assert.ok(container(pvcJob).volumeMounts.some((m) => m.mountPath === '/backup'));
  });

  it('tells the Job which runs to prune on a PVC target, one id per line, and nothing on S3, which the operator prunes', () => {
    const pruneRuns = ['20261125T030000Z', '20261126T030000Z'];
    const pvcJob = backupJob({ ...base, target: { pvc: { claimName: 'backups' } }, pruneRuns });
    assert.equal(env(pvcJob).PRUNE_RUNS, '20261125T030000Z\n20261126T030000Z');
    assert.ok(!('PRUNE_RUNS' in env(backupJob({ ...base, pruneRuns }))), 'an S3 target is pruned by the operator');
    assert.ok(!('PRUNE_RUNS' in env(backupJob({ ...base, target: { pvc: { claimName: 'backups' } }, pruneRuns: [] }))), 'nothing to prune, no variable');
    assert.ok(!('PRUNE_RUNS' in env(job)));
  });

  it('keeps long names within 63 characters and distinct', () => {
    const long = 'a'.repeat(60);
    const one = backupJobName(long, '20261202T030000Z');
    const two = backupJobName(long, '20261203T030000Z');
    assert.ok(one.length <= 63, one);
    assert.notEqual(one, two);
    assert.match(one, /-20261202t030000z$/);
  });
});

describe('restore Job', () => {
  it('passes the database mapping and overwrite as environment', () => {
    const job = restoreJob({
      ...base,
      owner: { kind: 'MySQLRestore', name: 'back', namespace: 'site-a', uid: 'uid-2' },
      databases: [{ from: 'site_a', to: 'site_a_restored' }],
      overwrite: false,
    });
    assert.equal(job.metadata.name, 'back-restore');
    assert.equal(job.metadata.labels['flightdeck.t7.io/restore'], 'back');
    const vars = env(job);
    assert.equal(vars.RESTORE_DATABASES, 'site_a\tsite_a_restored');
    assert.equal(vars.RESTORE_OVERWRITE, 'false');
    assert.deepEqual(container(job).command, ['flightdeck-backup', 'restore']);
    assert.equal(job.spec.template.spec.automountServiceAccountToken, false);
  });
});
