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
/**
 * On a physical backup's Job: the instance it copies and why (status
 * lastRun.source), so a reconcile that finds the Job before its own status
 * write shows (the cache lags) still records it.
 */
export const runSourceAnnotation = 'flightdeck.t7.io/source';
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
  readonly kind: 'MySQLBackup' | 'MySQLRestore' | 'VolumeBackup' | 'VolumeRestore';
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

/**
 * The runs a backup Job deletes from a PVC target once its own manifest is
 * written (src/backup/prune-after-run.ts decides; the operator cannot mount
 * the volume). Ignored for an S3 target, which the operator prunes itself.
 */
interface PruningInput {
  readonly pruneRuns?: readonly string[] | undefined;
}

/** PRUNE_RUNS, one id per line, for a PVC target with runs to prune; nothing otherwise. */
function pruneEnv(target: BackupTarget, input: PruningInput): EnvVar[] {
  const runs = input.pruneRuns ?? [];
  return target.pvc === undefined || runs.length === 0 ? [] : [{ name: 'PRUNE_RUNS', value: runs.join('\n') }];
}

export interface BackupJobInput extends CommonJobInput, PruningInput {
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
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  emptyDir?: { sizeLimit?: string };
}

export interface JobManifest {
  apiVersion: 'batch/v1';
  kind: 'Job';
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
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
export function targetWiring(target: BackupTarget, runPath: string): { env: EnvVar[]; volumes: Volume[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[]; location: string } {
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
  return jobShell(input.owner, name, labels, input.activeDeadlineSeconds, {
    securityContext: {
      runAsNonRoot: true,
      runAsUser: mysqlUid,
      runAsGroup: mysqlUid,
      // A volume target is written as this group.
      fsGroup: mysqlUid,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    container: {
      image: input.image,
      command: ['flightdeck-backup', command],
      env,
      volumeMounts,
      resources: input.resources ?? defaultJobResources,
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
    },
    volumes,
  });
}

interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

/** What differs between the Jobs' pods: who the work runs as, its container, its volumes, where it may run. */
interface PodParts {
  readonly securityContext: Record<string, unknown>;
  readonly container: { image: string; command: string[]; env: EnvVar[]; volumeMounts: VolumeMount[]; resources: unknown; securityContext: Record<string, unknown> };
  readonly volumes: Volume[];
  readonly affinity?: Record<string, unknown>;
}

/** The Job around a pod: owner, labels, deadline, bounded retries, failure policy, no token, one container named workContainer. */
function jobShell(owner: JobOwner, name: string, labels: Record<string, string>, activeDeadlineSeconds: number, pod: PodParts): JobManifest {
  const allLabels = { ...managedByLabel, ...labels };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: owner.namespace,
      labels: allLabels,
      ownerReferences: [{ apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      backoffLimit: jobBackoffLimit,
      activeDeadlineSeconds,
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
          securityContext: pod.securityContext,
          ...(pod.affinity === undefined ? {} : { affinity: pod.affinity }),
          containers: [
            {
              name: workContainer,
              imagePullPolicy: 'IfNotPresent',
              ...pod.container,
              terminationMessagePolicy: 'File',
            },
          ],
          volumes: pod.volumes,
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
    ...pruneEnv(input.target, input),
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

// ---------------------------------------------------------------- files (VolumeBackup, VolumeRestore)

/** A folder of a PersistentVolumeClaim in the Job's namespace. */
export interface VolumeFolder {
  readonly claimName: string;
  readonly subPath?: string | undefined;
}

interface FilesJobInput {
  readonly owner: JobOwner;
  readonly image: string;
  readonly target: BackupTarget;
  /** The run's folder below the target's prefix or subPath: <namespace>/<backup>/<id>. */
  readonly runPath: string;
  readonly encryptionKey?: { readonly secretName: string; readonly key: string } | undefined;
  readonly activeDeadlineSeconds: number;
  readonly resources?: unknown;
  /** The node the pod must run on: a ReadWriteOnce claim in use is attached there (volume-backup/node-choice.ts). */
  readonly nodeName?: string | undefined;
}

export interface FilesBackupJobInput extends FilesJobInput, PruningInput {
  readonly runId: string;
  readonly source: VolumeFolder;
  readonly compression: Compression;
}

export interface FilesRestoreJobInput extends FilesJobInput {
  readonly volume: VolumeFolder;
  readonly overwrite: boolean;
}

const volumeMounts_ = { source: '/source', volume: '/volume' };

/**
 * Files keep their owners: a site's uploads belong to www-data, or to any
 * uid its image runs as, often readable by it alone. So the work runs as
 * root, but with the capabilities its job needs and no others: reading any
 * file (DAC_READ_SEARCH) for a backup; giving files their owners and modes
 * back (CHOWN, FOWNER, FSETID) and writing into any folder (DAC_OVERRIDE) for
 * a restore. No fsGroup: the kubelet would change the group of every file on
 * the volume to it.
 */
function filesPodSecurity(capabilities: readonly string[]): { pod: Record<string, unknown>; container: Record<string, unknown> } {
  return {
    pod: { runAsNonRoot: false, runAsUser: 0, runAsGroup: 0, seccompProfile: { type: 'RuntimeDefault' } },
    container: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: [...capabilities] } },
  };
}

function requiredNode(nodeName: string | undefined): Record<string, unknown> | undefined {
  if (nodeName === undefined) return undefined;
  return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] } } };
}

