// Retention after a successful run: which complete backups the policy keeps
// (src/backup/retention.ts decides), and the others deleted — manifest.json
// first, so that a prune cut off half-way leaves a run without manifest,
// which nothing takes for a backup. On an S3 target the operator deletes
// them here. A PVC target the operator cannot mount: the run's Job deletes
// what the operator named when it created it (runsForJobToPrune) and reports
// what it deleted; here that report takes the place of the deletions.
import type { BackupTarget, S3Target } from '../../api/backup-target.ts';
import type { MySQLBackupStatus, RetentionPolicy } from '../../api/mysqlbackup.ts';
import { parseRunId } from '../../backup/manifest.ts';
import { runsToPruneAfter } from '../../backup/prune-after-run.ts';
import { retentionOf, selectKept, type KeepReason } from '../../backup/retention.ts';
import { TimeZone } from '../../backup/time-zone.ts';
import { S3Client } from '../../storage/s3.ts';
import { secretValue, type ControllerContext } from '../context.ts';
import type { JobPruneReport } from './prune-report.ts';

export type CompletedBackup = NonNullable<MySQLBackupStatus['backups']>[number];

/** What retention needs of a listed backup, whichever kind made it (MySQLBackup, VolumeBackup). */
export interface PrunableBackup {
  readonly id: string;
  /** The run's folder below the target's prefix or subPath. */
  readonly path: string;
  readonly keptBecause?: KeepReason[];
}

/** What retention needs of the object whose backups they are. */
export interface RetentionOwner {
  readonly metadata: { readonly namespace?: string };
  readonly spec: { readonly timeZone?: string; readonly retention?: RetentionPolicy; readonly target: BackupTarget };
}

export interface PruneResult<B extends PrunableBackup = CompletedBackup> {
  /** Newest first: those the policy keeps (with the rules that keep them), and those it does not but that are still stored. */
  readonly kept: B[];
  /** Ids whose objects (or folders, on a PVC target) were deleted. */
  readonly deleted: string[];
  /** Why the deletions stopped, when they did. */
  readonly error?: string;
}

/** The S3 client of a backup's target, from the credentials Secret in its namespace. */
export function s3ClientOf(context: ControllerContext, backup: RetentionOwner, s3: S3Target): S3Client {
  const namespace = backup.metadata.namespace ?? 'default';
  const secret = context.caches.secrets.get(namespace, s3.credentialsSecret.name);
  const accessKeyId = secretValue(secret, s3.credentialsSecret.accessKeyIdKey ?? 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = secretValue(secret, s3.credentialsSecret.secretAccessKeyKey ?? 'AWS_SECRET_ACCESS_KEY');
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new Error(`Secret ${namespace}/${s3.credentialsSecret.name} lacks the access key of target.s3`);
  }
  const ca = s3.tls?.caSecret;
  const caPem = ca === undefined ? undefined : secretValue(context.caches.secrets.get(namespace, ca.name), ca.key ?? 'ca.crt');
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region ?? 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
    ...(caPem === undefined ? {} : { caPem }),
    ...(s3.tls?.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
  });
}

/**
 * The runs a new run's Job deletes from a PVC target once it has succeeded
 * (its PRUNE_RUNS); none for an S3 target, which pruneBackups prunes.
 */
export function runsForJobToPrune(context: ControllerContext, owner: RetentionOwner & { readonly status?: { readonly backups?: readonly { readonly id: string }[] } }, runId: string): string[] {
  if (owner.spec.target.pvc === undefined) return [];
  return runsToPruneAfter({
    listed: owner.status?.backups ?? [],
    runId,
    policy: retentionOf(owner.spec.retention),
    now: context.now(),
    zone: TimeZone.of(owner.spec.timeZone ?? 'UTC'),
  });
}

/** What was deleted of `undeleted`, and why no more. */
interface Deletions {
  readonly deleted: string[];
  readonly error?: string;
}

/**
 * Keeps what the policy keeps; the rest is deleted from an S3 target here,
 * and on a PVC target is what the run's Job reports it deleted (`byJob`). A
 * backup not deleted stays listed (and `error` says why, when a deletion
 * failed): the list never loses a backup whose data is still there, and
 * never keeps one that is gone.
 */
export async function pruneBackups<B extends PrunableBackup>(context: ControllerContext, backup: RetentionOwner, backups: readonly B[], byJob?: JobPruneReport): Promise<PruneResult<B>> {
  const byId = new Map(backups.map((b) => [b.id, b]));
  const zone = TimeZone.of(backup.spec.timeZone ?? 'UTC');
  const selection = selectKept(
    backups.map((b) => ({ id: b.id, time: parseRunId(b.id), complete: true })),
    retentionOf(backup.spec.retention),
    context.now(),
    zone,
  );
  const entry = (id: string): B => {
    const found = byId.get(id);
    if (found === undefined) throw new Error(`retention returned backup ${id}, which was not among those given`);
    return found;
  };
  const kept: B[] = selection.kept.map(({ backup: b, reasons }) => ({ ...entry(b.id), keptBecause: [...reasons] as KeepReason[] }));
  const undeleted = selection.pruned.map(({ backup: b }) => entry(b.id));
  const s3 = backup.spec.target.s3;
  const deletions: Deletions =
    s3 !== undefined
      ? await deleteFromS3(context, backup, s3, undeleted)
      : // What the Job deleted is gone, whatever the policy says now (it may have changed during the run).
        { deleted: (byJob?.pruned ?? []).filter((id) => byId.has(id)), ...(byJob?.error === undefined ? {} : { error: `pruning the volume target: ${byJob.error}` }) };
  const gone = new Set(deletions.deleted);
  const left = [...kept, ...undeleted].filter((b) => !gone.has(b.id));
  return {
    kept: left.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)),
    deleted: [...gone],
    ...(deletions.error === undefined ? {} : { error: deletions.error }),
  };
}

/** Deletes the backups' objects, each manifest first; stops at the first failure. */
async function deleteFromS3(context: ControllerContext, backup: RetentionOwner, s3: S3Target, undeleted: readonly PrunableBackup[]): Promise<Deletions> {
  if (undeleted.length === 0) return { deleted: [] };
  const client = s3ClientOf(context, backup, s3);
  const deleted: string[] = [];
  try {
    for (const gone of undeleted) {
      const folder = `${s3.prefix === undefined ? '' : `${s3.prefix}/`}${gone.path}/`;
      try {
        await client.deleteObject(s3.bucket, `${folder}manifest.json`, { signal: context.signal });
        const rest = await client.listAllObjects(s3.bucket, { prefix: folder, signal: context.signal });
        if (rest.length > 0) await client.deleteObjects(s3.bucket, rest.map((o) => o.key), { signal: context.signal });
        deleted.push(gone.id);
      } catch (failure) {
        return { deleted, error: `deleting backup ${gone.id} at s3://${s3.bucket}/${folder}: ${failure instanceof Error ? failure.message : String(failure)}` };
      }
    }
  } finally {
    client.close();
  }
  return { deleted };
}
