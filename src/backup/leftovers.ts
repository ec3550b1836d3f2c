// What interrupted runs left in a MySQLBackup's folder of the store, found
// from a listing of it. Pure: the controller lists the folder (objects and
// multipart uploads never completed), calls findLeftovers and deletes what it
// names.
//
// A run folder without manifest.json is never a backup (manifest.ts), but it
// holds storage and, in a listing, looks like a run; once no attempt can
// still be writing to it — it is not a run in progress, and nothing was
// written to it for longer than a run may last (the Job's deadline) — it goes.
// The age rule also protects a run the caller does not know of (another
// operator's, a Job that outlived its MySQLBackup's status).
import { manifestFileName, isRunId } from './manifest.ts';

/** An object in the backup's folder; `key` relative to it: <run id>/<file>. */
export interface StoredObject {
  readonly key: string;
  readonly lastModified: Date;
}

/** A multipart upload never completed; `key` relative to the backup's folder. */
export interface StoredUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
}

export interface LeftoverRun {
  readonly id: string;
  /** Every object of the run's folder, relative to the backup's folder. */
  readonly keys: readonly string[];
}

export interface Leftovers {
  /** Run folders without manifest.json, oldest first. */
  readonly runs: readonly LeftoverRun[];
  /** Uploads to abort, in the order listed. */
  readonly uploads: readonly StoredUpload[];
}

export interface LeftoverRules {
  readonly now: Date;
  /** How long a run may write: its Job's activeDeadlineSeconds, in milliseconds. */
  readonly deadlineMs: number;
  /** Runs an attempt may still write to, by id: never touched, whatever their age. */
  readonly busy?: ReadonlySet<string>;
}

/** The run id a relative key belongs to, or undefined for a key outside any run folder (left alone: not ours). */
function runIdOf(key: string): string | undefined {
  const slash = key.indexOf('/');
  if (slash <= 0) return undefined;
  const id = key.slice(0, slash);
  return isRunId(id) ? id : undefined;
}

export function findLeftovers(objects: readonly StoredObject[], uploads: readonly StoredUpload[], rules: LeftoverRules): Leftovers {
  if (!Number.isFinite(rules.deadlineMs) || rules.deadlineMs < 0) throw new RangeError(`a run's deadline is a number of milliseconds ≥ 0, not ${rules.deadlineMs}`);
  const quietSince = rules.now.getTime() - rules.deadlineMs;
  const busy = rules.busy ?? new Set<string>();
  const folders = new Map<string, { keys: string[]; complete: boolean; lastWrite: number }>();
  for (const object of objects) {
    const id = runIdOf(object.key);
    if (id === undefined) continue;
    let folder = folders.get(id);
    if (folder === undefined) {
      folder = { keys: [], complete: false, lastWrite: 0 };
      folders.set(id, folder);
    }
    folder.keys.push(object.key);
    if (object.key === `${id}/${manifestFileName}`) folder.complete = true;
    folder.lastWrite = Math.max(folder.lastWrite, object.lastModified.getTime());
  }
  const runs: LeftoverRun[] = [];
  for (const [id, folder] of [...folders].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (folder.complete || busy.has(id) || folder.lastWrite > quietSince) continue;
    runs.push({ id, keys: folder.keys });
  }
  const stale = uploads.filter((upload) => {
    const id = runIdOf(upload.key);
    return id !== undefined && !busy.has(id) && upload.initiated.getTime() <= quietSince;
  });
  return { runs, uploads: stale };
}