function folderPath(mountPath: string, folder: VolumeFolder): string {
  return folder.subPath === undefined || folder.subPath === '' ? mountPath : `${mountPath}/${folder.subPath}`;
}

function filesJob(input: FilesJobInput, name: string, labels: Record<string, string>, command: 'files-backup' | 'files-restore', work: { env: EnvVar[]; volumes: Volume[]; volumeMounts: VolumeMount[]; capabilities: string[] }): JobManifest {
  const target = targetWiring(input.target, input.runPath);
  const env: EnvVar[] = [
    { name: 'LOCATION', value: target.location },
    { name: 'RESULT_FILE', value: '/dev/termination-log' },
    { name: 'TMPDIR', value: mounts.tmp },
    { name: 'HOME', value: mounts.tmp },
    ...target.env,
    ...work.env,
  ];
  const volumes: Volume[] = [{ name: 'tmp', emptyDir: {} }, ...target.volumes, ...work.volumes];
  const volumeMounts: VolumeMount[] = [{ name: 'tmp', mountPath: mounts.tmp }, ...target.volumeMounts, ...work.volumeMounts];
  if (input.encryptionKey !== undefined) {
    volumes.push({ name: 'encryption-key', secret: { secretName: input.encryptionKey.secretName, defaultMode: 0o400, items: [{ key: input.encryptionKey.key, path: 'key' }] } });
    volumeMounts.push({ name: 'encryption-key', mountPath: mounts.encryption, readOnly: true });
    env.push({ name: 'ENCRYPTION_KEY_FILE', value: `${mounts.encryption}/key` });
  }
  // Writing a backup into a volume target whose folders a database backup Job made (uid 999, mode 700) needs it too.
  const capabilities = input.target.pvc === undefined ? work.capabilities : [...new Set([...work.capabilities, 'DAC_OVERRIDE'])];
  const security = filesPodSecurity(capabilities);
  const affinity = requiredNode(input.nodeName);
  return jobShell(input.owner, name, labels, input.activeDeadlineSeconds, {
    securityContext: security.pod,
    container: { image: input.image, command: ['flightdeck-backup', command], env, volumeMounts, resources: input.resources ?? defaultJobResources, securityContext: security.container },
    volumes,
    ...(affinity === undefined ? {} : { affinity }),
  });
}

export function volumeBackupJobName(backup: string, runId: string): string {
  return jobName(backup, `files-${runId.toLowerCase()}`);
}

export function volumeRestoreJobName(restore: string): string {
  return jobName(restore, 'files-restore');
}

/** A VolumeBackup run: the source claim mounted read-only, its folder archived to the target. */
export function volumeBackupJob(input: FilesBackupJobInput): JobManifest {
  return filesJob(input, volumeBackupJobName(input.owner.name, input.runId), { [volumeBackupLabel]: input.owner.name, [runIdLabel]: input.runId.toLowerCase() }, 'files-backup', {
    env: [
      { name: 'BACKUP_ID', value: input.runId },
      { name: 'BACKUP_COMPRESSION', value: input.compression },
      { name: 'SOURCE_DIR', value: folderPath(volumeMounts_.source, input.source) },
      ...pruneEnv(input.target, input),
    ],
    volumes: [{ name: 'source', persistentVolumeClaim: { claimName: input.source.claimName, readOnly: true } }],
    volumeMounts: [{ name: 'source', mountPath: volumeMounts_.source, readOnly: true }],
    capabilities: ['DAC_READ_SEARCH'],
  });
}

/** A VolumeRestore: the archive verified, extracted beside the target folder on its volume, then moved into place. */
export function volumeRestoreJob(input: FilesRestoreJobInput): JobManifest {
  return filesJob(input, volumeRestoreJobName(input.owner.name), { [volumeRestoreLabel]: input.owner.name }, 'files-restore', {
    env: [
      { name: 'VOLUME_ROOT', value: volumeMounts_.volume },
      { name: 'TARGET_DIR', value: folderPath(volumeMounts_.volume, input.volume) },
      { name: 'RESTORE_OVERWRITE', value: String(input.overwrite) },
    ],
    volumes: [{ name: 'volume', persistentVolumeClaim: { claimName: input.volume.claimName } }],
    volumeMounts: [{ name: 'volume', mountPath: volumeMounts_.volume }],
    capabilities: ['CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID'],
  });
}
