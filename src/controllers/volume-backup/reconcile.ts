// The VolumeBackup reconciler: backups of a PersistentVolumeClaim's files,
// with MySQLBackup's schedules, queue, slots and retention. Phases, in order:
//   1. deletion       (the run's slot withdrawn; its Job goes with the object, as its owner)
//   2. spec           (schedule and time zone read; InvalidSpec stops here)
//   3. source         (the claim in the object's own namespace, the Secrets; ClaimNotFound, SecretMissing stop here); then,
//                      once, the backups already in an S3 target listed when status never listed any (found-backups.ts)
//   4. running run    (its Job followed to the end: lastRun, backups, LastBackupSucceeded, Events; retention, done by
//                      the operator on an S3 target and by the Job on a PVC target)
//   5. due run        (one-off: at creation; scheduled: the latest fire time since the last run)
//   6. slot           (waits in the cluster-wide queue shared with MySQLBackups: status.queued, queuePosition)
//   7. start          (the Job, pinned to the node of a pod that holds a ReadWriteOnce claim, told on a PVC target
//                      which runs to prune once it has succeeded; lastRun Running)
// What queues a VolumeBackup is declared at the end (volumeBackupController).
import { elapsedSeconds } from '../../backup/elapsed.ts';
import { defaultMariadbImage } from '../../api/mysqlcluster.ts';
import type { VolumeBackup, VolumeBackupStatus } from '../../api/volumebackup.ts';
import { formatRunId, parseRunId } from '../../backup/manifest.ts';
import { jitteredStart, parseCron, runDue, TimeZone } from '../../backup/schedule.ts';
import type { ReconcileOutcome } from '../../runtime/controller.ts';
import { owns, watches, type Trigger } from '../../runtime/triggers.ts';
import { takesBackupSlot, volumeBackupJob, volumeBackupJobName, type JobOwner } from '../backup/job.ts';
import { jobNameLabel, jobOutcome, type JobPod } from '../backup/job-status.ts';
import { backupsToAdopt } from '../backup/found-backups.ts';
import { jobEnded, runningBackupJobs } from '../backup/reconcile.ts';
import type { BackupSlots } from '../backup/slots.ts';
import { finishRun, listedAfterSuccess } from '../backup/run-end.ts';
import { runsForJobToPrune } from '../backup/prune.ts';
import { pruneReportOf } from '../backup/prune-report.ts';
import { keyOf, splitKey, type ControllerContext, type ControllerDefinition } from '../context.ts';
import { writeStatus, type Readiness } from '../status.ts';
import { ownChanges } from '../worth-reconciling.ts';
import { filesResultOf } from './files-result.ts';
import { missingSecret, waitingForSecret } from '../backup/secrets.ts';
import { claimNodeChoice } from './claim-node.ts';

/** How long a created Job may stay out of the cache before the run counts as lost. */
const jobAppearanceMs = 120_000;
/** A waiting or running backup looks again at least this often (a Job's end also queues it at once). */
const followUpMs = 30_000;

type LastRun = NonNullable<VolumeBackupStatus['lastRun']>;
type ListedBackup = NonNullable<VolumeBackupStatus['backups']>[number];

/** What a successful run made, for LastBackupSucceeded and its Event. */
const completed = (run: LastRun): string => `${run.fileCount ?? 0} entries, ${run.contentBytes ?? 0} bytes of files in ${run.sizeBytes ?? 0} bytes at ${run.path ?? ''}`;

function ownerOf(backup: VolumeBackup): JobOwner {
  return { kind: 'VolumeBackup', name: backup.metadata.name, namespace: backup.metadata.namespace ?? 'default', uid: backup.metadata.uid ?? '' };
}

export function volumeBackupReconciler(slots: BackupSlots): (context: ControllerContext, key: string) => Promise<ReconcileOutcome | undefined> {
  return async (context, key) => {
    const { namespace, name } = splitKey(key);
    const backup = context.caches.volumeBackups.get(namespace, name);
    // 1. deletion (nothing to clean on a server: the Job is owned by the object)
    if (backup === undefined || backup.metadata.deletionTimestamp !== undefined) {
      slots.forget(key, 'VolumeBackup');
      return undefined;
    }
    return reconcileVolumeBackup(context, slots, backup);
  };
}

