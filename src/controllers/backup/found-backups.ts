// A MySQLBackup or VolumeBackup whose status has never listed its backups
// (new, or applied again after its namespace was deleted, as a Velero
// restore does without status) lists them from its folder in an S3 target,
// once: a restore that names it, and retention, then see the backups an
// earlier object of that name made. src/backup/stored-backups.ts decides
// what counts; this reads the store.
//
// A PVC target cannot be read from the operator: there status.backups starts
// empty, and a backup made before is restored by target and path
// (docs/backups.md).
import { maxListedBackups } from '../../api/mysqlbackup.ts';
import { backupFolder, manifestFileName, maxManifestBytes } from '../../backup/manifest.ts';
import { listedBackupOf, runsWithManifest, type StoredBackup, type StoredBackupKind } from '../../backup/stored-backups.ts';
import type { S3Client } from '../../storage/s3.ts';
import type { EventSubject } from '../../runtime/events.ts';
import type { ControllerContext } from '../context.ts';
import type { CleanupOwner } from './cleanup.ts';
import { s3ClientOf } from './prune.ts';

export type FoundBackups =
  /** The newest complete backups (at most maxListedBackups), and the runs whose manifest was refused, with why. */
  | { readonly backups: StoredBackup[]; readonly refused: string[] }
  /** The store could not be read: nothing is known, try again later. */
  | { readonly error: string };

/** The complete backups in `owner`'s S3 folder; undefined for a PVC target. */
export async function findStoredBackups(context: ControllerContext, owner: CleanupOwner, kind: StoredBackupKind): Promise<FoundBackups | undefined> {
  const s3 = owner.spec.target.s3;
  if (s3 === undefined) return undefined;
  const namespace = owner.metadata.namespace ?? 'default';
  const folder = `${backupFolder(s3.prefix, namespace, owner.metadata.name)}/`;
  let client: S3Client;
  try {
    client = s3ClientOf(context, owner, s3);
  } catch (error) {
    return { error: `connecting to s3://${s3.bucket}: ${error instanceof Error ? error.message : String(error)}` };
  }
  let step = `listing s3://${s3.bucket}/${folder}`;
  try {
    const objects = await client.listAllObjects(s3.bucket, { prefix: folder, signal: context.signal });
    const sizes = new Map(objects.map((o) => [o.key.slice(folder.length), o.size]));
    const backups: StoredBackup[] = [];
    const refused: string[] = [];
    for (const id of runsWithManifest([...sizes.keys()])) {
      if (backups.length >= maxListedBackups) break;
      const key = `${id}/${manifestFileName}`;
      // Refused before it is read: a manifest is a few KB, and this one would be held in memory whole.
      if ((sizes.get(key) ?? 0) > maxManifestBytes) {
        refused.push(`${id}: ${manifestFileName} is larger than ${maxManifestBytes} bytes`);
        continue;
      }
      step = `reading s3://${s3.bucket}/${folder}${key}`;
      const text = await client.getObject(s3.bucket, `${folder}${key}`, { signal: context.signal });
      try {
        backups.push(listedBackupOf(text.toString('utf8'), kind, id, `${namespace}/${owner.metadata.name}/${id}`));
      } catch (error) {
        refused.push(error instanceof Error ? error.message : String(error));
      }
    }
    return { backups, refused };
  } catch (error) {
    return { error: `${step}: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    client.close();
  }
}

/**
 * For a reconcile of `owner`: when its status has never listed backups, the
 * ones its S3 folder holds (told as Events), to be written to
 * status.backups; undefined to leave the list as it is (listed before, a PVC
 * target, or a store that did not answer, which is tried again next time).
 */
export async function backupsToAdopt(
  context: ControllerContext,
  owner: CleanupOwner & EventSubject & { readonly status?: { readonly backups?: readonly unknown[] } },
  kind: StoredBackupKind,
): Promise<StoredBackup[] | undefined> {
  if (owner.status?.backups !== undefined) return undefined;
  const found = await findStoredBackups(context, owner, kind);
  if (found === undefined) return undefined;
  if ('error' in found) {
    context.events.record(owner, 'Warning', 'BackupListFailed', `the backups already in the target could not be listed (tried again at the next reconcile): ${found.error}`);
    return undefined;
  }
  for (const problem of found.refused) context.events.record(owner, 'Warning', 'StoredBackupRefused', `not listed: ${problem}`);
  const newest = found.backups[0];
  if (newest !== undefined) {
    context.events.record(owner, 'Normal', 'BackupsFound', `listed ${found.backups.length} complete backup(s) found in the target, the newest ${newest.id}: made before this object (an earlier one of this name)`);
  }
  return found.backups;
}
