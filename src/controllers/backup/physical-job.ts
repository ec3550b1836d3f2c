// The Job of a physical backup (MySQLBackup method: physical, managed
// clusters only): `flightdeck-backup physical-backup` connects to the donor
// endpoint of one instance (src/controllers/cluster/managed/builders/seed.ts),
// proves it knows the cluster's replication password without sending it,
// and stores the mariadb-backup stream it gets, compressed and encrypted,
// with manifest.json written last. It needs no database account: the one
// secret it gets is the credentials Secret's replication-password key, as a
// variable; no service account token, non-root, limits, deadline, bounded
// retries — as the logical backup Jobs (job.ts).
import { apiVersion } from '../../api/common.ts';
import type { BackupTarget, Compression } from '../../api/backup-target.ts';
import { donorContainer } from '../cluster/managed/builders/seed.ts';
import { credentialKeys, type ClusterNames } from '../cluster/managed/builders/names.ts';
import { managedByLabel } from '../context.ts';
import {
  attemptLabel,
  backupJobName,
  backupLabel,
  defaultJobResources,
  finishedJobTtlSeconds,
  refusedExitCode,
  runIdLabel,
  targetWiring,
  workContainer,
  type JobManifest,
  type JobOwner,
} from './job.ts';
import type { PhysicalDonor } from './physical-donor.ts';

/** Marks a backup Job as physical (its pods carry it too). */
export const backupMethodLabel = 'flightdeck.t7.io/backup-method';

export interface PhysicalBackupJobInput {
  readonly owner: JobOwner;
  /** The cluster's MariaDB image: it has mariadb-backup's stream format tools, rclone and the script. */
  readonly image: string;
  /** The cluster's Services and credentials Secret (the Job runs in the cluster's namespace). */
  readonly names: ClusterNames;
  readonly donor: PhysicalDonor;
  readonly target: BackupTarget;
  /** <namespace>/<backup>/<id>, below the target's prefix or subPath. */
  readonly runPath: string;
  readonly runId: string;
  /** 1 for a run's first Job; a retry's number otherwise (its own Job name, as backupJob's). */
  readonly attempt?: number;
  readonly compression: Compression;
  readonly encryptionKey?: { readonly secretName: string; readonly key: string } | undefined;
  readonly activeDeadlineSeconds: number;
  readonly resources?: unknown;
}

const mysqlUid = 999;
const mounts = { encryption: '/etc/flightdeck/encryption', tmp: '/tmp' };

export function physicalBackupJob(input: PhysicalBackupJobInput): JobManifest {
  const target = targetWiring(input.target, input.runPath);
  const env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[] = [
    // <pod>.<headless Service>: resolved through the pod's search path, the cluster's namespace.
    { name: 'DONOR_HOST', value: `${input.donor.instance}.${input.names.instancesService}` },
    { name: 'DONOR_PORT', value: String(donorContainer.port) },
    { name: 'DONOR_INSTANCE', value: input.donor.instance },
    { name: 'DONOR_ROLE', value: input.donor.role },
    { name: 'FLIGHTDECK_SEED_SECRET', valueFrom: { secretKeyRef: { name: input.names.credentialsSecret, key: credentialKeys.replicationPassword } } },
    { name: 'LOCATION', value: target.location },
    { name: 'RESULT_FILE', value: '/dev/termination-log' },
    { name: 'TMPDIR', value: mounts.tmp },
    { name: 'HOME', value: mounts.tmp },
    { name: 'BACKUP_ID', value: input.runId },
    { name: 'BACKUP_COMPRESSION', value: input.compression },
    ...target.env,
  ];
  const volumes: JobManifest['spec']['template']['spec']['volumes'] = [{ name: 'tmp', emptyDir: {} }, ...target.volumes];
  const volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] = [{ name: 'tmp', mountPath: mounts.tmp }, ...target.volumeMounts];
  if (input.encryptionKey !== undefined) {
    volumes.push({ name: 'encryption-key', secret: { secretName: input.encryptionKey.secretName, defaultMode: 0o400, items: [{ key: input.encryptionKey.key, path: 'key' }] } });
    volumeMounts.push({ name: 'encryption-key', mountPath: mounts.encryption, readOnly: true });
    env.push({ name: 'ENCRYPTION_KEY_FILE', value: `${mounts.encryption}/key` });
  }
  const attempt = input.attempt ?? 1;
  const labels = { ...managedByLabel, [backupLabel]: input.owner.name, [runIdLabel]: input.runId.toLowerCase(), [attemptLabel]: String(attempt), [backupMethodLabel]: 'physical' };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: backupJobName(input.owner.name, input.runId, attempt),
      namespace: input.owner.namespace,
      labels,
      ownerReferences: [{ apiVersion, kind: input.owner.kind, name: input.owner.name, uid: input.owner.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      // One pod per attempt, as backupJob: a failed attempt goes back to the queue rather than holding its slot through pod retries.
      backoffLimit: 0,
      activeDeadlineSeconds: input.activeDeadlineSeconds,
      ttlSecondsAfterFinished: finishedJobTtlSeconds,
      podFailurePolicy: {
        rules: [
          { action: 'FailJob', onExitCodes: { containerName: workContainer, operator: 'In', values: [refusedExitCode] } },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, runAsUser: mysqlUid, runAsGroup: mysqlUid, fsGroup: mysqlUid, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: workContainer,
              image: input.image,
              imagePullPolicy: 'IfNotPresent',
              command: ['flightdeck-backup', 'physical-backup'],
              env,
              volumeMounts,
              resources: input.resources ?? defaultJobResources,
              terminationMessagePolicy: 'File',
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            },
          ],
          volumes,
        },
      },
    },
  };
}