async function reconcileVolumeBackup(context: ControllerContext, slots: BackupSlots, backup: VolumeBackup): Promise<ReconcileOutcome | undefined> {
  const key = keyOf(backup);
  const owner = ownerOf(backup);
  const fields: Record<string, unknown> = { ...(backup.status ?? {}) };
  const halt = async (readiness: Readiness): Promise<ReconcileOutcome> => {
    slots.withdraw(key, 'VolumeBackup');
    await writeStatus(context, backup, { ...fields, queued: false, queuePosition: undefined }, readiness);
    return { requeueAfterMs: context.resyncIntervalMs };
  };

  // 2. spec
  const spec = backup.spec;
  let schedule: ReturnType<typeof parseCron> | undefined;
  let zone: TimeZone;
  try {
    schedule = spec.schedule === undefined ? undefined : parseCron(spec.schedule);
    zone = TimeZone.of(spec.timeZone ?? 'UTC');
  } catch (error) {
    return halt({ ready: false, reason: 'InvalidSpec', message: error instanceof Error ? error.message : String(error) });
  }

  // 3. source
  const claimName = spec.source.claimName;
  const secretProblem = missingSecret(context, owner.namespace, spec.target, spec.encryption);
  if (secretProblem !== undefined) return halt(secretProblem);
  const ready: Readiness = {
    ready: true,
    reason: 'Ready',
    message: `backs up the files of PersistentVolumeClaim ${claimName}${spec.source.subPath === undefined ? '' : ` (folder ${spec.source.subPath})`}`,
  };

  // 3b. backups already in the target, listed once (a new object, or one applied again without status)
  const adopted = await backupsToAdopt(context, backup, 'files');
  if (adopted !== undefined) {
    backup = { ...backup, status: { ...backup.status, backups: adopted } };
    fields.backups = adopted;
  }

  // 4. running run
  const lastRun = backup.status?.lastRun;
  if (lastRun?.result === 'Running') return followRun(context, slots, backup, lastRun, ready, fields);

  // 5. due run
  const now = context.now();
  const created = new Date(backup.metadata.creationTimestamp ?? now.toISOString());
  const { due, next } = runDue({ schedule, zone, suspend: spec.suspend === true, created, lastRunId: lastRun?.id, lastScheduleTime: backup.status?.lastScheduleTime, now });
  const scheduleFields = { ...fields, ...(next === undefined ? {} : { nextScheduleTime: next.toISOString() }) };
  if (due === undefined) {
    slots.withdraw(key, 'VolumeBackup');
    await writeStatus(context, backup, { ...scheduleFields, queued: false, queuePosition: undefined }, ready);
    return { requeueAfterMs: next === undefined ? context.resyncIntervalMs : Math.max(1000, next.getTime() - now.getTime()) };
  }
  const runId = formatRunId(due);
  if (spec.startingDeadlineSeconds !== undefined && now.getTime() - due.getTime() > spec.startingDeadlineSeconds * 1000) {
    slots.withdraw(key, 'VolumeBackup');
    return finishRun(context, backup, ready, {
      ...scheduleFields,
      lastScheduleTime: due.toISOString(),
      lastRun: { id: runId, result: 'Missed', message: `the run due at ${due.toISOString()} could not start within startingDeadlineSeconds (${spec.startingDeadlineSeconds})` },
    }, completed);
  }

  // 6. slot
  const startAfter = schedule === undefined ? due : jitteredStart(due, key, slots.settings.jitterSeconds);
  if (startAfter.getTime() > now.getTime()) {
    slots.expect({ key, id: runId, dueAt: due, startAt: startAfter }, 'VolumeBackup');
    await writeStatus(context, backup, { ...scheduleFields, queued: false, queuePosition: undefined }, ready);
    return { requeueAfterMs: startAfter.getTime() - now.getTime() };
  }
  const jobName = volumeBackupJobName(owner.name, runId);
  const path = `${owner.namespace}/${owner.name}/${runId}`;
  // The run started already and the cached status does not say so yet: follow it, never ask for a second slot.
  const existing = context.caches.jobs.get(owner.namespace, jobName);
  if (existing !== undefined) {
    slots.withdraw(key, 'VolumeBackup');
    const run: LastRun = { id: runId, jobName, result: 'Running', attempts: 1, startTime: existing.metadata.creationTimestamp ?? now.toISOString(), path };
    return followRun(context, slots, backup, run, ready, { ...scheduleFields, lastScheduleTime: due.toISOString(), lastRun: run, queued: false, queuePosition: undefined });
  }
  // The claim and the node are checked before a slot is taken: a missing claim should not hold one.
  const node = await claimNodeChoice(context, owner.namespace, claimName, `${jobName}-`);
  if ('refusal' in node) return halt(node.refusal);
  if (slots.claimed(`${owner.namespace}/${jobName}`)) return { requeueAfterMs: 1000 };
  const answer = slots.request({ key, id: runId, dueAt: due, startAt: startAfter }, `${owner.namespace}/${jobName}`, runningBackupJobs(context.caches), 'VolumeBackup');
  if (!answer.granted) {
    await writeStatus(context, backup, { ...scheduleFields, queued: true, queuePosition: answer.position, queueLength: answer.length }, ready);
    return { requeueAfterMs: Math.min(followUpMs, context.resyncIntervalMs) };
  }

  // 7. start
  try {
    await context.kube.create(
      volumeBackupJob({
        owner,
        image: defaultMariadbImage,
        target: spec.target,
        runPath: path,
        encryptionKey: spec.encryption === undefined ? undefined : { secretName: spec.encryption.secretKeyRef.name, key: spec.encryption.secretKeyRef.key ?? 'key' },
        activeDeadlineSeconds: spec.activeDeadlineSeconds ?? 3600,
        resources: spec.resources,
        nodeName: node.nodeName,
        runId,
        source: spec.source,
        compression: spec.compression ?? 'gzip',
        // A PVC target: the Job prunes, after its own manifest (the operator cannot mount the volume).
        pruneRuns: runsForJobToPrune(context, backup, runId),
      }),
    );
  } catch (error) {
    // The slot goes back: the Job was not made.
    slots.settled(`${owner.namespace}/${jobName}`);
    throw error;
  }
  context.events.record(backup, 'Normal', 'BackupStarted', `run ${runId} started as Job ${jobName}${node.nodeName === undefined ? '' : ` on node ${node.nodeName}, where ${claimName} is in use`}`);
  await writeStatus(
    context,
    backup,
    {
      ...scheduleFields,
      queued: false,
      queuePosition: undefined,
      lastScheduleTime: due.toISOString(),
      lastRun: { id: runId, jobName, result: 'Running', attempts: 1, startTime: now.toISOString(), path },
    },
    ready,
  );
  return { requeueAfterMs: followUpMs };
}

