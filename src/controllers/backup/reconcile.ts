// The MySQLBackup reconciler. Phases, in order:
//   1. deletion       (the Job account dropped, the finalizer removed)
//   2. spec           (method, schedule and time zone read; InvalidSpec stops here)
//   3. cluster access (ClusterNotFound, NamespaceNotAllowed, ClusterNotReady; PhysicalNotSupported for an external cluster)
//   4. scope          (DatabaseNotOwned, WholeClusterNotAllowed stop here: the tenancy rule); then, once, the backups
//                      already in an S3 target listed when status never listed any (found-backups.ts)
//   5. running run    (its attempt's Job followed to the end, then src/backup/run-decision.ts decides: success recorded
//                      (lastRun, backups, LastBackupSucceeded, Events; retention: backups the policy does not keep
//                      deleted from an S3 target, manifest first; on a PVC target those its Job reports it
//                      deleted leave the list), a failed attempt retried (Event, folder cleaned,
//                      back through phases 7 and 8 at the run's place in the queue), or the run given up (Failed);
//                      account dropped; an S3 target's leftovers of interrupted attempts removed (cleanup.ts))
//   6. due run        (one-off: at creation; scheduled: the latest fire time since the last run; or the retried run)
//   7. slot           (waits in the cluster-wide queue: status.queued, queuePosition)
//   8. start          (account with the run's grants, then its Job, told on a PVC target which runs to prune once it has
//                      succeeded; a physical run: its Job only, physical-start.ts; lastRun Running)
// What queues a backup is declared at the end (backupController).
import { elapsedSeconds } from '../../backup/elapsed.ts';
import type { MySQLBackup, MySQLBackupStatus } from '../../api/mysqlbackup.ts';
import { defaultMariadbImage } from '../../api/mysqlcluster.ts';
import { clusterKeyOf, InvalidSpecError } from '../../api/normalize.ts';
import { formatRunId, parseRunId } from '../../backup/manifest.ts';
import { dueRun, jitteredStart, parseCron, runDue, TimeZone } from '../../backup/schedule.ts';
import { backupGrants } from '../../mysql/job-accounts.ts';
import type { ReconcileOutcome } from '../../runtime/controller.ts';
import { owns, watches, type Trigger } from '../../runtime/triggers.ts';
import { accessCluster, sqlFailure, type ClusterAccess } from '../cluster-access.ts';
import { keyOf, splitKey, type Caches, type ControllerContext, type ControllerDefinition } from '../context.ts';
import { writeStatus, type Readiness } from '../status.ts';
import { backupsByCluster } from '../indexes.ts';
import { dependentsOfCluster, dependentsOfNamespaceDatabases, objectsOfRelabelledNamespace, ownChanges } from '../worth-reconciling.ts';
import { dropJobAccount, ensureJobAccount } from './account.ts';
import { backupJob, backupJobName, runSourceAnnotation, takesBackupSlot, type JobOwner } from './job.ts';
import { jobNameLabel, jobOutcome, type JobObject, type JobPod, type ScriptResult } from './job-status.ts';
import { decideRun, type AttemptObservation } from '../../backup/run-decision.ts';
import { cleanUpRun } from './cleanup.ts';
import { backupsToAdopt } from './found-backups.ts';
import type { BackupMetrics } from './metrics.ts';
import { physicalRefusal, physicalRun, runSource } from './physical-start.ts';
import { databasesOwnedBy, scopeRefusal } from './scope.ts';
import { missingSecret, waitingForSecret } from './secrets.ts';
import type { BackupSlots } from './slots.ts';
import { finishRun, listedAfterSuccess } from './run-end.ts';
import { runsForJobToPrune } from './prune.ts';
import { pruneReportOf } from './prune-report.ts';

/** Present while a Job account may exist on the server: deleting the backup drops it. */
export const backupFinalizer = 'flightdeck.t7.io/drop-job-account';

/** How long a created Job may stay out of the cache before the run counts as lost. */
const jobAppearanceMs = 120_000;
/** A waiting or running backup looks again at least this often (a Job's end also queues it at once). */
const followUpMs = 30_000;

function ownerOf(backup: MySQLBackup): JobOwner {
  return { kind: 'MySQLBackup', name: backup.metadata.name, namespace: backup.metadata.namespace ?? 'default', uid: backup.metadata.uid ?? '' };
}

