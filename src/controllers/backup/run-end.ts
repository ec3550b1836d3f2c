// How a backup run ends, for MySQLBackup and VolumeBackup alike: a success
// joins the listed backups, which retention then prunes (told as Events);
// every end is written to status with the LastBackupSucceeded condition and
// told as an Event.
import { maxListedBackups } from '../../api/mysqlbackup.ts';
import type { ReconcileOutcome } from '../../runtime/controller.ts';
import type { ConditionUpdate } from '../../runtime/conditions.ts';
import type { EventSubject } from '../../runtime/events.ts';
import type { ControllerContext } from '../context.ts';
import { writeStatus, type Readiness, type StatusObject } from '../status.ts';
import { pruneBackups, type PrunableBackup, type RetentionOwner } from './prune.ts';
import type { JobPruneReport } from './prune-report.ts';

/** What the end of a run needs of the object whose run it is. */
export type RunOwner<B> = RetentionOwner & EventSubject & StatusObject & { readonly status?: { readonly backups?: readonly B[] } };

/** A run's end as status.lastRun records it (the fields both kinds share). */
export interface EndedRun {
  readonly id: string;
  readonly result: string;
  readonly message?: string;
}

/**
 * The backups to list once `entry` has succeeded: it and those listed
 * before, newest first, without those retention deleted — by the operator
 * on an S3 target, by the run's Job on a PVC target (`prunedByJob`, from its
 * result). Event BackupsPruned; PruneFailed when a deletion failed, and what
 * was not deleted stays listed.
 */
export async function listedAfterSuccess<B extends PrunableBackup>(context: ControllerContext, owner: RunOwner<B>, entry: B, prunedByJob?: JobPruneReport): Promise<B[]> {
  const listed = [entry, ...(owner.status?.backups ?? []).filter((b) => b.id !== entry.id)];
  // The run just made is never among them: its Job refuses to delete it.
  const byJob = prunedByJob === undefined ? undefined : { ...prunedByJob, pruned: prunedByJob.pruned.filter((id) => id !== entry.id) };
  const pruned = await pruneBackups(context, owner, listed, byJob);
  if (pruned.deleted.length > 0) context.events.record(owner, 'Normal', 'BackupsPruned', `retention deleted backups ${pruned.deleted.join(', ')}`);
  if (pruned.error !== undefined) context.events.record(owner, 'Warning', 'PruneFailed', pruned.error);
  return pruned.kept.slice(0, maxListedBackups);
}

/**
 * Writes the ended run (`fields.lastRun`) with LastBackupSucceeded and tells
 * it as an Event (BackupCompleted, BackupFailed or BackupMissed);
 * `completed` says what a successful run made.
 */
export async function finishRun<R extends EndedRun>(
  context: ControllerContext,
  owner: RunOwner<unknown>,
  ready: Readiness,
  fields: Record<string, unknown> & { lastRun: R },
  completed: (run: R) => string,
): Promise<ReconcileOutcome> {
  const run = fields.lastRun;
  const succeeded = run.result === 'Succeeded';
  const condition: ConditionUpdate = succeeded
    ? { type: 'LastBackupSucceeded', status: 'True', reason: 'Succeeded', message: `run ${run.id} completed: ${completed(run)}` }
    : { type: 'LastBackupSucceeded', status: 'False', reason: run.result === 'Missed' ? 'Missed' : 'Failed', message: `run ${run.id}: ${run.message ?? run.result}` };
  await writeStatus(context, owner, { ...fields, queued: false, queuePosition: undefined }, ready, [condition]);
  context.events.record(owner, succeeded ? 'Normal' : 'Warning', succeeded ? 'BackupCompleted' : run.result === 'Missed' ? 'BackupMissed' : 'BackupFailed', condition.message);
  return { requeueAfterMs: 1000 };
}
