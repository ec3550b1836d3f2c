// Retention after a successful run: which complete backups the policy keeps
// (src/backup/retention.ts decides), and, on an S3 target, deleting the
// others' objects — manifest.json first, so that a prune cut off half-way
// leaves a run without manifest, which nothing takes for a backup. A PVC
// target is not pruned yet: the operator cannot reach a volume, and the Job
// that would do it is still to come; its backups stay listed.
import type { BackupTarget, S3Target } from '../../api/backup-target.ts';
import type { MySQLBackupStatus, RetentionPolicy } from '../../api/mysqlbackup.ts';
import { parseRunId } from '../../backup/manifest.ts';
import { retentionOf, selectKept, type KeepReason } from '../../backup/retention.ts';
import { TimeZone } from '../../backup/time-zone.ts';
import { S3Client } from '../../storage/s3.ts';
import { secretValue, type ControllerContext } from '../context.ts';

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
  /** Ids whose objects were deleted. */
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
 * Keeps what the policy keeps; deletes the rest from an S3 target. A backup
 * whose deletion fails stays listed (and `error` says why): the list never
 * loses a backup whose objects are still there.
 */
export async function pruneBackups<B extends PrunableBackup>(context: ControllerContext, backup: RetentionOwner, backups: readonly B[]): Promise<PruneResult<B>> {
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
  const newestFirst = (list: B[]): B[] => list.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const s3 = backup.spec.target.s3;
  // A volume target: nothing is deleted, so nothing leaves the list.
  if (s3 === undefined || undeleted.length === 0) return { kept: newestFirst([...kept, ...undeleted]), deleted: [] };
  const client = s3ClientOf(context, backup, s3);
  const deleted: string[] = [];
  let error: string | undefined;
  try {
    for (const gone of undeleted) {
      const folder = `${s3.prefix === undefined ? '' : `${s3.prefix}/`}${gone.path}/`;
      try {
        await client.deleteObject(s3.bucket, `${folder}manifest.json`, { signal: context.signal });
        const rest = await client.listAllObjects(s3.bucket, { prefix: folder, signal: context.signal });
        if (rest.length > 0) await client.deleteObjects(s3.bucket, rest.map((o) => o.key), { signal: context.signal });
        deleted.push(gone.id);
      } catch (failure) {
        error = `deleting backup ${gone.id} at s3://${s3.bucket}/${folder}: ${failure instanceof Error ? failure.message : String(failure)}`;
        break;
      }
    }
  } finally {
    client.close();
  }
  const left = undeleted.filter((b) => !deleted.includes(b.id));
  return { kept: newestFirst([...kept, ...left]), deleted, ...(error === undefined ? {} : { error }) };
}
