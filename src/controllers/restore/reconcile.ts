// The MySQLRestore reconciler: one restore, run once as a Job. Phases:
//   1. ended          (Complete or Failed: nothing more, ever — a restore is not repeated)
//   2. source         (the MySQLBackup's backup, or a target and path given directly; BackupNotFound waits here)
//   3. cluster access (ClusterNotFound, NamespaceNotAllowed, ClusterNotReady wait here)
//   4. scope          (DatabaseNotOwned, WholeClusterNotAllowed: the tenancy rule, on the target names)
//   5. start          (on S3, a run folder without manifest.json is refused here, Failed NotABackup: an interrupted
//                      run is no backup; then account with ALL on exactly the target databases, then the Job)
//   6. follow         (the Job's end: Complete with what was restored, or Failed with the script's reason; account dropped)
// A non-empty target without overwrite is refused by the Job's script before
// it changes anything (TargetNotEmpty), and shows here as Failed.
import { chooseBackup, restoreEnded, restoresOfBackup } from './chosen-backup.ts';
import { elapsedSeconds } from '../../backup/elapsed.ts';
import type { BackupTarget } from '../../api/backup-target.ts';
import { defaultMariadbImage } from '../../api/mysqlcluster.ts';
import type { MySQLRestore, MySQLRestoreStatus } from '../../api/mysqlrestore.ts';
import { clusterKeyOf } from '../../api/normalize.ts';
import { restoreGrants } from '../../mysql/job-accounts.ts';
import type { ReconcileOutcome } from '../../runtime/controller.ts';
import type { ConditionUpdate } from '../../runtime/conditions.ts';
import { owns } from '../../runtime/triggers.ts';
import { dropJobAccount, ensureJobAccount } from '../backup/account.ts';
import { restoreJob, restoreJobName, type JobOwner } from '../backup/job.ts';
import { jobNameLabel, jobOutcome, type JobPod } from '../backup/job-status.ts';
import { s3ClientOf } from '../backup/prune.ts';
import { databasesOwnedBy, scopeRefusal } from '../backup/scope.ts';
import { manifestFileName } from '../../backup/manifest.ts';
import { accessCluster, sqlFailure } from '../cluster-access.ts';
import { splitKey, type ControllerContext, type ControllerDefinition } from '../context.ts';
import { writeStatus, type Readiness } from '../status.ts';
import { restoresByCluster } from '../indexes.ts';
import { dependentsOfCluster, dependentsOfNamespaceDatabases, objectsOfRelabelledNamespace, ownChanges } from '../worth-reconciling.ts';

const followUpMs = 30_000;

interface ResolvedSource {
  readonly target: BackupTarget;
  readonly path: string;
  readonly backupId?: string;
  /** The backup's databases when known (from the MySQLBackup's status). */
  readonly databases?: readonly string[];
  readonly encryption?: { readonly secretName: string; readonly key: string };
}

function ownerOf(restore: MySQLRestore): JobOwner {
  return { kind: 'MySQLRestore', name: restore.metadata.name, namespace: restore.metadata.namespace ?? 'default', uid: restore.metadata.uid ?? '' };
}

function statusFields(restore: MySQLRestore): Record<string, unknown> {
  // conditions and observedGeneration are in it too; writeStatus sets both over them.
  return { ...(restore.status ?? {}) };
}

/** The backup to restore, or why it cannot be found (yet). */
function resolveSource(context: ControllerContext, restore: MySQLRestore): ResolvedSource | Readiness {
  const namespace = restore.metadata.namespace ?? 'default';
  const source = restore.spec.source;
  const key = restore.spec.encryption?.secretKeyRef;
  const restoreKey = key === undefined ? undefined : { secretName: key.name, key: key.key ?? 'key' };
  if (source.backup !== undefined) {
    const backup = context.caches.backups.get(namespace, source.backup.name);
    if (backup === undefined) return { ready: false, reason: 'BackupNotFound', message: `MySQLBackup ${namespace}/${source.backup.name} does not exist` };
    const chosen = chooseBackup(`MySQLBackup ${namespace}/${source.backup.name}`, source.backup.id, backup.status?.backups);
    if ('ready' in chosen) return chosen;
    const backupKey = backup.spec.encryption?.secretKeyRef;
    const encryption = restoreKey ?? (backupKey === undefined ? undefined : { secretName: backupKey.name, key: backupKey.key ?? 'key' });
    return {
      target: backup.spec.target,
      path: chosen.path,
      backupId: chosen.id,
      ...(chosen.databases === undefined ? {} : { databases: chosen.databases }),
      ...(encryption === undefined ? {} : { encryption }),
    };
  }
  if (source.target !== undefined && source.path !== undefined) {
    return { target: source.target, path: source.path, ...(restoreKey === undefined ? {} : { encryption: restoreKey }) };
  }
  return { ready: false, reason: 'InvalidSpec', message: 'spec.source needs either backup, or target and path' };
}

