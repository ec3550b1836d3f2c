// Which complete backup a restore that names a backup object means: the one
// with spec.source.backup.id, or the newest. Shared by MySQLRestore and
// VolumeRestore. Pure.
import type { Readiness } from '../status.ts';

/**
 * The backup of `owner` (kind, namespace/name) listed in its status with id
 * `id`, or the newest (first) when `id` is undefined; else why there is none,
 * as the Ready condition says it.
 */
export function chooseBackup<B extends { readonly id: string }>(owner: string, id: string | undefined, listed: readonly B[] | undefined): B | Readiness {
  const list = listed ?? [];
  const chosen = id === undefined ? list[0] : list.find((b) => b.id === id);
  if (chosen !== undefined) return chosen;
  return { ready: false, reason: 'BackupNotFound', message: `${owner} has ${id === undefined ? 'no complete backup yet' : `no complete backup ${id}`}` };
}
