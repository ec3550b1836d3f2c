// The MySQLUser reconciler. Phases, in order:
//   1. read the spec          (InvalidSpec stops here)
//   2. finalizer              (only with deletionPolicy: Delete)
//   3. cluster access         (ClusterNotFound, NamespaceNotAllowed, ClusterNotReady stop here; no SQL sent)
//   4. tenancy of privileges  (PrivilegesRefused, WaitingForDatabase stop here; nothing changed)
//   5. password               (read from its Secret, or generated into it)
//   6. ownership              (Conflict, AdoptionNotAllowed stop here; nothing changed)
//   7. account                (create, or follow a changed password / connection limit; or drop for state: absent)
//   8. privileges             (exactly what is declared; only the difference is sent)
//   9. connection Secret      (host, port, username, password, database, uri)
//  10. status
// Deletion drops the user (deletionPolicy: Delete) in lifecycle.ts.
// What queues a user is declared at the end (userController).
import { randomBytes } from 'node:crypto';
import type { MySQLUser } from '../../api/mysqluser.ts';
import { userIntent, type UserIntent } from '../../api/normalize.ts';
import { passwordMatches, type Grant } from '../../mysql/client.ts';
import type { ReconcileOutcome } from '../../runtime/controller.ts';
import { accessCluster, sqlFailure, type ClusterAccess } from '../cluster-access.ts';
import { keyOf, managedByLabel, resyncDelay, secretValue, splitKey, type ControllerContext, type ControllerDefinition, type SecretObject } from '../context.ts';
import { reconcileLifecycle } from '../lifecycle.ts';
import { claimOwnership } from '../ownership.ts';
import { writeStatus, type Readiness } from '../status.ts';
import { notOwnedViolation, privilegeViolations } from '../tenancy.ts';
import { connectionSecret, secretDataEqual } from './connection-secret.ts';
import { databasesByDeclaration, declaredDatabaseKey, secretKey, usersByCluster, usersBySecret } from '../indexes.ts';
import { watches } from '../../runtime/triggers.ts';
import { dependentsOfCluster, objectsOfRelabelledNamespace, ownChanges, secretChangeMatters } from '../worth-reconciling.ts';

/** Present only while deleting the object has work to do: dropping the user (deletionPolicy: Delete). */
export const userFinalizer = 'flightdeck.t7.io/drop-user';

export async function reconcileUser(context: ControllerContext, key: string): Promise<ReconcileOutcome | undefined> {
  const { namespace, name } = splitKey(key);
  return reconcileLifecycle(context, context.caches.users.get(namespace, name), {
    finalizer: userFinalizer,
    intent: userIntent,
    needsFinalizer: (intent) => intent.deletionPolicy === 'Delete',
    owned: (intent) => ({
      what: 'user',
      key: `${intent.username}@${intent.host}`,
      drop: (client) => client.dropUser(intent.username, intent.host),
    }),
    apply: (user, intent) => applyUser(context, user, intent),
  });
}

async function applyUser(context: ControllerContext, user: MySQLUser, intent: UserIntent): Promise<ReconcileOutcome | undefined> {
  const status = {
    username: intent.username,
    host: intent.host,
    cluster: `${intent.cluster.namespace}/${intent.cluster.name}`,
    passwordSecret: intent.passwordSecret.name,
    ...(intent.state === 'present' ? { connectionSecret: intent.connectionSecretName } : {}),
  };
  const result = accessCluster(context, user);
  if ('halt' in result) {
    await writeStatus(context, user, status, result.halt);
    return { requeueAfterMs: resyncDelay(context) };
  }

  let readiness: Readiness;
  try {
    readiness =
      intent.state === 'absent'
        ? await ensureAbsent(context, user, intent, result.access)
        : await ensurePresent(context, user, intent, result.access);
  } catch (error) {
    await writeStatus(context, user, status, sqlFailure(error, `user ${intent.username}@${intent.host}`));
    throw error;
  }
  if (readiness.reason === 'WaitingForDatabase' && justCreated(context, user)) {
    // A site's database and user are usually applied together; the database
    // queues this user when it is ready. Saying "waiting" for that moment
    // would cost a status write and an event per user, so only a wait that
    // lasts is reported.
    return { requeueAfterMs: 1000 };
  }
  await writeStatus(context, user, status, readiness);
  return { requeueAfterMs: resyncDelay(context) };
}

