// The VolumeRestore reconciler: one restore of a files backup into a folder
// of a PersistentVolumeClaim, run once as a Job. Phases:
//   1. ended   (Complete or Failed: nothing more, ever — a restore is not repeated)
//   2. source  (the VolumeBackup's backup, or a target and path given directly; BackupNotFound waits here)
//   3. inputs  (Secrets; the target claim and the node it must be mounted on: ClaimNotFound, ClaimInUse wait here)
//   4. start   (the Job)
//   5. follow  (the Job's end: Complete with the files restored and whether they match the backup, or Failed with the script's reason)
// A non-empty target folder without overwrite is refused by the Job's script
// before it changes anything (TargetNotEmpty), and shows here as Failed.
import { chooseBackup, restoreEnded, restoresOfBackup } from '../restore/chosen-backup.ts';
import { elapsedSeconds } from '../../backup/elapsed.ts';
import type { BackupTarget } from '../../api/backup-target.ts';
import { defaultMariadbImage } from '../../api/mysqlcluster.ts';
import type { VolumeRestore } from '../../api/volumerestore.ts';
import type { ReconcileOutcome } from '../../runtime/controller.ts';
import type { ConditionUpdate } from '../../runtime/conditions.ts';
import { owns } from '../../runtime/triggers.ts';
import { volumeRestoreJob, volumeRestoreJobName, type JobOwner } from '../backup/job.ts';
import { jobNameLabel, jobOutcome, type JobPod } from '../backup/job-status.ts';
import { splitKey, type ControllerContext, type ControllerDefinition } from '../context.ts';
import { writeStatus, type Readiness } from '../status.ts';
import { ownChanges } from '../worth-reconciling.ts';
import { claimNodeChoice } from '../volume-backup/claim-node.ts';
import { filesResultOf } from '../volume-backup/files-result.ts';
import { missingSecret, waitingForSecret } from '../backup/secrets.ts';

const followUpMs = 30_000;

interface ResolvedSource {
  readonly target: BackupTarget;
  readonly path: string;
  readonly backupId?: string;
  readonly encryption?: { readonly name: string; readonly key?: string };
}

function ownerOf(restore: VolumeRestore): JobOwner {
  return { kind: 'VolumeRestore', name: restore.metadata.name, namespace: restore.metadata.namespace ?? 'default', uid: restore.metadata.uid ?? '' };
}

/** The backup to restore, or why it cannot be found (yet). */
function resolveSource(context: ControllerContext, restore: VolumeRestore): ResolvedSource | Readiness {
  const namespace = restore.metadata.namespace ?? 'default';
  const source = restore.spec.source;
  const restoreKey = restore.spec.encryption?.secretKeyRef;
  if (source.backup !== undefined) {
    const backup = context.caches.volumeBackups.get(namespace, source.backup.name);
    if (backup === undefined) return { ready: false, reason: 'BackupNotFound', message: `VolumeBackup ${namespace}/${source.backup.name} does not exist` };
    const chosen = chooseBackup(`VolumeBackup ${namespace}/${source.backup.name}`, source.backup.id, backup.status?.backups);
    if ('ready' in chosen) return chosen;
    const encryption = restoreKey ?? backup.spec.encryption?.secretKeyRef;
    return { target: backup.spec.target, path: chosen.path, backupId: chosen.id, ...(encryption === undefined ? {} : { encryption }) };
  }
  if (source.target !== undefined && source.path !== undefined) {
    return { target: source.target, path: source.path, ...(restoreKey === undefined ? {} : { encryption: restoreKey }) };
  }
  return { ready: false, reason: 'InvalidSpec', message: 'spec.source needs either backup, or target and path' };
}

