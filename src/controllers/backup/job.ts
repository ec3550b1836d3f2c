// The Jobs that do backup and restore work: pure builders, spec and resolved
// inputs in, Job manifest out. The work itself is `flightdeck-backup` in the
// MariaDB image (test/env/images/mariadb/flightdeck-backup.sh). Every input
// reaches it as an environment variable or a mounted Secret file, never as
// shell text; the pod runs as the image's mysql user without a service
// account token, with resource limits, a deadline and a bounded retry.
import { createHash } from 'node:crypto';
import { apiVersion } from '../../api/common.ts';
import type { BackupTarget, Compression } from '../../api/backup-target.ts';
import { managedByLabel } from '../context.ts';

export const backupLabel = 'flightdeck.t7.io/backup';
export const restoreLabel = 'flightdeck.t7.io/restore';
export const volumeBackupLabel = 'flightdeck.t7.io/volume-backup';
export const volumeRestoreLabel = 'flightdeck.t7.io/volume-restore';
/** Jobs with one of these labels take a slot under backups.maxConcurrent: database and files backups share the limit. */
export const slotTakingLabels: readonly string[] = [backupLabel, volumeBackupLabel];

/** Whether `job` is a backup run of either kind (it takes a slot while it runs). */
export function takesBackupSlot(job: { metadata: { labels?: Record<string, string> } }): boolean {
  return slotTakingLabels.some((label) => job.metadata.labels?.[label] !== undefined);
}
/** The run id on a backup Job, so a finished Job tells which run it was. */
export const runIdLabel = 'flightdeck.t7.io/run-id';
/** Which attempt of its run a backup Job is (1, 2, 3). */
export const attemptLabel = 'flightdeck.t7.io/attempt';

/** The container's name; the pod failure policy and result reading refer to it. */
export const workContainer = 'work';
/** The script's exit status for a refusal that no retry can change (it fails the Job at once). */
export const refusedExitCode = 2;
/** Retries of a run that failed for a reason that may pass (the store or the server unreachable). */
export const jobBackoffLimit = 2;
/** Finished Jobs stay this long for `kubectl logs` and for the operator to read their result. */
export const finishedJobTtlSeconds = 7 * 24 * 3600;

/** The image's mysql user (uid and gid 999, as in the official image). */
const mysqlUid = 999;

export const defaultJobResources = {
  requests: { cpu: '100m', memory: '256Mi' },
  limits: { memory: '1Gi' },
} as const;

/** The account the Job logs in as: a Secret in the Job's namespace with keys username and password. */
export interface JobCredentials {
  readonly host: string;
  readonly port: number;
  readonly secretName: string;
}

export interface JobOwner {
  readonly kind: 'MySQLBackup' | 'MySQLRestore';
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

interface CommonJobInput {
  readonly owner: JobOwner;
  readonly image: string;
  readonly credentials: JobCredentials;
  readonly target: BackupTarget;
  /** The run's folder below the target's prefix or subPath: <namespace>/<backup>/<id>. */
  readonly runPath: string;
  readonly encryptionKey?: { readonly secretName: string; readonly key: string } | undefined;
  readonly activeDeadlineSeconds: number;
  readonly resources?: unknown;
}

export interface BackupJobInput extends CommonJobInput {
  readonly runId: string;
  /** Which attempt of the run this Job is: 1 for the first (src/backup/run-decision.ts retries a failed one). */
  readonly attempt?: number;
  /** Empty: every database the account sees but the system ones. */
  readonly databases: readonly string[];
  readonly compression: Compression;
}

export interface RestoreJobInput extends CommonJobInput {
  readonly databases: readonly { readonly from: string; readonly to: string }[];
  readonly overwrite: boolean;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef: { name: string; key: string } };
}

interface Volume {
  name: string;
  secret?: { secretName: string; defaultMode: number; items: { key: string; path: string }[] };
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: { sizeLimit?: string };
}

export interface JobManifest {
  apiVersion: 'batch/v1';
  kind: 'Job';
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    ownerReferences: { apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean }[];
  };
  spec: Record<string, unknown> & {
    backoffLimit: number;
    activeDeadlineSeconds: number;
    template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> & { volumes: Volume[] } };
  };
}