type LastRun = NonNullable<MySQLBackupStatus['lastRun']>;

/** What a successful run made, for LastBackupSucceeded and its Event. */
const completed = (run: LastRun): string => `${run.sizeBytes ?? 0} bytes at ${run.path ?? ''}`;

/** The status as it is, for a write that changes some fields: a status apply drops the fields it leaves out. */
function statusFields(backup: MySQLBackup): Record<string, unknown> {
  // conditions and observedGeneration are in it too; writeStatus sets both over them.
  return { ...(backup.status ?? {}) };
}

export function backupReconciler(slots: BackupSlots, metrics?: BackupMetrics): (context: ControllerContext, key: string) => Promise<ReconcileOutcome | undefined> {
  return async (context, key) => {
    const { namespace, name } = splitKey(key);
    const backup = context.caches.backups.get(namespace, name);
    if (backup === undefined) {
      slots.forget(key);
      metrics?.forget(namespace, name);
      return undefined;
    }
    // From the status, so a new leader shows them before any run ends.
    metrics?.setLastSuccess(namespace, name, { completionTime: backup.status?.lastSuccessfulTime, sizeBytes: backup.status?.backups?.[0]?.sizeBytes });
    return reconcileBackup(context, slots, backup, metrics);
  };
}

async function reconcileBackup(context: ControllerContext, slots: BackupSlots, backup: MySQLBackup, metrics: BackupMetrics | undefined): Promise<ReconcileOutcome | undefined> {
  const key = keyOf(backup);
  const owner = ownerOf(backup);
  let fields = statusFields(backup);
  const halt = async (readiness: Readiness): Promise<ReconcileOutcome> => {
    slots.withdraw(key);
    await writeStatus(context, backup, { ...fields, queued: false, queuePosition: undefined }, readiness);
    return { requeueAfterMs: context.resyncIntervalMs };
  };

  // 1. deletion
  if (backup.metadata.deletionTimestamp !== undefined) {
    slots.forget(key);
    if (!(backup.metadata.finalizers ?? []).includes(backupFinalizer)) return undefined;
    const result = accessCluster(context, backup);
    // Without a reachable cluster the account cannot be dropped; it is dropped once the cluster answers.
    if ('halt' in result) return { requeueAfterMs: followUpMs };
    await dropJobAccount(owner, result.access.client);
    await context.kube.removeFinalizer({ apiVersion: backup.apiVersion, kind: backup.kind, namespace: owner.namespace, name: owner.name }, backupFinalizer, backup);
    return undefined;
  }

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

  // 3. cluster access
  const result = accessCluster(context, backup);
  if ('halt' in result) return halt(result.halt);
  const access = result.access;
  const clusterKey = clusterKeyOf(backup);
  const physical = spec.method === 'physical';
  const physicalProblem = physical ? physicalRefusal(access) : undefined;
  if (physicalProblem !== undefined) return halt(physicalProblem);

  // 4. scope
  const refusal = scopeRefusal({
    what: 'back up',
    databases: spec.databases,
    namespace: owner.namespace,
    cluster: clusterKey,
    owned: databasesOwnedBy(context.caches.databases.list(owner.namespace), clusterKey),
  });
  if (refusal !== undefined) return halt(refusal);
  const secretProblem = missingSecret(context, owner.namespace, spec.target, spec.encryption);
  if (secretProblem !== undefined) return halt(secretProblem);

  const ready: Readiness = {
    ready: true,
    reason: 'Ready',
    message: physical
      ? `physical backups (mariadb-backup of a healthy reader, else the writer) of MySQLCluster ${clusterKey.namespace}/${clusterKey.name}`
      : `backs up ${spec.databases?.join(', ') ?? 'every database'} of MySQLCluster ${clusterKey.namespace}/${clusterKey.name}`,
  };

  // 4b. backups already in the target, listed once (a new object, or one applied again without status)
  const adopted = await backupsToAdopt(context, backup, 'database');
  if (adopted !== undefined) {
    backup = { ...backup, status: { ...backup.status, backups: adopted } };
    fields = { ...fields, backups: adopted };
  }

  // 5. running run
  const lastRun = backup.status?.lastRun;
  let retry: Retry | undefined;
  if (lastRun?.result === 'Running') {
    const followed = await followRun(context, slots, backup, access, lastRun, ready, statusFields(backup), metrics);
    if (!('retry' in followed)) return followed;
    retry = followed.retry;
    fields = followed.fields;
  }

  // 6. due run
  const now = context.now();
  const created = new Date(backup.metadata.creationTimestamp ?? now.toISOString());
  let due: Date | undefined;
  let next: Date | undefined;
  if (retry !== undefined) {
    // The failed attempt's run again, with its times: its old place in the queue.
    due = retry.due;
    if (schedule !== undefined) next = dueRun(schedule, zone, due, now).next;
  } else {
    ({ due, next } = runDue({ schedule, zone, suspend: spec.suspend === true, created, lastRunId: lastRun?.id, lastScheduleTime: backup.status?.lastScheduleTime, now }));
  }
  const scheduleFields = { ...fields, ...(next === undefined ? {} : { nextScheduleTime: next.toISOString() }) };
  if (due === undefined) {
    slots.withdraw(key);
    await writeStatus(context, backup, { ...scheduleFields, queued: false, queuePosition: undefined }, ready);
    return { requeueAfterMs: next === undefined ? context.resyncIntervalMs : Math.max(1000, next.getTime() - now.getTime()) };
  }
  const runId = formatRunId(due);
  const attempt = retry?.attempt ?? 1;
  // A retry started in time once: the deadline is for a run's first start.
  if (retry === undefined && spec.startingDeadlineSeconds !== undefined && now.getTime() - due.getTime() > spec.startingDeadlineSeconds * 1000) {
    slots.withdraw(key);
    metrics?.observeEnd('missed');
    return finishRun(context, backup, ready, {
      ...scheduleFields,
      lastScheduleTime: due.toISOString(),
      lastRun: { id: runId, result: 'Missed', message: `the run due at ${due.toISOString()} could not start within startingDeadlineSeconds (${spec.startingDeadlineSeconds})` },
    }, completed);
  }

  // 7. slot (one-off runs start at once; scheduled ones at their jittered time)
  const startAfter = schedule === undefined ? due : jitteredStart(due, key, slots.settings.jitterSeconds);
  const notBefore = retry === undefined || retry.notBefore.getTime() < startAfter.getTime() ? startAfter : retry.notBefore;
  if (notBefore.getTime() > now.getTime()) {
    // Its place is taken now (not for a retry waiting out its delay: that would hold the queue meanwhile).
    if (retry === undefined) slots.expect({ key, id: runId, dueAt: due, startAt: startAfter });
    await writeStatus(context, backup, { ...scheduleFields, queued: false, queuePosition: undefined }, ready);
    return { requeueAfterMs: notBefore.getTime() - now.getTime() };
  }
  const jobName = backupJobName(owner.name, runId, attempt);
  // The run started already and this reconcile read the backup before its
  // status said so (the cache lags behind our own write): follow the Job,
  // never ask for a second slot or write a status without the run.
  const existing = context.caches.jobs.get(owner.namespace, jobName);
  if (existing !== undefined) {
    slots.withdraw(key);
    const path = `${owner.namespace}/${owner.name}/${runId}`;
    const startTime = existing.metadata.creationTimestamp ?? now.toISOString();
    const source = existing.metadata.annotations?.[runSourceAnnotation];
    const run: LastRun = { id: runId, jobName, result: 'Running', attempts: attempt, startTime, path, ...(source === undefined ? {} : { source }) };
    const followed = await followRun(context, slots, backup, access, run, ready, { ...scheduleFields, lastScheduleTime: due.toISOString(), lastRun: run, queued: false, queuePosition: undefined }, metrics);
    // That attempt failed already and is recorded: the next reconcile retries it.
    return 'retry' in followed ? { requeueAfterMs: 1000 } : followed;
  }
  if (slots.claimed(`${owner.namespace}/${jobName}`)) return { requeueAfterMs: 1000 };
  const answer = slots.request({ key, id: runId, dueAt: due, startAt: startAfter }, `${owner.namespace}/${jobName}`, runningBackupJobs(context.caches));
  if (!answer.granted) {
    await writeStatus(context, backup, { ...scheduleFields, queued: true, queuePosition: answer.position, queueLength: answer.length }, ready);
    // A Job's end queues the waiting runs at once; this keeps the position shown fresh as runs join ahead.
    return { requeueAfterMs: Math.min(followUpMs, context.resyncIntervalMs) };
  }

  // 8. start
  try {
    const path = `${owner.namespace}/${owner.name}/${runId}`;
    let source: string | undefined;
    if (physical) {
      // No database account: the Job copies an instance through its donor endpoint.
      const run = physicalRun({ owner, access, spec, runId, attempt, runPath: path });
      await context.kube.create(run.job);
      source = runSource(run.donor);
    } else {
      const databases = spec.databases ?? (await access.client.listDatabases());
      if (!(backup.metadata.finalizers ?? []).includes(backupFinalizer)) {
        await context.kube.addFinalizer({ apiVersion: backup.apiVersion, kind: backup.kind, namespace: owner.namespace, name: owner.name }, backupFinalizer, backup);
      }
      const account = await ensureJobAccount(context, owner, access.client, backupGrants(databases));
      await context.kube.create(
        backupJob({
          owner,
          image: access.intent.managed?.image ?? defaultMariadbImage,
          credentials: { host: access.endpoint.host, port: access.endpoint.port, secretName: account.secretName },
          target: spec.target,
          runPath: path,
          encryptionKey: spec.encryption === undefined ? undefined : { secretName: spec.encryption.secretKeyRef.name, key: spec.encryption.secretKeyRef.key ?? 'key' },
          activeDeadlineSeconds: spec.activeDeadlineSeconds ?? 3600,
          resources: spec.resources,
          runId,
          attempt,
          databases,
          compression: spec.compression ?? 'gzip',
          // A PVC target: the Job prunes, after its own manifest (the operator cannot mount the volume).
          pruneRuns: runsForJobToPrune(context, backup, runId),
        }),
      );
    }
    const copied = source === undefined ? '' : `, a copy of ${source}`;
    if (attempt === 1) context.events.record(backup, 'Normal', 'BackupStarted', `run ${runId} started as Job ${jobName}${copied}`);
    else context.events.record(backup, 'Normal', 'BackupRetried', `run ${runId}: attempt ${attempt} started as Job ${jobName}${copied}`);
    await writeStatus(
      context,
      backup,
      {
        ...scheduleFields,
        queued: false,
        queuePosition: undefined,
        lastScheduleTime: due.toISOString(),
        lastRun: { id: runId, jobName, result: 'Running', attempts: attempt, startTime: now.toISOString(), path, ...(source === undefined ? {} : { source }) },
      },
      ready,
    );
  } catch (error) {
    // The slot goes back: the Job was not made.
    slots.settled(`${owner.namespace}/${jobName}`);
    if (error instanceof InvalidSpecError) return halt({ ready: false, reason: 'InvalidSpec', message: error.message });
    await writeStatus(context, backup, scheduleFields, sqlFailure(error, `starting run ${runId}`));
    throw error;
  }
  return { requeueAfterMs: followUpMs };
}

