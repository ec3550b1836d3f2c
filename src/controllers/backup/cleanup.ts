// Removing what interrupted attempts leave in an S3 target, once no attempt
// of the run writes any more: when a run succeeded, the multipart uploads a
// killed attempt never completed; when an attempt failed (before its retry)
// or the run was given up, the whole run folder, manifest first. Then a sweep
// of the backup's folder for older leftovers (findLeftovers decides: no
// manifest, nothing written for longer than a run's deadline).
//
// A PVC target cannot be reached from the operator: there the backup script
// clears its run folder before it writes and sweeps the backup's older
// manifest-less folders (flightdeck-backup.sh), so leftovers on a volume go
// with the next attempt or run.
import { backupFolder, manifestFileName, runPath } from '../../backup/manifest.ts';
import { findLeftovers } from '../../backup/leftovers.ts';
import type { CleanUp } from '../../backup/run-decision.ts';
import type { S3Client } from '../../storage/s3.ts';
import type { ControllerContext } from '../context.ts';
import { s3ClientOf, type RetentionOwner } from './prune.ts';

/** A backup whose folder can be cleaned: its target, name and how long a run may write. */
export interface CleanupOwner extends RetentionOwner {
  readonly metadata: { readonly namespace?: string; readonly name: string };
  readonly spec: RetentionOwner['spec'] & { readonly activeDeadlineSeconds?: number };
}

export interface CleanupReport {
  /** False on a PVC target: nothing was done here (the script does it). */
  readonly reached: boolean;
  readonly deletedObjects: number;
  readonly abortedUploads: number;
  /** Older runs whose manifest-less folders the sweep removed. */
  readonly sweptRuns: readonly string[];
  /** Why the cleanup stopped, when it did; what was done before stays done. */
  readonly error?: string;
}

/** The Job's default deadline (MySQLBackup spec.activeDeadlineSeconds). */
const defaultDeadlineSeconds = 3600;

/** Where a backup's runs are in a bucket. */
export interface BackupLocation {
  readonly bucket: string;
  readonly prefix?: string | undefined;
  readonly namespace: string;
  readonly name: string;
}

/**
 * Cleans run `runId`'s folder as `mode` says, then sweeps the backup's older
 * leftovers. Never throws for a store that fails: the report's `error` says
 * what stopped it, and the next run's cleanup tries again.
 */
export async function cleanUpRun(context: ControllerContext, owner: CleanupOwner, runId: string, mode: CleanUp): Promise<CleanupReport> {
  const s3 = owner.spec.target.s3;
  if (s3 === undefined) return { reached: false, deletedObjects: 0, abortedUploads: 0, sweptRuns: [] };
  let client: S3Client;
  try {
    client = s3ClientOf(context, owner, s3);
  } catch (error) {
    return { reached: true, deletedObjects: 0, abortedUploads: 0, sweptRuns: [], error: `connecting to s3://${s3.bucket}: ${error instanceof Error ? error.message : String(error)}` };
  }
  try {
    const location = { bucket: s3.bucket, prefix: s3.prefix, namespace: owner.metadata.namespace ?? 'default', name: owner.metadata.name };
    return await cleanUpRunFolder(client, location, runId, mode, { now: context.now(), deadlineMs: (owner.spec.activeDeadlineSeconds ?? defaultDeadlineSeconds) * 1000, signal: context.signal });
  } finally {
    client.close();
  }
}

/** cleanUpRun's work on one bucket with a client given (tests give theirs). */
export async function cleanUpRunFolder(
  client: S3Client,
  location: BackupLocation,
  runId: string,
  mode: CleanUp,
  rules: { readonly now: Date; readonly deadlineMs: number; readonly signal?: AbortSignal },
): Promise<CleanupReport> {
  const { bucket } = location;
  const backupDir = `${backupFolder(location.prefix, location.namespace, location.name)}/`;
  const runDir = `${runPath(location.prefix, location.namespace, location.name, runId)}/`;
  const signal = rules.signal;
  let deletedObjects = 0;
  let abortedUploads = 0;
  const sweptRuns: string[] = [];
  let step = 'starting';
  try {
    if (mode === 'folder') {
      // The manifest first: a cleanup cut off half-way leaves no look-alike backup.
      step = `deleting ${runDir}${manifestFileName}`;
      await client.deleteObject(bucket, `${runDir}${manifestFileName}`, { signal });
      step = `deleting the objects of ${runDir}`;
      const keys = (await client.listAllObjects(bucket, { prefix: runDir, signal })).map((o) => o.key);
      if (keys.length > 0) await client.deleteObjects(bucket, keys, { signal });
      deletedObjects += keys.length;
    }
    step = `aborting the unfinished uploads of ${runDir}`;
    for (const upload of await client.listMultipartUploads(bucket, { prefix: runDir, signal })) {
      await client.abortMultipartUpload(bucket, upload.key, upload.uploadId, { signal });
      abortedUploads++;
    }

    step = `sweeping ${backupDir}`;
    const relative = (key: string): string => key.slice(backupDir.length);
    const objects = (await client.listAllObjects(bucket, { prefix: backupDir, signal })).map((o) => ({ key: relative(o.key), lastModified: o.lastModified }));
    const uploads = (await client.listMultipartUploads(bucket, { prefix: backupDir, signal })).map((u) => ({ ...u, key: relative(u.key) }));
    const leftovers = findLeftovers(objects, uploads, { now: rules.now, deadlineMs: rules.deadlineMs });
    for (const run of leftovers.runs) {
      step = `deleting the leftover run ${backupDir}${run.id}/`;
      await client.deleteObjects(bucket, run.keys.map((k) => `${backupDir}${k}`), { signal });
      deletedObjects += run.keys.length;
      sweptRuns.push(run.id);
    }
    for (const upload of leftovers.uploads) {
      step = `aborting the unfinished upload of ${backupDir}${upload.key}`;
      await client.abortMultipartUpload(bucket, `${backupDir}${upload.key}`, upload.uploadId, { signal });
      abortedUploads++;
    }
  } catch (error) {
    return { reached: true, deletedObjects, abortedUploads, sweptRuns, error: `${step} in s3://${bucket}: ${error instanceof Error ? error.message : String(error)}` };
  }
  return { reached: true, deletedObjects, abortedUploads, sweptRuns };
}