export async function reconcileVolumeRestore(context: ControllerContext, key: string): Promise<ReconcileOutcome | undefined> {
  const { namespace, name } = splitKey(key);
  const restore = context.caches.volumeRestores.get(namespace, name);
  // 1. ended
  if (restore === undefined || restoreEnded(restore) || restore.metadata.deletionTimestamp !== undefined) return undefined;
  const owner = ownerOf(restore);
  const fields: Record<string, unknown> = { ...(restore.status ?? {}) };
  const wait = async (readiness: Readiness): Promise<ReconcileOutcome> => {
    await writeStatus(context, restore, { ...fields, message: readiness.message }, readiness);
    return { requeueAfterMs: context.resyncIntervalMs };
  };

  // 2. source
  const source = resolveSource(context, restore);
  if ('ready' in source) return wait(source);
  const encryptionKey = source.encryption === undefined ? undefined : { secretName: source.encryption.name, key: source.encryption.key ?? 'key' };
  const jobName = volumeRestoreJobName(owner.name);
  const job = context.caches.jobs.get(owner.namespace, jobName);
  const now = context.now();
  const base = { ...fields, jobName, path: source.path, ...(source.backupId === undefined ? {} : { backupId: source.backupId }) };
  const target = restore.spec.target;
  const into = `PersistentVolumeClaim ${target.claimName}${target.subPath === undefined ? '' : ` folder ${target.subPath}`}`;

  if (job === undefined) {
    // Created before; the cache has not shown it yet.
    if (restore.status?.startTime !== undefined) return { requeueAfterMs: 2000 };
    // 3. inputs
    const secretProblem = missingSecret(context, owner.namespace, source.target, encryptionKey === undefined ? undefined : { secretKeyRef: { name: encryptionKey.secretName, key: encryptionKey.key } });
    if (secretProblem !== undefined) return wait(secretProblem);
    const node = await claimNodeChoice(context, owner.namespace, target.claimName, `${jobName}-`);
    if ('refusal' in node) return wait(node.refusal);
    // 4. start
    await context.kube.create(
      volumeRestoreJob({
        owner,
        image: defaultMariadbImage,
        target: source.target,
        runPath: source.path,
        encryptionKey,
        activeDeadlineSeconds: restore.spec.activeDeadlineSeconds ?? 3600,
        resources: restore.spec.resources,
        nodeName: node.nodeName,
        volume: target,
        overwrite: restore.spec.overwrite ?? false,
      }),
    );
    const message = `Job ${jobName} is restoring ${source.path} into ${into}`;
    context.events.record(restore, 'Normal', 'RestoreStarted', message);
    await writeStatus(context, restore, { ...base, startTime: now.toISOString(), message }, { ready: false, reason: 'Running', message });
    return { requeueAfterMs: followUpMs };
  }

  // 5. follow
  const pods = context.caches.pods.list(owner.namespace).filter((p) => p.metadata.labels?.[jobNameLabel] === jobName) as JobPod[];
  const outcome = jobOutcome(job, pods);
  if (outcome.state === 'running') return { requeueAfterMs: followUpMs };
  const startTime = restore.status?.startTime ?? job.status?.startTime ?? now.toISOString();
  const completionTime = outcome.completionTime ?? now.toISOString();
  const durationSeconds = elapsedSeconds(startTime, completionTime);
  const timing = { startTime, completionTime, durationSeconds };
  if (outcome.state === 'failed') {
    const message = `${outcome.reason}: ${outcome.message}`;
    const failed: ConditionUpdate = { type: 'Failed', status: 'True', reason: outcome.reason, message };
    await writeStatus(context, restore, { ...base, ...timing, message }, { ready: false, reason: outcome.reason, message }, [failed]);
    context.events.record(restore, 'Warning', 'RestoreFailed', message);
    return undefined;
  }
  const made = filesResultOf(outcome.result);
  const verified = made.verified === true;
  const what = `${made.fileCount ?? 0} entries, ${made.contentBytes ?? 0} bytes of files`;
  const message = verified
    ? `restored ${what} into ${into}; every entry's content, mode, owner and time equal the backup's`
    : `restored ${what} into ${into}; ${made.warning ?? 'not verified'}`;
  const complete: ConditionUpdate = { type: 'Complete', status: 'True', reason: verified ? 'Verified' : 'Restored', message };
  const facts = {
    ...(made.fileCount === undefined ? {} : { fileCount: made.fileCount }),
    ...(made.contentBytes === undefined ? {} : { contentBytes: made.contentBytes }),
    ...(made.contentSha256 === undefined ? {} : { contentSha256: made.contentSha256 }),
    verified,
  };
  await writeStatus(context, restore, { ...base, ...timing, ...facts, message }, { ready: true, reason: 'Complete', message }, [complete]);
  context.events.record(restore, 'Normal', 'RestoreCompleted', message);
  return undefined;
}

export const volumeRestoreController: ControllerDefinition = {
  name: 'volumerestore',
  reconcile: reconcileVolumeRestore,
  triggers: (caches) => [
    ownChanges(caches.volumeRestores, 'volumerestores'),
    waitingForSecret(caches.secrets, caches.volumeRestores, 'VolumeRestores'),
    restoresOfBackup(caches.volumeBackups, caches.volumeRestores, 'VolumeRestores of a VolumeBackup that changed'),
    owns(caches.jobs, 'Jobs owned by VolumeRestore', { apiVersion: 'flightdeck.t7.io/v1', kind: 'VolumeRestore' }),
  ],
};