const maxNameLength = 63;

/**
 * `<base>-<suffix>`, or when longer than a name may be, the base cut and a
 * hash of the whole added, so that distinct runs keep distinct names.
 */
export function jobName(base: string, suffix: string): string {
  const full = `${base}-${suffix}`;
  if (full.length <= maxNameLength) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  const keep = maxNameLength - suffix.length - hash.length - 2;
  return `${base.slice(0, keep).replace(/-+$/, '')}-${hash}-${suffix}`;
}

/** Attempt 1 of a run is `<backup>-<run id>`; a retry adds its number (`-2`, `-3`), so every attempt keeps its own Job and logs. */
export function backupJobName(backup: string, runId: string, attempt = 1): string {
  return jobName(backup, attempt === 1 ? runId.toLowerCase() : `${runId.toLowerCase()}-${attempt}`);
}

export function restoreJobName(restore: string): string {
  return jobName(restore, 'restore');
}

const mounts = { password: '/etc/flightdeck/db', encryption: '/etc/flightdeck/encryption', ca: '/etc/flightdeck/ca', pvc: '/backup', tmp: '/tmp' };

/** rclone's remote "target" and the run's location on it, for either kind of target. */
function targetWiring(target: BackupTarget, runPath: string): { env: EnvVar[]; volumes: Volume[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[]; location: string } {
  if (target.s3 !== undefined) {
    const s3 = target.s3;
    const secret = s3.credentialsSecret;
    const env: EnvVar[] = [
      { name: 'RCLONE_CONFIG_TARGET_TYPE', value: 's3' },
      { name: 'RCLONE_CONFIG_TARGET_PROVIDER', value: 'Other' },
      { name: 'RCLONE_CONFIG_TARGET_ENDPOINT', value: s3.endpoint },
      { name: 'RCLONE_CONFIG_TARGET_REGION', value: s3.region ?? 'us-east-1' },
      { name: 'RCLONE_CONFIG_TARGET_FORCE_PATH_STYLE', value: String(s3.pathStyle ?? true) },
      // The bucket must exist (the operator does not create buckets); without this rclone tries to.
      { name: 'RCLONE_CONFIG_TARGET_NO_CHECK_BUCKET', value: 'true' },
      { name: 'RCLONE_CONFIG_TARGET_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: secret.name, key: secret.accessKeyIdKey ?? 'AWS_ACCESS_KEY_ID' } } },
      { name: 'RCLONE_CONFIG_TARGET_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: secret.name, key: secret.secretAccessKeyKey ?? 'AWS_SECRET_ACCESS_KEY' } } },
    ];
    const volumes: Volume[] = [];
    const volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] = [];
    if (s3.tls?.insecureSkipVerify === true) env.push({ name: 'RCLONE_NO_CHECK_CERTIFICATE', value: 'true' });
    const ca = s3.tls?.caSecret;
    if (ca !== undefined) {
      const key = ca.key ?? 'ca.crt';
      volumes.push({ name: 'ca', secret: { secretName: ca.name, defaultMode: 0o444, items: [{ key, path: 'ca.crt' }] } });
      volumeMounts.push({ name: 'ca', mountPath: mounts.ca, readOnly: true });
      env.push({ name: 'RCLONE_CA_CERT', value: `${mounts.ca}/ca.crt` });
    }
    const path = [s3.bucket, s3.prefix, runPath].filter((p) => p !== undefined && p !== '').join('/');
    return { env, volumes, volumeMounts, location: `target:${path}` };
  }
  if (target.pvc !== undefined) {
    const path = [mounts.pvc, target.pvc.subPath, runPath].filter((p) => p !== undefined && p !== '').join('/');
    return {
      env: [{ name: 'RCLONE_CONFIG_TARGET_TYPE', value: 'local' }],
      volumes: [{ name: 'target', persistentVolumeClaim: { claimName: target.pvc.claimName } }],
      volumeMounts: [{ name: 'target', mountPath: mounts.pvc }],
      location: `target:${path}`,
    };
  }
  throw new Error('a backup target needs exactly one of s3 or pvc');
}

function buildJob(input: CommonJobInput, name: string, labels: Record<string, string>, command: 'backup' | 'restore', workEnv: EnvVar[]): JobManifest {
  const target = targetWiring(input.target, input.runPath);
  const env: EnvVar[] = [
    { name: 'DB_HOST', value: input.credentials.host },
    { name: 'DB_PORT', value: String(input.credentials.port) },
    { name: 'DB_USER', valueFrom: { secretKeyRef: { name: input.credentials.secretName, key: 'username' } } },
    { name: 'DB_PASSWORD_FILE', value: `${mounts.password}/password` },
    { name: 'LOCATION', value: target.location },
    { name: 'RESULT_FILE', value: '/dev/termination-log' },
    { name: 'TMPDIR', value: mounts.tmp },
    { name: 'HOME', value: mounts.tmp },
    ...target.env,
    ...workEnv,
  ];
  const volumes: Volume[] = [
    { name: 'db-password', secret: { secretName: input.credentials.secretName, defaultMode: 0o400, items: [{ key: 'password', path: 'password' }] } },
    // A restore downloads the backup here before it verifies and loads it.
    { name: 'tmp', emptyDir: {} },
    ...target.volumes,
  ];
  const volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] = [
    { name: 'db-password', mountPath: mounts.password, readOnly: true },
    { name: 'tmp', mountPath: mounts.tmp },
    ...target.volumeMounts,
  ];
  if (input.encryptionKey !== undefined) {
    volumes.push({ name: 'encryption-key', secret: { secretName: input.encryptionKey.secretName, defaultMode: 0o400, items: [{ key: input.encryptionKey.key, path: 'key' }] } });
    volumeMounts.push({ name: 'encryption-key', mountPath: mounts.encryption, readOnly: true });
    env.push({ name: 'ENCRYPTION_KEY_FILE', value: `${mounts.encryption}/key` });
  }
  const allLabels = { ...managedByLabel, ...labels };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: input.owner.namespace,
      labels: allLabels,
      ownerReferences: [{ apiVersion, kind: input.owner.kind, name: input.owner.name, uid: input.owner.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      backoffLimit: jobBackoffLimit,
      activeDeadlineSeconds: input.activeDeadlineSeconds,
      ttlSecondsAfterFinished: finishedJobTtlSeconds,
      podFailurePolicy: {
        rules: [
          { action: 'FailJob', onExitCodes: { containerName: workContainer, operator: 'In', values: [refusedExitCode] } },
          // A pod pushed off its node (drain, preemption) is not the work failing.
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
        ],
      },
      template: {
        // The managed-by label puts the pods in the operator's pod cache, where their results are read.
        metadata: { labels: allLabels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: mysqlUid,
            runAsGroup: mysqlUid,
            // A volume target is written as this group.
            fsGroup: mysqlUid,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: workContainer,
              image: input.image,
              imagePullPolicy: 'IfNotPresent',
              command: ['flightdeck-backup', command],
              env,
              volumeMounts,
              resources: input.resources ?? defaultJobResources,
              terminationMessagePolicy: 'File',
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
          volumes,
        },
      },
    },
  };
}

export function backupJob(input: BackupJobInput): JobManifest {
  const attempt = input.attempt ?? 1;
  const job = buildJob(input, backupJobName(input.owner.name, input.runId, attempt), { [backupLabel]: input.owner.name, [runIdLabel]: input.runId.toLowerCase(), [attemptLabel]: String(attempt) }, 'backup', [
    { name: 'BACKUP_ID', value: input.runId },
    { name: 'BACKUP_DATABASES', value: input.databases.join('\n') },
    { name: 'BACKUP_COMPRESSION', value: input.compression },
  ]);
  // One pod per attempt: a failed attempt goes back to the queue (run-decision.ts) rather than holding its slot through pod retries.
  job.spec.backoffLimit = 0;
  return job;
}

export function restoreJob(input: RestoreJobInput): JobManifest {
  return buildJob(input, restoreJobName(input.owner.name), { [restoreLabel]: input.owner.name }, 'restore', [
    { name: 'RESTORE_DATABASES', value: input.databases.map((d) => `${d.from}\t${d.to}`).join('\n') },
    { name: 'RESTORE_OVERWRITE', value: String(input.overwrite) },
  ]);
}
