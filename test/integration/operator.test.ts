// The operator as a user meets it: objects applied with kubectl to a real
// kube-apiserver, the operator running as its own process, and what MariaDB
// then holds and allows — including what one tenant can do to another.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as mariadb from 'mariadb';
import { stringify } from 'yaml';
import { externalClusterManifests } from '../env/external-cluster.ts';
import { kubectl, kubectlResult, waitForReady, type KubectlTarget } from '../env/kubectl.ts';
import type { MariaDBInstance } from '../env/mariadb.ts';
import { sqlWrites, startOperator, stopOperator, type OperatorProcess } from '../env/operator.ts';
import { startTestEnvironment, stopTestEnvironment, type TestEnvironment } from '../env/shared.ts';

let env: TestEnvironment;
let k: KubectlTarget;
let server: MariaDBInstance;
let operator: OperatorProcess;
let admin: mariadb.Connection;

const api = 'flightdeck.t7.io/v1';
const cluster = { name: 'shared', namespace: 'db-system' };

function apply(...manifests: object[]): void {
  kubectl(k, ['apply', '-f', '-'], manifests.map((m) => stringify(m)).join('---\n'));
}

function secretData(namespace: string, name: string): Record<string, string> {
  const secret = JSON.parse(kubectl(k, ['get', 'secret', name, '-n', namespace, '-o', 'json'])) as { data: Record<string, string> };
  return Object.fromEntries(Object.entries(secret.data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]));
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function connectAs(user: string, password: string, database?: string): Promise<mariadb.Connection> {
  return mariadb.createConnection({ host: server.host, port: server.port, user, password, ...(database === undefined ? {} : { database }) });
}

