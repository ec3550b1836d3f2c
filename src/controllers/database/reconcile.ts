// The MySQLDatabase reconciler. Phases, in order:
//   1. read the spec          (InvalidSpec stops here)
//   2. finalizer              (only with deletionPolicy: Delete)
//   3. cluster access         (ClusterNotFound, NamespaceNotAllowed, ClusterNotReady stop here; no SQL sent)
//   4. ownership              (Conflict, AdoptionNotAllowed stop here; nothing changed)
//   5. database               (create, or ALTER when encoding/collation differ)
//   6. status and dependents  (Ready; users waiting for this database are queued)
// Deletion drops the database (deletionPolicy: Delete) in lifecycle.ts.
// What queues a database is declared at the end (databaseController).
import type { MySQLDatabase } from '../../api/mysqldatabase.ts';
import { databaseIntent, type DatabaseIntent } from '../../api/normalize.ts';
import type { ReconcileOutcome } from '../../runtime/controller.ts';
import { accessCluster, sqlFailure, type ClusterAccess } from '../cluster-access.ts';
import { keyOf, resyncDelay, splitKey, type ControllerContext, type ControllerDefinition } from '../context.ts';
import { reconcileLifecycle } from '../lifecycle.ts';
import { claimOwnership } from '../ownership.ts';
import { writeStatus, type Readiness } from '../status.ts';
import { databaseKey, databasesByCluster, usersByDatabase } from '../indexes.ts';
import { dependentsOfCluster, objectsOfRelabelledNamespace, ownChanges } from '../worth-reconciling.ts';

/** Present only while deleting the object has work to do: dropping the database (deletionPolicy: Delete). */
export const databaseFinalizer = 'flightdeck.t7.io/drop-database';

export async function reconcileDatabase(context: ControllerContext, key: string): Promise<ReconcileOutcome | undefined> {
  const { namespace, name } = splitKey(key);
  return reconcileLifecycle(context, context.caches.databases.get(namespace, name), {
    finalizer: databaseFinalizer,
    intent: databaseIntent,
    needsFinalizer: (intent) => intent.deletionPolicy === 'Delete',
    owned: (intent) => ({ what: 'database', key: intent.dbName, drop: (client) => client.dropDatabase(intent.dbName) }),
    apply: (db, intent) => applyDatabase(context, db, intent),
  });
}

async function applyDatabase(context: ControllerContext, db: MySQLDatabase, intent: DatabaseIntent): Promise<ReconcileOutcome | undefined> {
  const result = accessCluster(context, db);
  const baseStatus = { dbName: intent.dbName, cluster: `${intent.cluster.namespace}/${intent.cluster.name}` };
  if ('halt' in result) {
    // The cluster, its Secret or the namespace changing queues this object again.
    await writeStatus(context, db, baseStatus, result.halt);
    return { requeueAfterMs: resyncDelay(context) };
  }

  let readiness: Readiness;
  let observed: { charset: string; collation: string } | undefined;
  try {
    const outcome = await ensureDatabase(context, db, intent, result.access);
    readiness = outcome.readiness;
    observed = outcome.observed;
  } catch (error) {
    await writeStatus(context, db, baseStatus, sqlFailure(error, `database ${intent.dbName}`));
    throw error;
  }
  const wasReady = db.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  await writeStatus(
    context,
    db,
    { ...baseStatus, ...(observed === undefined ? {} : { encoding: observed.charset, collation: observed.collation }) },
    readiness,
  );
  if (readiness.ready && !wasReady) queueUsersOf(context, db, intent.dbName);
  return { requeueAfterMs: resyncDelay(context) };
}

async function ensureDatabase(
  context: ControllerContext,
  db: MySQLDatabase,
  intent: DatabaseIntent,
  access: ClusterAccess,
): Promise<{ readiness: Readiness; observed?: { charset: string; collation: string } }> {
  const client = access.client;
  // Read once: it tells adoption apart from creation, and what to change.
  let actual = await client.getDatabase(intent.dbName);
  const existed = actual !== undefined;
  const ownership = await claimOwnership(
    client,
    access,
    'database',
    intent.dbName,
    { kind: 'MySQLDatabase', namespace: db.metadata.namespace ?? 'default', name: db.metadata.name, uid: db.metadata.uid ?? '' },
    () => Promise.resolve(existed),
  );
  if ('halt' in ownership) return { readiness: ownership.halt };
  // Reads are done; what follows changes the server, which a deposed leader must not do.
  context.signal.throwIfAborted();

  const where = `MySQLCluster ${access.intent.key.namespace}/${access.intent.key.name}`;
  if (actual === undefined) {
    await client.createDatabase(intent.dbName, { charset: intent.charset, ...(intent.collation === undefined ? {} : { collation: intent.collation }) });
    actual = await client.getDatabase(intent.dbName);
    context.events.record(db, 'Normal', 'Created', `created database ${intent.dbName} on ${where}`);
  } else if (actual.charset !== intent.charset || (intent.collation !== undefined && actual.collation !== intent.collation)) {
    await client.alterDatabase(intent.dbName, { charset: intent.charset, ...(intent.collation === undefined ? {} : { collation: intent.collation }) });
    context.events.record(
      db,
      'Normal',
      'Altered',
      `changed database ${intent.dbName} from ${actual.charset}/${actual.collation} to ${intent.charset}/${intent.collation ?? 'the default collation'}`,
    );
    actual = await client.getDatabase(intent.dbName);
  } else if (ownership.adopted) {
    context.events.record(db, 'Normal', 'Adopted', `adopted the existing database ${intent.dbName} on ${where}`);
  }
  if (ownership.restored) context.events.record(db, 'Normal', 'Restored', `took back database ${intent.dbName}, recorded for this object before`);
  if (actual === undefined) throw new Error(`database ${intent.dbName} vanished while it was being created`);
  return {
    readiness: { ready: true, reason: 'Ready', message: `database ${intent.dbName} exists on ${where}` },
    observed: { charset: actual.charset, collation: actual.collation },
  };
}

/** Users of this namespace that declare privileges on the database may have waited for it. */
function queueUsersOf(context: ControllerContext, db: MySQLDatabase, dbName: string): void {
  for (const user of context.caches.users.byIndex(usersByDatabase, databaseKey(db.metadata.namespace ?? 'default', dbName))) {
    context.enqueue.user(keyOf(user));
  }
}

export const databaseController: ControllerDefinition = {
  name: 'mysqldatabase',
  reconcile: reconcileDatabase,
  triggers: (caches) => [
    ownChanges(caches.databases, 'mysqldatabases'),
    dependentsOfCluster(caches.clusters, caches.databases, databasesByCluster),
    objectsOfRelabelledNamespace(caches.namespaces, caches.databases),
  ],
};