/** A failed attempt to start again: which, its run's due time, and not before when. */
interface Retry {
  readonly attempt: number;
  readonly due: Date;
  readonly notBefore: Date;
}

/** What an attempt's Job came to, for the decision. */
function observeAttempt(context: ControllerContext, namespace: string, jobName: string, job: JobObject | undefined, lastRun: LastRun): AttemptObservation & { readonly result?: ScriptResult; readonly completionTime?: string } {
  const now = context.now();
  if (job === undefined) {
    const started = lastRun.startTime === undefined ? 0 : new Date(lastRun.startTime).getTime();
    if (now.getTime() - started < jobAppearanceMs) return { state: 'running' };
    // Recorded once: a retry's delay counts from the first time the loss was seen.
    const endedAt = lastRun.completionTime === undefined ? now : new Date(lastRun.completionTime);
    return { state: 'failed', reason: 'JobGone', message: `Job ${jobName} is gone (deleted before its end)`, retryable: true, endedAt };
  }
  const pods = context.caches.pods.list(namespace).filter((p) => p.metadata.labels?.[jobNameLabel] === jobName) as JobPod[];
  const outcome = jobOutcome(job, pods);
  if (outcome.state === 'running') return { state: 'running' };
  const completionTime = outcome.completionTime ?? lastRun.completionTime ?? now.toISOString();
  if (outcome.state === 'succeeded') return { state: 'succeeded', result: outcome.result, completionTime };
  return { state: 'failed', reason: outcome.reason, message: outcome.message, retryable: !outcome.refused, endedAt: new Date(completionTime), completionTime };
}

