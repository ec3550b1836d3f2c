// The complete backups a backup's folder in the store holds, read back from
// their manifests: what status.backups lists when that list is lost — a
// MySQLBackup or VolumeBackup deleted with its namespace and applied again
// (as a Velero restore does, without status), or made anew under the name of
// an old one. Pure: the controller lists the folder, reads the manifests
// runsWithManifest names and gives each to listedBackupOf.
//
// Only a run folder with manifest.json is a backup (manifest.ts), and a
// manifest of the wrong kind (a files archive in a MySQLBackup's folder) or
// of another run is refused, so nothing is listed that a restore would
// refuse.
import { filesManifestKind, gtidPattern, InvalidManifestError, isRunId, manifestFileName, manifestFormatVersion, manifestObject, parseFilesManifest, parseManifest, parseRunId, timePattern } from './manifest.ts';

/** Which object's backups are read: database backups (logical or physical) or files backups. */
export type StoredBackupKind = 'database' | 'files';

/** One complete backup as status.backups lists it (the fields of both kinds; each kind fills its own). */
export interface StoredBackup {
  readonly id: string;
  readonly time: string;
  readonly completionTime: string;
  /** The run's folder below the target's prefix: <namespace>/<backup name>/<run id>. */
  readonly path: string;
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly gtidPosition?: string;
  readonly databases?: string[];
  readonly fileCount?: number;
  readonly contentBytes?: number;
  readonly contentSha256?: string;
}

/**
 * The run ids whose folder holds manifest.json, newest first, from the keys
 * of a listing relative to the backup's folder (`<run id>/<file>`). Keys
 * outside a run folder, or deeper in one, are not ours and are skipped.
 */
export function runsWithManifest(keys: readonly string[]): string[] {
  const ids = new Set<string>();
  for (const key of keys) {
    const parts = key.split('/');
    if (parts.length === 2 && parts[1] === manifestFileName && isRunId(parts[0] ?? '')) ids.add(parts[0] ?? '');
  }
  return [...ids].sort().reverse();
}

/**
 * The listed entry of run `id` (folder `path`) from its manifest's `text`.
 * Throws an InvalidManifestError saying what is wrong when the manifest is
 * not one of a complete `kind` backup of that run.
 */
export function listedBackupOf(text: string, kind: StoredBackupKind, id: string, path: string): StoredBackup {
  const time = parseRunId(id).toISOString();
  if (kind === 'files') {
    const m = parseFilesManifest(text, path, id);
    return { id, time, completionTime: m.completionTime, path, sizeBytes: m.sizeBytes, sha256: m.sha256, fileCount: m.fileCount, contentBytes: m.contentBytes, contentSha256: m.contentSha256 };
  }
  const declared = declaredKind(text, path);
  if (declared === filesManifestKind) throw new InvalidManifestError(`${manifestFileName} of ${path}`, 'a files backup (VolumeBackup), not a database backup');
  if (declared === 'physical') return physicalEntry(text, id, time, path);
  const m = parseManifest(text, path, id);
  return {
    id,
    time,
    completionTime: m.completionTime,
    path,
    sizeBytes: m.sizeBytes,
    sha256: m.sha256,
    ...(m.gtidPosition === '' ? {} : { gtidPosition: m.gtidPosition }),
    databases: [...m.databases],
  };
}

/** The manifest's kind field ("logical" when absent, as the first manifests had none). */
function declaredKind(text: string, path: string): string {
  const m = manifestObject(text, path);
  const kind = m.kind ?? 'logical';
  if (typeof kind !== 'string' || !['logical', 'physical', filesManifestKind].includes(kind)) {
    throw new InvalidManifestError(`${manifestFileName} of ${path}`, `kind ${JSON.stringify(kind).slice(0, 40)} is not logical, physical or files`);
  }
  return kind;
}

/**
 * A physical backup's manifest: the fields a listing shows are checked here;
 * the rest (data file, compression) is checked by the Job that bootstraps a
 * cluster from it, which refuses a bad one (flightdeck-backup physical-fetch).
 */
function physicalEntry(text: string, id: string, time: string, path: string): StoredBackup {
  const m = manifestObject(text, path);
  const fail = (problem: string): never => {
    throw new InvalidManifestError(`${manifestFileName} of ${path}`, problem);
  };
  if (m.formatVersion !== manifestFormatVersion) fail(`format ${JSON.stringify(m.formatVersion)} is not ${manifestFormatVersion}; a newer operator may have written it`);
  if (m.id !== id) fail(`id ${JSON.stringify(m.id).slice(0, 40)} is not the run's own id ${id}`);
  const { sizeBytes, sha256, gtidPosition, completionTime } = m;
  if (typeof sizeBytes !== 'number' || !Number.isSafeInteger(sizeBytes) || sizeBytes < 0) return fail('sizeBytes must be a whole number ≥ 0');
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return fail('sha256 is not 64 hex digits');
  if (typeof gtidPosition !== 'string' || gtidPosition.length > 4096 || !gtidPattern.test(gtidPosition)) return fail('gtidPosition is not a GTID position');
  if (typeof completionTime !== 'string' || !timePattern.test(completionTime)) return fail('completionTime is not a time');
  return { id, time, completionTime, path, sizeBytes, sha256, ...(gtidPosition === '' ? {} : { gtidPosition }) };
}