const quietWaitMs = 10_000;

function justCreated(context: ControllerContext, user: MySQLUser): boolean {
  const created = Date.parse(user.metadata.creationTimestamp ?? '');
  return user.status?.conditions === undefined && Number.isFinite(created) && context.now().getTime() - created < quietWaitMs;
}

function claimant(user: MySQLUser): { kind: 'MySQLUser'; namespace: string; name: string; uid: string } {
  return { kind: 'MySQLUser', namespace: user.metadata.namespace ?? 'default', name: user.metadata.name, uid: user.metadata.uid ?? '' };
}

async function ensureAbsent(context: ControllerContext, user: MySQLUser, intent: UserIntent, access: ClusterAccess): Promise<Readiness> {
  const client = access.client;
  const account = `${intent.username}@${intent.host}`;
  const exists = async (): Promise<boolean> => (await client.getUser(intent.username, intent.host)) !== undefined;
  const ownership = await claimOwnership(client, access, 'user', account, claimant(user), exists);
  if ('halt' in ownership) return ownership.halt;
  recordRestored(context, user, ownership, account);
  if (await exists()) {
    await client.dropUser(intent.username, intent.host);
    context.events.record(user, 'Normal', 'Dropped', `dropped user ${account} (state: absent)`);
  }
  return { ready: true, reason: 'Absent', message: `user ${account} does not exist, as declared (state: absent)` };
}

/** A user restored from a backup (new uid, same namespace/name) takes its account back, as docs/usage.md tells. */
function recordRestored(context: ControllerContext, user: MySQLUser, ownership: { restored: boolean }, account: string): void {
  if (ownership.restored) context.events.record(user, 'Normal', 'Restored', `took back user ${account}, recorded for this object before`);
}

/** Tenancy phase: a tenant's privileges must be on databases its own namespace owns. */
async function checkPrivileges(context: ControllerContext, user: MySQLUser, intent: UserIntent, access: ClusterAccess): Promise<Readiness | undefined> {
  const namespace = user.metadata.namespace ?? 'default';
  const clusterNamespace = access.intent.key.namespace;
  if (namespace === clusterNamespace) return undefined;
  const owners = new Map<string, string | undefined>();
  for (const p of intent.privileges) {
    if (p.database === '*' || owners.has(p.database)) continue;
    owners.set(p.database, (await access.client.getOwner('database', p.database))?.namespace);
  }
  const violations = privilegeViolations(intent.privileges, namespace, clusterNamespace, (db) => owners.get(db));
  if (violations.length === 0) return undefined;

  // A database declared in this namespace but not created yet is worth waiting for, not refusing.
  const declaredHere = (db: string): boolean =>
    context.caches.databases.byIndex(databasesByDeclaration, declaredDatabaseKey(namespace, access.intent.key, db)).length > 0;
  const waiting = [...owners.entries()].filter(([db, owner]) => owner === undefined && declaredHere(db)).map(([db]) => db);
  const onlyWaiting = violations.every((v) => waiting.some((db) => v === notOwnedViolation(db, namespace)));
  if (onlyWaiting) {
    return { ready: false, reason: 'WaitingForDatabase', message: `waiting for database ${waiting.join(', ')} to be created by its MySQLDatabase` };
  }
  return { ready: false, reason: 'PrivilegesRefused', message: `refused: ${violations.join('; ')}` };
}

/**
 * The password from its Secret; when the Secret does not exist, a strong
 * random one is generated and stored there. A Secret that exists without the
 * key is the user's and is not changed.
 */