/** Tells what a cleanup did, or why it stopped: removing leftovers never fails the run. */
function reportCleanup(context: ControllerContext, backup: MySQLBackup, runId: string, report: Awaited<ReturnType<typeof cleanUpRun>>): void {
  if (report.error !== undefined) {
    context.events.record(backup, 'Warning', 'CleanupFailed', `removing what run ${runId} left: ${report.error}; the next run's cleanup tries again`);
    return;
  }
  if (report.deletedObjects + report.abortedUploads === 0) return;
  const swept = report.sweptRuns.length === 0 ? '' : ` (and the leftovers of interrupted runs ${report.sweptRuns.join(', ')})`;
  context.events.record(backup, 'Normal', 'LeftoversRemoved', `run ${runId}: deleted ${report.deletedObjects} objects and aborted ${report.abortedUploads} unfinished uploads of interrupted attempts${swept}`);
}

/**
 * Phase 5: the run's current attempt, followed until its Job ends; then
 * recorded, or handed back as a retry for phases 6 to 8 (with the status
 * fields to go on from), or given up.
 */
async function followRun(
  context: ControllerContext,
  slots: BackupSlots,
  backup: MySQLBackup,
  access: ClusterAccess,
  lastRun: LastRun,
  ready: Readiness,
  /** The status to write the run's end into. */
  fields: Record<string, unknown>,
  metrics: BackupMetrics | undefined,
): Promise<ReconcileOutcome | { readonly retry: Retry; readonly fields: Record<string, unknown> }> {
  const owner = ownerOf(backup);
  const attempt = lastRun.attempts ?? 1;
  const jobName = lastRun.jobName ?? backupJobName(owner.name, lastRun.id, attempt);
  const job = context.caches.jobs.get(owner.namespace, jobName);
  const observed = observeAttempt(context, owner.namespace, jobName, job, lastRun);
  // The cache shows the Job (or it is lost for good): it counts through the cache from here on.
  if (job !== undefined || observed.state !== 'running') slots.settled(`${owner.namespace}/${jobName}`);
  const decision = decideRun({ attempt, observation: observed });
  if (decision.action === 'follow') {
    // Status said otherwise (a lagging read): say it runs.
    if (job !== undefined && backup.status?.lastRun?.result !== 'Running') await writeStatus(context, backup, fields, ready);
    return { requeueAfterMs: job === undefined ? 2000 : followUpMs };
  }
  const completionTime = observed.completionTime ?? context.now().toISOString();
  const durationSeconds = lastRun.startTime === undefined ? undefined : elapsedSeconds(lastRun.startTime, completionTime);
  const seconds = durationSeconds === undefined ? undefined : Number(durationSeconds);
  const timing = { completionTime, ...(durationSeconds === undefined ? {} : { durationSeconds }) };

  if (decision.action === 'retry') {
    const retry: Retry = { attempt: decision.nextAttempt, due: parseRunId(lastRun.id), notBefore: decision.notBefore };
    // The next attempt may run already (this read of the status lags behind its start):
    // its folder is in use, nothing is cleaned, phase 7 follows its Job.
    const nextJob = backupJobName(owner.name, lastRun.id, decision.nextAttempt);
    if (context.caches.jobs.get(owner.namespace, nextJob) !== undefined || slots.claimed(`${owner.namespace}/${nextJob}`)) return { retry, fields };
    // Recorded already (a running attempt has no completionTime).
    if (lastRun.completionTime !== undefined) return { retry, fields };
    // First seen: told, counted, the account dropped until the retry, the folder emptied for it.
    context.events.record(backup, 'Warning', 'BackupAttemptFailed', `run ${lastRun.id}: ${decision.message}`);
    metrics?.observeEnd('retried', seconds);
    await dropJobAccount(owner, access.client);
    reportCleanup(context, backup, lastRun.id, await cleanUpRun(context, backup, lastRun.id, decision.cleanUp));
    const updated = { ...fields, lastRun: { ...lastRun, jobName, ...timing, message: decision.message } };
    await writeStatus(context, backup, updated, ready);
    return { retry, fields: updated };
  }

  await dropJobAccount(owner, access.client);
  if (decision.action === 'giveUp') {
    metrics?.observeEnd('failed', seconds);
    reportCleanup(context, backup, lastRun.id, await cleanUpRun(context, backup, lastRun.id, decision.cleanUp));
    return finishRun(context, backup, ready, { ...fields, lastRun: { ...lastRun, jobName, result: 'Failed', ...timing, message: decision.message } }, completed);
  }

  // recordSuccess
  const made = observed.result ?? { result: 'Completed' };
  const source = lastRun.source ?? job?.metadata.annotations?.[runSourceAnnotation];
  metrics?.observeEnd('succeeded', seconds);
  reportCleanup(context, backup, lastRun.id, await cleanUpRun(context, backup, lastRun.id, decision.cleanUp));
  // What an earlier attempt's failure said is not carried over.
  const run: LastRun = {
    id: lastRun.id,
    ...(lastRun.attempts === undefined ? {} : { attempts: lastRun.attempts }),
    ...(lastRun.startTime === undefined ? {} : { startTime: lastRun.startTime }),
    ...(lastRun.path === undefined ? {} : { path: lastRun.path }),
    ...(source === undefined ? {} : { source }),
    jobName,
    result: 'Succeeded',
    ...timing,
    ...(made.sizeBytes === undefined ? {} : { sizeBytes: made.sizeBytes }),
    ...(made.sha256 === undefined ? {} : { sha256: made.sha256 }),
    ...(made.gtidPosition === undefined || made.gtidPosition === '' ? {} : { gtidPosition: made.gtidPosition }),
  };
  const entry = {
    id: lastRun.id,
    time: parseRunId(lastRun.id).toISOString(),
    completionTime,
    path: lastRun.path ?? `${owner.namespace}/${owner.name}/${lastRun.id}`,
    ...(run.sizeBytes === undefined ? {} : { sizeBytes: run.sizeBytes }),
    ...(run.sha256 === undefined ? {} : { sha256: run.sha256 }),
    ...(run.gtidPosition === undefined ? {} : { gtidPosition: run.gtidPosition }),
    databases: [...(made.databases ?? [])],
  };
  const backups = await listedAfterSuccess(context, backup, entry, pruneReportOf(observed.result));
  return finishRun(context, backup, ready, { ...fields, lastRun: run, lastSuccessfulTime: completionTime, backups }, completed);
}