async function databaseExists(name: string): Promise<boolean> {
  const rows = await admin.query<unknown[]>('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
  return rows.length === 1;
}

async function accountExists(user: string, host = '%'): Promise<boolean> {
  const rows = await admin.query<unknown[]>('SELECT 1 FROM mysql.global_priv WHERE User = ? AND Host = ?', [user, host]);
  return rows.length === 1;
}

/** The reasons of the Events recorded about one MySQLUser object (by uid: a re-created object of the same name is another). */
function eventReasons(namespace: string, uid: string): string[] {
  const list = JSON.parse(
    kubectl(k, ['get', 'events', '-n', namespace, '--field-selector', `involvedObject.kind=MySQLUser,involvedObject.uid=${uid}`, '-o', 'json']),
  ) as { items: { reason?: string }[] };
  return list.items.map((e) => e.reason ?? '');
}

/**
 * A Ready MySQLUser of site-a whose password the test chose (written into its
 * Secret first), so that a test needs nothing an earlier test did.
 */
async function readyUser(name: string, username: string, password: string, privileges: object[], extra: Record<string, unknown> = {}): Promise<void> {
  apply(
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${name}-password`, namespace: 'site-a' }, stringData: { password } },
    user('site-a', name, { username, privileges, ...extra }),
  );
  await waitForReady(k, 'mysqluser', 'site-a', name);
}

function database(namespace: string, name: string, spec: Record<string, unknown>): object {
  return { apiVersion: api, kind: 'MySQLDatabase', metadata: { name, namespace }, spec: { cluster, ...spec } };
}

function user(namespace: string, name: string, spec: Record<string, unknown>): object {
  return { apiVersion: api, kind: 'MySQLUser', metadata: { name, namespace }, spec: { cluster, ...spec } };
}

before(async () => {
  env = await startTestEnvironment(1);
  k = env.controlPlane;
  const first = env.mariadb[0];
  assert.ok(first);
  server = first;
  admin = await mariadb.createConnection({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword });
  for (const ns of ['db-system', 'site-a', 'site-b']) kubectl(k, ['create', 'namespace', ns]);
  apply(...externalClusterManifests(server, cluster));

  operator = await startOperator({
    kubeconfig: k.kubeconfig,
    dir: env.dir,
    args: ['--resync-interval', '2', '--max-retry-delay', '2', '--leader-elect', 'false'],
  });
});

after(async () => {
  await admin.end();
  await stopOperator(operator);
  await stopTestEnvironment(env);
});

describe('an external MySQLCluster', () => {
  it('becomes Ready with the server version', async () => {
    const c = await waitForReady<{ status: { serverVersion: string; mode: string; writerEndpoint: string } }>(k, 'mysqlcluster', 'db-system', 'shared');
    assert.match(c.status.serverVersion, /^10\.11\./);
    assert.equal(c.status.mode, 'External');
    assert.equal(c.status.writerEndpoint, `${server.host}:${server.port}`);
  });

  it('says why when its admin Secret is missing', async () => {
    apply({ apiVersion: api, kind: 'MySQLCluster', metadata: { name: 'no-secret', namespace: 'db-system' }, spec: { external: { host: '127.0.0.1', adminSecretRef: { name: 'nope' } } } });
    await waitForReady(k, 'mysqlcluster', 'db-system', 'no-secret', { status: 'False', reason: 'AdminSecretMissing' });
  });
});

describe('MySQLDatabase', () => {
  it('creates the database with its encoding and collation, and follows a change of collation', async () => {
    apply(database('site-a', 'shop', { dbName: 'shop_a', encoding: 'utf8mb4', collation: 'utf8mb4_unicode_ci' }));
    const db = await waitForReady<{ status: { dbName: string; collation: string } }>(k, 'mysqldatabase', 'site-a', 'shop');
    assert.equal(db.status.dbName, 'shop_a');
    assert.equal(db.status.collation, 'utf8mb4_unicode_ci');
    assert.ok(await databaseExists('shop_a'));

    apply(database('site-a', 'shop', { dbName: 'shop_a', encoding: 'utf8mb4', collation: 'utf8mb4_general_ci' }));
    await eventually('the collation to change', async () => {
      const rows = await admin.query<{ c: string }[]>('SELECT DEFAULT_COLLATION_NAME AS c FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', ['shop_a']);
      return rows[0]?.c === 'utf8mb4_general_ci';
    });
  });

  it('keeps the data when deleted (Retain), drops it with deletionPolicy: Delete', async () => {
    apply(database('site-a', 'kept', { dbName: 'kept_a' }), database('site-a', 'dropped', { dbName: 'dropped_a', deletionPolicy: 'Delete' }));
    await waitForReady(k, 'mysqldatabase', 'site-a', 'kept');
    await waitForReady(k, 'mysqldatabase', 'site-a', 'dropped');
    kubectl(k, ['delete', 'mysqldatabase', 'kept', 'dropped', '-n', 'site-a', '--wait=true', '--timeout=30s']);
    assert.equal(await databaseExists('kept_a'), true);
    assert.equal(await databaseExists('dropped_a'), false);
  });

  it('re-creates a database dropped by hand', async () => {
    apply(database('site-a', 'healed', { dbName: 'healed_a' }));
    await waitForReady(k, 'mysqldatabase', 'site-a', 'healed');
    await admin.query('DROP DATABASE healed_a');
    await eventually('the database to come back', () => databaseExists('healed_a'));
  });
});

describe('MySQLUser', () => {
  before(async () => {
    // The database these tests grant on; each test makes its own user.
    apply(database('site-a', 'users', { dbName: 'users_a' }));
    await waitForReady(k, 'mysqldatabase', 'site-a', 'users');
  });

  it('creates the user with its privileges and a connection Secret that works', async () => {
    apply(user('site-a', 'shop-user', { username: 'shop_user', privileges: [{ database: 'shop_a', grant: 'ALL' }] }));
    const u = await waitForReady<{ status: { connectionSecret: string } }>(k, 'mysqluser', 'site-a', 'shop-user');
    assert.equal(u.status.connectionSecret, 'shop-user-connection');
    const c = secretData('site-a', 'shop-user-connection');
    assert.equal(c.username, 'shop_user');
    assert.equal(c.database, 'shop_a');
    assert.equal(c.host, server.host);
    assert.equal(c.port, String(server.port));
    const password = c.password ?? '';
    assert.ok(password.length >= 24, 'a strong generated password');
    assert.equal(c.uri, `mysql://shop_user:${encodeURIComponent(password)}@${server.host}:${server.port}/shop_a`);
    assert.equal(secretData('site-a', 'shop-user-password').password, c.password);

    const conn = await connectAs(c.username, password, c.database);
    try {
      await conn.query('CREATE TABLE t (x INT)');
      await conn.query('INSERT INTO t VALUES (1)');
    } finally {
      await conn.end();
    }
  });

  it('follows a password changed in its Secret within seconds', async () => {
    await readyUser('pw-user', 'pw_user', 'first-password-123', [{ database: 'users_a', grant: 'SELECT' }]);
    kubectl(k, ['patch', 'secret', 'pw-user-password', '-n', 'site-a', '--type=merge', '-p', JSON.stringify({ stringData: { password: 'a-new-password-123' } })]);
    const started = Date.now();
    await eventually('the new password to work', async () => {
      const conn = await connectAs('pw_user', 'a-new-password-123');
      await conn.end();
      return true;
    });
    assert.ok(Date.now() - started < 10_000);
    await eventually('the connection Secret to follow', () => Promise.resolve(secretData('site-a', 'pw-user-connection').password === 'a-new-password-123'));
  });

  it('revokes what is no longer declared', async () => {
    await readyUser('revoked-user', 'revoked_user', 'revoked-password-123', [{ database: 'users_a', grant: 'ALL' }]);
    const conn = await connectAs('revoked_user', 'revoked-password-123', 'users_a');
    try {
      await conn.query('CREATE TABLE revoked (x INT)');
      await conn.query('INSERT INTO revoked VALUES (1)');
    } finally {
      await conn.end();
    }
    apply(user('site-a', 'revoked-user', { username: 'revoked_user', privileges: [{ database: 'users_a', grants: ['SELECT'] }] }));
    await eventually('INSERT to be revoked', async () => {
      const again = await connectAs('revoked_user', 'revoked-password-123', 'users_a');
      try {
        await again.query('SELECT * FROM revoked');
        await again.query('INSERT INTO revoked VALUES (2)');
        return false;
      } catch (error) {
        return /INSERT command denied/.test(String(error));
      } finally {
        await again.end();
      }
    });
  });

  it('repairs drift: a dropped user comes back, a grant added by hand goes', async () => {
    await readyUser('drift-user', 'drift_user', 'drift-password-123', [{ database: 'users_a', grant: 'SELECT' }]);
    await admin.query("GRANT SELECT ON mysql.* TO 'drift_user'@'%'");
    await eventually('the hand-made grant to be revoked', async () => {
      const rows = await admin.query<unknown[]>("SELECT 1 FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = \"'drift_user'@'%'\" AND TABLE_SCHEMA = 'mysql'");
      return rows.length === 0;
    });
    await admin.query("DROP USER 'drift_user'@'%'");
    await eventually('the user to come back', async () => {
      const conn = await connectAs('drift_user', 'drift-password-123', 'users_a');
      await conn.query('SELECT 1');
      await conn.end();
      return true;
    });
  });

  it('a MySQLUser restored from a backup (same name, new uid) takes its account back and says so', async () => {
    const spec = { username: 'restored_user', deletionPolicy: 'Retain', privileges: [{ database: 'users_a', grant: 'SELECT' }] };
    await readyUser('restored-user', 'restored_user', 'restored-password-123', spec.privileges, { deletionPolicy: 'Retain' });
    const firstUid = kubectl(k, ['get', 'mysqluser', 'restored-user', '-n', 'site-a', '-o', 'jsonpath={.metadata.uid}']);
    // Deleted with Retain: the account and its ownership record stay, as on a server a backup is restored next to.
    kubectl(k, ['delete', 'mysqluser', 'restored-user', '-n', 'site-a', '--wait=true', '--timeout=30s']);
    // The connection Secret as Velero restores it: without ownerReferences (it strips them, since the uids change).
    kubectl(k, ['patch', 'secret', 'restored-user-connection', '-n', 'site-a', '--type=json', '-p', '[{"op":"remove","path":"/metadata/ownerReferences"}]']);
    assert.equal(await accountExists('restored_user'), true);
    apply(user('site-a', 'restored-user', spec));
    await waitForReady(k, 'mysqluser', 'site-a', 'restored-user');
    const newUid = kubectl(k, ['get', 'mysqluser', 'restored-user', '-n', 'site-a', '-o', 'jsonpath={.metadata.uid}']);
    assert.notEqual(newUid, firstUid);
    await eventually('the Restored event', () => Promise.resolve(eventReasons('site-a', newUid).includes('Restored')), 10_000);
    const owner = await admin.query<{ uid: string }[]>("SELECT uid FROM flightdeck_meta.owners WHERE kind = 'user' AND `key` = 'restored_user@%'");
    assert.deepEqual(owner.map((o) => o.uid), [newUid], 'the ownership record moved to the restored object');
    assert.ok(!eventReasons('site-a', newUid).includes('Created'), 'nothing was created again');
    const connectionOwner = kubectl(k, ['get', 'secret', 'restored-user-connection', '-n', 'site-a', '-o', 'jsonpath={.metadata.ownerReferences[0].uid}']);
    assert.equal(connectionOwner, newUid, 'the restored connection Secret is taken back, not refused');
    const conn = await connectAs('restored_user', 'restored-password-123', 'users_a');
    await conn.end();
  });

  it('drops the user for state: absent and keeps the object', async () => {
    apply(user('site-a', 'gone', { username: 'gone_user', privileges: [{ database: 'shop_a', grant: 'SELECT' }] }));
    await waitForReady(k, 'mysqluser', 'site-a', 'gone');
    assert.equal(await accountExists('gone_user'), true);
    apply(user('site-a', 'gone', { username: 'gone_user', state: 'absent', privileges: [{ database: 'shop_a', grant: 'SELECT' }] }));
    await waitForReady(k, 'mysqluser', 'site-a', 'gone', { reason: 'Absent' });
    assert.equal(await accountExists('gone_user'), false);
  });

  it("drops the user when the object is deleted (deletionPolicy's default)", async () => {
    apply(user('site-a', 'temp', { username: 'temp_user', privileges: [{ database: 'shop_a', grant: 'SELECT' }] }));
    await waitForReady(k, 'mysqluser', 'site-a', 'temp');
    kubectl(k, ['delete', 'mysqluser', 'temp', '-n', 'site-a', '--wait=true', '--timeout=30s']);
    assert.equal(await accountExists('temp_user'), false);
  });

  it("accepts the original operator's passwordSecret and generates the password under db-pass.txt", async () => {
    apply(user('site-a', 'legacy-user', { passwordSecret: 'legacy-user-password', privileges: [{ database: 'shop_a', table: '*', grants: ['SELECT'] }] }));
    await waitForReady(k, 'mysqluser', 'site-a', 'legacy-user');
    const password = secretData('site-a', 'legacy-user-password')['db-pass.txt'];
    assert.ok(password !== undefined && password.length >= 24);
    const conn = await connectAs('legacy_user', password, 'shop_a');
    await conn.end();
  });
});