export async function reconcileRestore(context: ControllerContext, key: string): Promise<ReconcileOutcome | undefined> {
  const { namespace, name } = splitKey(key);
  const restore = context.caches.restores.get(namespace, name);
  // 1. ended
  if (restore === undefined || restoreEnded(restore) || restore.metadata.deletionTimestamp !== undefined) return undefined;
  const owner = ownerOf(restore);
  const fields = statusFields(restore);
  const wait = async (readiness: Readiness): Promise<ReconcileOutcome> => {
    await writeStatus(context, restore, { ...fields, message: readiness.message }, readiness);
    return { requeueAfterMs: context.resyncIntervalMs };
  };

  // 2. source
  const source = resolveSource(context, restore);
  if ('ready' in source) return wait(source);

  // 3. cluster access
  const result = accessCluster(context, restore);
  if ('halt' in result) return wait(result.halt);
  const access = result.access;
  const clusterKey = clusterKeyOf(restore);

  // 4. scope: what is written to is what counts
  const mapping =
    restore.spec.databases?.map((d) => ({ from: d.from, to: d.to ?? d.from })) ?? source.databases?.map((db) => ({ from: db, to: db }));
  const refusal = scopeRefusal({
    what: 'restore into',
    databases: mapping?.map((m) => m.to),
    namespace: owner.namespace,
    cluster: clusterKey,
    owned: databasesOwnedBy(context.caches.databases.list(owner.namespace), clusterKey),
  });
  if (refusal !== undefined) return wait(refusal);
  if (mapping === undefined) {
    return wait({ ready: false, reason: 'InvalidSpec', message: 'restoring from a target and path needs spec.databases: the databases of the backup are not known before its manifest is read' });
  }

  const jobName = restoreJobName(owner.name);
  const job = context.caches.jobs.get(owner.namespace, jobName);
  const now = context.now();
  const base = { ...fields, jobName, path: source.path, ...(source.backupId === undefined ? {} : { backupId: source.backupId }) };

  // 5. start
  if (job === undefined) {
    if (restore.status?.startTime !== undefined) {
      // Created before; the cache has not shown it yet.
      return { requeueAfterMs: 2000 };
    }
    const missing = await missingManifest(context, owner.namespace, source);
    if (missing !== undefined) {
      const failed: ConditionUpdate = { type: 'Failed', status: 'True', reason: 'NotABackup', message: missing };
      await writeStatus(context, restore, { ...base, message: missing }, { ready: false, reason: 'NotABackup', message: missing }, [failed]);
      context.events.record(restore, 'Warning', 'RestoreRefused', missing);
      return undefined;
    }
    try {
      const account = await ensureJobAccount(context, owner, access.client, restoreGrants(mapping.map((m) => m.to)));
      await context.kube.create(
        restoreJob({
          owner,
          image: access.intent.managed?.image ?? defaultMariadbImage,
          credentials: { host: access.endpoint.host, port: access.endpoint.port, secretName: account.secretName },
          target: source.target,
          runPath: source.path,
          encryptionKey: source.encryption,
          activeDeadlineSeconds: restore.spec.activeDeadlineSeconds ?? 3600,
          resources: restore.spec.resources,
          databases: mapping,
          overwrite: restore.spec.overwrite ?? false,
        }),
      );
    } catch (error) {
      await writeStatus(context, restore, base, sqlFailure(error, 'starting the restore'));
      throw error;
    }
    context.events.record(restore, 'Normal', 'RestoreStarted', `restoring ${mapping.map((m) => `${m.from} → ${m.to}`).join(', ')} from ${source.path} with Job ${jobName}`);
    await writeStatus(context, restore, { ...base, startTime: now.toISOString(), message: `Job ${jobName} is restoring` }, { ready: false, reason: 'Running', message: `Job ${jobName} is restoring` });
    return { requeueAfterMs: followUpMs };
  }

  // 6. follow
  const pods = context.caches.pods.list(owner.namespace).filter((p) => p.metadata.labels?.[jobNameLabel] === jobName) as JobPod[];
  const outcome = jobOutcome(job, pods);
  if (outcome.state === 'running') return { requeueAfterMs: followUpMs };
  await dropJobAccount(owner, access.client);
  const startTime = restore.status?.startTime ?? job.status?.startTime ?? now.toISOString();
  const completionTime = outcome.completionTime ?? now.toISOString();
  const durationSeconds = elapsedSeconds(startTime, completionTime);
  const timing = { startTime, completionTime, durationSeconds };
  if (outcome.state === 'failed') {
    const message = `${outcome.reason}: ${outcome.message}`;
    const failed: ConditionUpdate = { type: 'Failed', status: 'True', reason: outcome.reason, message };
    await writeStatus(context, restore, { ...base, ...timing, message }, { ready: false, reason: outcome.reason, message }, [failed]);
    return undefined;
  }
  const made = outcome.result;
  const fromOf = new Map(mapping.map((m) => [m.to, m.from]));
  const restored: NonNullable<MySQLRestoreStatus['restored']> = (made.restored ?? []).map((r) => ({
    database: r.database,
    ...(fromOf.get(r.database) === undefined ? {} : { from: fromOf.get(r.database) }),
    tables: r.tables,
    rows: r.rows,
    checksumsMatch: made.verified === true,
  }));
  const message =
    made.verified === true
      ? `restored ${restored.map((r) => `${r.database} (${r.tables} tables, ${r.rows} rows)`).join(', ')}; every table's rows and CHECKSUM TABLE equal the backup's`
      : `restored ${restored.map((r) => r.database).join(', ')}; ${made.warning ?? 'not verified'}`;
  const complete: ConditionUpdate = { type: 'Complete', status: 'True', reason: made.verified === true ? 'Verified' : 'Restored', message };
  await writeStatus(context, restore, { ...base, ...timing, restored, message }, { ready: true, reason: 'Complete', message }, [complete]);
  context.events.record(restore, 'Normal', 'RestoreCompleted', message);
  return undefined;
}