async function resolvePassword(
  context: ControllerContext,
  user: MySQLUser,
  intent: UserIntent,
): Promise<{ password: string; generated: boolean } | { halt: Readiness }> {
  const namespace = user.metadata.namespace ?? 'default';
  const ref = intent.passwordSecret;
  let secret: SecretObject | undefined = context.caches.secrets.get(namespace, ref.name);
  let generated = false;
  if (secret === undefined) {
    const fresh = randomBytes(24).toString('base64url');
    const ownerReferences = intent.deletionPolicy === 'Delete' ? [ownerReferenceTo(user)] : [];
    const created = await context.kube.create<SecretObject>({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: ref.name, namespace, labels: managedByLabel, ownerReferences },
      type: 'Opaque',
      data: { [ref.key]: Buffer.from(fresh).toString('base64') },
    });
    // undefined: it was created meanwhile (the cache lags); read what is there.
    secret = created ?? (await context.kube.get<SecretObject>({ apiVersion: 'v1', kind: 'Secret', namespace, name: ref.name }));
    generated = created !== undefined;
  }
  const password = secretValue(secret, ref.key);
  if (password === undefined || password === '') {
    return { halt: { ready: false, reason: 'PasswordSecretInvalid', message: `Secret ${ref.name} has no value for key "${ref.key}"` } };
  }
  return { password, generated };
}

