// Which complete backup a restore that names a backup object means: the one
// with spec.source.backup.id, or the newest. Shared by MySQLRestore and
// VolumeRestore; and what queues a restore when the backup object it names
// changes.
import type { Readiness } from '../status.ts';
import type { Informer, KubeObject } from '../../runtime/informer.ts';
import { watches, type Trigger } from '../../runtime/triggers.ts';
import { keyOf } from '../context.ts';

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

/** What restoresOfBackup reads of a restore. */
type RestoreNamingBackup = KubeObject & {
  readonly spec: { readonly source: { readonly backup?: { readonly name: string } } };
  readonly status?: { readonly conditions?: readonly { readonly type: string; readonly status: string }[] };
};

/** Whether a restore (MySQLRestore, VolumeRestore) has ended: Complete or Failed. It runs once. */
export function restoreEnded(restore: { readonly status?: { readonly conditions?: readonly { readonly type: string; readonly status: string }[] } }): boolean {
  return (restore.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/**
 * Queues the restores that name a backup object when it changes: one that
 * waits for it (BackupNotFound: not there yet, or no complete backup listed,
 * as right after a namespace is applied again) goes on at once, not at the
 * next resync. Ended restores are left alone.
 */
export function restoresOfBackup<B extends KubeObject, R extends RestoreNamingBackup>(backups: Informer<B>, restores: Informer<R>, what: string): Trigger {
  return watches(backups, what, (_event, backup) =>
    restores
      .list(backup.metadata.namespace)
      .filter((r) => r.spec.source.backup?.name === backup.metadata.name && !restoreEnded(r))
      .map(keyOf),
  );
}