/**
 * Why the source on an S3 target is no backup (its folder has no
 * manifest.json: an interrupted run, or no run at all), or undefined when it
 * has one, or when the target is a volume (the Job's script refuses there,
 * BackupNotFound). A store that cannot be asked throws: the restore waits.
 */
async function missingManifest(context: ControllerContext, namespace: string, source: ResolvedSource): Promise<string | undefined> {
  const s3 = source.target.s3;
  if (s3 === undefined) return undefined;
  const key = `${[s3.prefix?.replace(/^\/+|\/+$/g, ''), source.path.replace(/^\/+|\/+$/g, '')].filter((p) => p !== undefined && p !== '').join('/')}/${manifestFileName}`;
  const client = s3ClientOf(context, { metadata: { namespace }, spec: { target: source.target } }, s3);
  try {
    const head = await client.headObject(s3.bucket, key, { signal: context.signal });
    if (head !== undefined) return undefined;
  } catch (error) {
    throw new Error(`checking for s3://${s3.bucket}/${key}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    client.close();
  }
  return `s3://${s3.bucket}/${key} does not exist: ${source.path} is not a complete backup (a run interrupted before its manifest was written, or no run at all); nothing was restored`;
}

export const restoreController: ControllerDefinition = {
  name: 'mysqlrestore',
  reconcile: reconcileRestore,
  triggers: (caches) => [
    ownChanges(caches.restores, 'mysqlrestores'),
    // A restore halted on its cluster goes on when the cluster is ready, not at the next resync.
    dependentsOfCluster(caches.clusters, caches.restores, restoresByCluster),
    objectsOfRelabelledNamespace(caches.namespaces, caches.restores),
    restoresOfBackup(caches.backups, caches.restores, 'MySQLRestores of a MySQLBackup that changed'),
    dependentsOfNamespaceDatabases(caches.databases, caches.restores, 'MySQLRestores'),
    owns(caches.jobs, 'Jobs owned by MySQLRestore', { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLRestore' }),
  ],
};