describe('tenants on one cluster', () => {
  it('a second object claiming the same database name gets Conflict and changes nothing', async () => {
    apply(database('site-b', 'steal', { dbName: 'shop_a', deletionPolicy: 'Delete' }));
    const db = await waitForReady<{ status: { conditions: { message: string }[] } }>(k, 'mysqldatabase', 'site-b', 'steal', { status: 'False', reason: 'Conflict' });
    assert.doesNotMatch(JSON.stringify(db.status), /site-a/, "another tenant's object names are not told");
    kubectl(k, ['delete', 'mysqldatabase', 'steal', '-n', 'site-b', '--wait=true', '--timeout=30s']);
    assert.equal(await databaseExists('shop_a'), true, 'deleting the conflicting object must not drop the owner’s database');
  });

  it("a tenant's user cannot be granted another tenant's database, all databases, or admin privileges", async () => {
    apply(
      user('site-b', 'thief', { username: 'thief', privileges: [{ database: 'shop_a', grant: 'ALL' }] }),
      user('site-b', 'everything', { username: 'everything', privileges: [{ database: '*', grant: 'SELECT' }] }),
      user('site-b', 'admin', { username: 'wannabe', privileges: [{ database: 'shop_b', grants: ['SELECT', 'FILE'] }] }),
    );
    await waitForReady(k, 'mysqluser', 'site-b', 'thief', { status: 'False', reason: 'PrivilegesRefused' });
    await waitForReady(k, 'mysqluser', 'site-b', 'everything', { status: 'False', reason: 'PrivilegesRefused' });
    await waitForReady(k, 'mysqluser', 'site-b', 'admin', { status: 'False', reason: 'PrivilegesRefused' });
    for (const name of ['thief', 'everything', 'wannabe']) assert.equal(await accountExists(name), false, `${name} must not be created`);
  });

  it("a tenant's own user reaches its own database and not the other's", async () => {
    apply(database('site-b', 'blog', { dbName: 'blog_b' }), user('site-b', 'blog-user', { username: 'blog_user', privileges: [{ database: 'blog_b', grant: 'ALL' }] }));
    await waitForReady(k, 'mysqluser', 'site-b', 'blog-user');
    const c = secretData('site-b', 'blog-user-connection');
    const conn = await connectAs(c.username ?? '', c.password ?? '');
    try {
      await conn.query('CREATE TABLE blog_b.posts (id INT)');
      await assert.rejects(conn.query('SELECT * FROM shop_a.t'), /denied/);
      const visible = await conn.query<{ Database: string }[]>('SHOW DATABASES');
      assert.deepEqual(visible.map((r) => r.Database).filter((d) => d !== 'information_schema').sort(), ['blog_b']);
    } finally {
      await conn.end();
    }
  });

  it('a second object for the same user@host gets Conflict', async () => {
    apply(user('site-b', 'impostor', { username: 'shop_user', privileges: [{ database: 'blog_b', grant: 'SELECT' }] }));
    await waitForReady(k, 'mysqluser', 'site-b', 'impostor', { status: 'False', reason: 'Conflict' });
    const rows = await admin.query<unknown[]>("SELECT 1 FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = \"'shop_user'@'%'\" AND TABLE_SCHEMA = 'blog_b'");
    assert.equal(rows.length, 0);
  });

  it('a cluster that admits only its own namespace refuses others before any SQL', async () => {
    apply({
      apiVersion: api,
      kind: 'MySQLCluster',
      metadata: { name: 'private', namespace: 'db-system' },
      spec: { external: { host: server.host, port: server.port, adminSecretRef: { name: 'mariadb-admin' } } },
    });
    apply({ apiVersion: api, kind: 'MySQLDatabase', metadata: { name: 'sneaky', namespace: 'site-a' }, spec: { cluster: { name: 'private', namespace: 'db-system' }, dbName: 'sneaky_a' } });
    await waitForReady(k, 'mysqldatabase', 'site-a', 'sneaky', { status: 'False', reason: 'NamespaceNotAllowed' });
    assert.equal(await databaseExists('sneaky_a'), false);
  });

  it('only the cluster namespace may adopt a database that exists and that no object owns', async () => {
    await admin.query('CREATE DATABASE legacy_x');
    await admin.query('CREATE TABLE legacy_x.t (x INT)');
    await admin.query('INSERT INTO legacy_x.t VALUES (42)');
    apply(database('site-a', 'grab', { dbName: 'legacy_x' }));
    await waitForReady(k, 'mysqldatabase', 'site-a', 'grab', { status: 'False', reason: 'AdoptionNotAllowed' });
    kubectl(k, ['delete', 'mysqldatabase', 'grab', '-n', 'site-a']);
    apply(database('db-system', 'legacy', { dbName: 'legacy_x' }));
    await waitForReady(k, 'mysqldatabase', 'db-system', 'legacy');
    const rows = await admin.query<{ x: number }[]>('SELECT x FROM legacy_x.t');
    assert.deepEqual(rows.map((r) => r.x), [42]);
  });
});

describe('at rest', () => {
  it('sends no SQL writes when nothing drifted', async () => {
    // Let everything settle, then watch several resync intervals (2 s each).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const before = await sqlWrites(operator);
    assert.ok(before > 0, 'the counter counts the writes made so far');
    await new Promise((resolve) => setTimeout(resolve, 7000));
    assert.equal(await sqlWrites(operator), before);
  });

  it('kubectl describe shows what the operator did', () => {
    assert.match(kubectlResult(k, ['describe', 'mysqluser', 'shop-user', '-n', 'site-a']).stdout, /Created\s+.*created user shop_user@%/);
    assert.match(kubectlResult(k, ['describe', 'mysqluser', 'revoked-user', '-n', 'site-a']).stdout, /PrivilegesChanged\s+.*revoked /);
  });
});