function ownerReferenceTo(user: MySQLUser): { apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean } {
  return { apiVersion: user.apiVersion, kind: user.kind, name: user.metadata.name, uid: user.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

function grantsOf(intent: UserIntent): Grant[] {
  return intent.privileges
    .filter((p) => p.privileges.length > 0 || p.withGrantOption)
    .map((p) => ({ database: p.database, table: p.table, privileges: [...p.privileges], withGrantOption: p.withGrantOption }));
}

function describeGrant(g: Grant): string {
  return `${g.privileges.join(', ') || 'USAGE'}${g.withGrantOption ? ' WITH GRANT OPTION' : ''} ON ${g.database}.${g.table}`;
}

async function ensurePresent(context: ControllerContext, user: MySQLUser, intent: UserIntent, access: ClusterAccess): Promise<Readiness> {
  const refused = await checkPrivileges(context, user, intent, access);
  if (refused !== undefined) return refused;
  const resolved = await resolvePassword(context, user, intent);
  if ('halt' in resolved) return resolved.halt;
  const { password, generated } = resolved;

  const client = access.client;
  const account = `${intent.username}@${intent.host}`;
  const info = await client.getUser(intent.username, intent.host);
  const ownership = await claimOwnership(client, access, 'user', account, claimant(user), () => Promise.resolve(info !== undefined));
  if ('halt' in ownership) return ownership.halt;
  recordRestored(context, user, ownership, account);

  // Reads are done; what follows changes the server, which a deposed leader must not do.
  context.signal.throwIfAborted();
  const created = info === undefined;
  if (info === undefined) {
    await client.createUser(intent.username, intent.host, password, { maxUserConnections: intent.maxUserConnections });
  } else {
    if (ownership.adopted) context.events.record(user, 'Normal', 'Adopted', `adopted the existing user ${account}`);
    if (generated) context.events.record(user, 'Normal', 'PasswordGenerated', `generated a new password into Secret ${intent.passwordSecret.name}`);
    if (!passwordMatches(info, password)) {
      await client.setPassword(intent.username, intent.host, password);
      context.events.record(user, 'Normal', 'PasswordChanged', `set the password of ${account} from Secret ${intent.passwordSecret.name}`);
    }
    if (info.maxUserConnections !== intent.maxUserConnections) {
      await client.setMaxUserConnections(intent.username, intent.host, intent.maxUserConnections);
    }
  }

  context.signal.throwIfAborted();
  const change = await client.setGrants(intent.username, intent.host, grantsOf(intent), { newAccount: created });
  if (created) {
    // One event tells the whole creation.
    const granted = change.granted.length > 0 ? ` with ${change.granted.map(describeGrant).join('; ')}` : '';
    const secretNote = generated ? `; generated its password into Secret ${intent.passwordSecret.name}` : '';
    context.events.record(user, 'Normal', 'Created', `created user ${account}${granted}${secretNote}`);
  } else if (change.granted.length + change.revoked.length > 0) {
    const parts = [
      ...(change.granted.length > 0 ? [`granted ${change.granted.map(describeGrant).join('; ')}`] : []),
      ...(change.revoked.length > 0 ? [`revoked ${change.revoked.map(describeGrant).join('; ')}`] : []),
    ];
    context.events.record(user, 'Normal', 'PrivilegesChanged', parts.join('; '));
  }

  const conflict = await writeConnectionSecret(context, user, intent, access, password);
  if (conflict !== undefined) return conflict;
  const databases = intent.privileges.filter((p) => p.privileges.length > 0).map((p) => `${p.database}.${p.table}`);
  return {
    ready: true,
    reason: 'Ready',
    message: `user ${account} exists${databases.length > 0 ? ` with privileges on ${databases.join(', ')}` : ' (USAGE only)'}`,
  };
}

/** Applies the connection Secret when its content differs; refuses to take over a Secret this object did not write. */
async function writeConnectionSecret(
  context: ControllerContext,
  user: MySQLUser,
  intent: UserIntent,
  access: ClusterAccess,
  password: string,
): Promise<Readiness | undefined> {
  const namespace = user.metadata.namespace ?? 'default';
  const desired = connectionSecret({
    name: intent.connectionSecretName,
    namespace,
    owner: ownerReferenceTo(user),
    labels: managedByLabel,
    host: access.endpoint.host,
    port: access.endpoint.port,
    username: intent.username,
    password,
    privileges: intent.privileges,
  });
  const existing = context.caches.secrets.get(namespace, intent.connectionSecretName);
  if (existing !== undefined) {
    if (!connectionSecretIsOurs(existing, user, intent)) {
      return {
        ready: false,
        reason: 'ConnectionSecretConflict',
        message: `Secret ${intent.connectionSecretName} exists and was not written for this MySQLUser; name another in spec.connectionSecret`,
      };
    }
    const ownedByThis = (existing.metadata.ownerReferences ?? []).some((o) => o.uid === user.metadata.uid);
    if (ownedByThis && secretDataEqual(existing.data, desired.data)) return undefined;
  }
  await context.kube.apply(desired);
  return undefined;
}

export const userController: ControllerDefinition = {
  name: 'mysqluser',
  reconcile: reconcileUser,
  triggers: (caches) => [
    ownChanges(caches.users, 'mysqlusers'),
    dependentsOfCluster(caches.clusters, caches.users, usersByCluster),
    objectsOfRelabelledNamespace(caches.namespaces, caches.users),
    // A password edited in its Secret, or a connection Secret removed by hand.
    watches(caches.secrets, 'users naming the Secret', (event, secret, previous) =>
      secretChangeMatters(event, secret, previous)
        ? caches.users.byIndex(usersBySecret, secretKey(secret.metadata.namespace ?? '', secret.metadata.name)).map(keyOf)
        : [],
    ),
  ],
};

/**
 * Whether an existing connection Secret is this object's to rewrite: it names
 * this object as its owner, or it is one the operator wrote for this very
 * account and that has lost its owner — Velero strips ownerReferences when it
 * restores a namespace, so a restored MySQLUser finds its restored connection
 * Secret without one. (Taking it over sets the owner again.)
 */
function connectionSecretIsOurs(existing: SecretObject, user: MySQLUser, intent: UserIntent): boolean {
  const owners = existing.metadata.ownerReferences ?? [];
  if (owners.some((o) => o.uid === user.metadata.uid)) return true;
  const writtenByOperator = Object.entries(managedByLabel).every(([key, value]) => existing.metadata.labels?.[key] === value);
  return owners.length === 0 && writtenByOperator && secretValue(existing, 'username') === intent.username;
}