/** Unfinished backup Jobs of both kinds (databases and files) in the whole cluster, as "namespace/name". */
export function runningBackupJobs(caches: Pick<Caches, 'jobs'>): Set<string> {
  const running = new Set<string>();
  for (const job of caches.jobs.list()) {
    if (!takesBackupSlot(job)) continue;
    const ended = (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    if (!ended) running.add(`${job.metadata.namespace ?? ''}/${job.metadata.name}`);
  }
  return running;
}

export function jobEnded(job: JobObject | undefined): boolean {
  return (job?.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export function backupController(slots: BackupSlots, metrics?: BackupMetrics): ControllerDefinition {
  return {
    name: 'mysqlbackup',
    reconcile: backupReconciler(slots, metrics),
    triggers: (caches): Trigger[] => [
      ownChanges(caches.backups, 'mysqlbackups'),
      // A backup halted on its cluster (ClusterNotReady, NamespaceNotAllowed)
      // or a missing Secret goes on when that changes, not at the next resync:
      // a scheduled run due meanwhile would otherwise start minutes late,
      // behind runs that were queued after it.
      dependentsOfCluster(caches.clusters, caches.backups, backupsByCluster),
      objectsOfRelabelledNamespace(caches.namespaces, caches.backups),
      waitingForSecret(caches.secrets, caches.backups, 'MySQLBackups'),
      dependentsOfNamespaceDatabases(caches.databases, caches.backups, 'MySQLBackups'),
      owns(caches.jobs, 'Jobs owned by MySQLBackup', { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLBackup' }),
      // A backup Job that ends frees a slot: the waiting runs ask again, in their order.
      watches(caches.jobs, 'ended backup Jobs free a slot for waiting MySQLBackups', (_event, job, previous) =>
        takesBackupSlot(job) && jobEnded(job) && !jobEnded(previous) ? slots.waiting('MySQLBackup') : [],
      ),
    ],
  };
}