/** Phase 4: the run's Job, followed until it ends. */
async function followRun(
  context: ControllerContext,
  slots: BackupSlots,
  backup: VolumeBackup,
  lastRun: LastRun,
  ready: Readiness,
  fields: Record<string, unknown>,
): Promise<ReconcileOutcome> {
  const owner = ownerOf(backup);
  const jobName = lastRun.jobName ?? volumeBackupJobName(owner.name, lastRun.id);
  const job = context.caches.jobs.get(owner.namespace, jobName);
  const now = context.now();
  if (job === undefined) {
    const started = lastRun.startTime === undefined ? 0 : new Date(lastRun.startTime).getTime();
    if (now.getTime() - started < jobAppearanceMs) return { requeueAfterMs: 2000 };
    slots.settled(`${owner.namespace}/${jobName}`);
    return finishRun(context, backup, ready, {
      ...fields,
      lastRun: { ...lastRun, result: 'Failed', completionTime: now.toISOString(), message: `Job ${jobName} is gone (deleted before its end)` },
    }, completed);
  }
  slots.settled(`${owner.namespace}/${jobName}`);
  const pods = context.caches.pods.list(owner.namespace).filter((p) => p.metadata.labels?.[jobNameLabel] === jobName) as JobPod[];
  const outcome = jobOutcome(job, pods);
  if (outcome.state === 'running') {
    if (backup.status?.lastRun?.result !== 'Running') await writeStatus(context, backup, fields, ready);
    return { requeueAfterMs: followUpMs };
  }
  const completionTime = outcome.completionTime ?? now.toISOString();
  const durationSeconds = lastRun.startTime === undefined ? undefined : elapsedSeconds(lastRun.startTime, completionTime);
  const timing = { completionTime, ...(durationSeconds === undefined ? {} : { durationSeconds }) };
  if (outcome.state === 'failed') {
    return finishRun(context, backup, ready, { ...fields, lastRun: { ...lastRun, result: 'Failed', ...timing, message: `${outcome.reason}: ${outcome.message}` } }, completed);
  }
  const made = filesResultOf(outcome.result);
  const facts = {
    ...(made.sizeBytes === undefined ? {} : { sizeBytes: made.sizeBytes }),
    ...(made.sha256 === undefined ? {} : { sha256: made.sha256 }),
    ...(made.fileCount === undefined ? {} : { fileCount: made.fileCount }),
    ...(made.contentBytes === undefined ? {} : { contentBytes: made.contentBytes }),
    ...(made.contentSha256 === undefined ? {} : { contentSha256: made.contentSha256 }),
  };
  const run: LastRun = { ...lastRun, result: 'Succeeded', ...timing, ...facts };
  const entry: ListedBackup = { id: lastRun.id, time: parseRunId(lastRun.id).toISOString(), completionTime, path: lastRun.path ?? `${owner.namespace}/${owner.name}/${lastRun.id}`, ...facts };
  const backups = await listedAfterSuccess(context, backup, entry, pruneReportOf(outcome.result));
  return finishRun(context, backup, ready, { ...fields, lastRun: run, lastSuccessfulTime: completionTime, backups }, completed);
}

export function volumeBackupController(slots: BackupSlots): ControllerDefinition {
  return {
    name: 'volumebackup',
    reconcile: volumeBackupReconciler(slots),
    triggers: (caches): Trigger[] => [
      ownChanges(caches.volumeBackups, 'volumebackups'),
      waitingForSecret(caches.secrets, caches.volumeBackups, 'VolumeBackups'),
      owns(caches.jobs, 'Jobs owned by VolumeBackup', { apiVersion: 'flightdeck.t7.io/v1', kind: 'VolumeBackup' }),
      // A backup Job of either kind that ends frees a slot: the waiting VolumeBackups ask again, in their order.
      watches(caches.jobs, 'ended backup Jobs free a slot for waiting VolumeBackups', (_event, job, previous) =>
        takesBackupSlot(job) && jobEnded(job) && !jobEnded(previous) ? slots.waiting('VolumeBackup') : [],
      ),
    ],
  };
}
