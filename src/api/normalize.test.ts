import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterIntent, databaseIntent, InvalidSpecError, userIntent } from './normalize.ts';
import type { MySQLCluster } from './mysqlcluster.ts';
import type { MySQLDatabase } from './mysqldatabase.ts';
import type { MySQLUser } from './mysqluser.ts';

const meta = (name: string, namespace = 'site-a') => ({ name, namespace });

function cluster(spec: MySQLCluster['spec'], name = 'db'): MySQLCluster {
  return { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: meta(name), spec };
}
function database(spec: Partial<MySQLDatabase['spec']>, name = 'my-database'): MySQLDatabase {
  return { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLDatabase', metadata: meta(name), spec: { cluster: { name: 'db' }, ...spec } };
}
function user(spec: Partial<MySQLUser['spec']>, name = 'my-user'): MySQLUser {
  return { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLUser', metadata: meta(name), spec: { cluster: { name: 'db' }, ...spec } };
}

describe('clusterIntent', () => {
  it('reads the original operator form: replicas count the writer, persistence holds the storage', () => {
    const intent = clusterIntent(
      cluster({ replicas: 3, persistence: { size: '10Gi', storageClass: 'rook-cephfs', accessModes: ['ReadWriteOnce'] }, service: { name: 'fdo-mysqlcluster', port: 3306 } }),
    );
    assert.deepEqual(intent.managed, {
      readers: 2,
      storageSize: '10Gi',
      storageClassName: 'rook-cephfs',
      accessModes: ['ReadWriteOnce'],
      serviceName: 'fdo-mysqlcluster',
      servicePort: 3306,
    });
  });

  it('reads the canonical form the same way', () => {
    const intent = clusterIntent(cluster({ readerCount: 2, size: '20Gi' }));
    const managed = intent.managed;
    assert.ok(managed);
    assert.equal(managed.readers, 2);
    assert.equal(managed.storageSize, '20Gi');
    assert.equal(managed.serviceName, 'db');
  });

  it('defaults tenancy to the same namespace and no adoption from others', () => {
    const intent = clusterIntent(cluster({ external: { host: 'h', adminSecretRef: { name: 's' } } }));
    assert.deepEqual(intent.tenancy, { from: 'Same', adoptFrom: [] });
    assert.equal(intent.external?.port, 3306);
    assert.equal(intent.managed, undefined);
  });
});

describe('databaseIntent', () => {
  it('derives dbName from metadata.name and the cluster namespace from the object', () => {
    const intent = databaseIntent(database({}, 'site-two'));
    assert.equal(intent.dbName, 'site_two');
    assert.deepEqual(intent.cluster, { namespace: 'site-a', name: 'db' });
    assert.equal(intent.charset, 'utf8mb4');
    assert.equal(intent.collation, 'utf8mb4_unicode_ci');
    assert.equal(intent.deletionPolicy, 'Retain');
  });

  it('takes the character set from a lone collation and leaves the collation to the server for a lone charset', () => {
    assert.equal(databaseIntent(database({ collation: 'latin1_swedish_ci' })).charset, 'latin1');
    assert.equal(databaseIntent(database({ encoding: 'latin1' })).collation, undefined);
  });

  it('refuses names that are not valid or reserved', () => {
    assert.throws(() => databaseIntent(database({ dbName: 'a`b' })), InvalidSpecError);
    assert.throws(() => databaseIntent(database({ dbName: 'flightdeck_meta' })), /reserved/);
    assert.throws(() => databaseIntent(database({}, 'web.site')), /metadata.name "web.site" is not a valid database name/);
  });
});

describe('userIntent', () => {
  it('reads the problem statement form', () => {
    const intent = userIntent(user({ username: 'my_user', host: '%', state: 'present', privileges: [{ database: 'my_database', table: '*', grant: 'ALL' }] }));
    assert.deepEqual(intent.privileges, [{ database: 'my_database', table: '*', privileges: ['ALL PRIVILEGES'], withGrantOption: false }]);
    assert.deepEqual(intent.passwordSecret, { name: 'my-user-password', key: 'password' });
    assert.equal(intent.connectionSecretName, 'my-user-connection');
    assert.equal(intent.deletionPolicy, 'Delete');
  });

  it("reads the original operator's passwordSecret and grants list", () => {
    const intent = userIntent(user({ passwordSecret: 'my-user-password', privileges: [{ database: 'my_database', grants: ['select', 'insert'] }] }, 'site-user'));
    assert.equal(intent.username, 'site_user');
    assert.equal(intent.host, '%');
    assert.deepEqual(intent.passwordSecret, { name: 'my-user-password', key: 'db-pass.txt' });
    assert.deepEqual(intent.privileges[0]?.privileges, ['INSERT', 'SELECT']);
  });

  it('gives USAGE only when neither grant nor grants is set, and merges entries for one database', () => {
    assert.deepEqual(userIntent(user({ privileges: [{ database: 'a' }] })).privileges[0]?.privileges, []);
    const merged = userIntent(user({ privileges: [{ database: 'a', grant: 'SELECT' }, { database: 'a', table: '*', grants: ['UPDATE'], withGrantOption: true }] }));
    assert.deepEqual(merged.privileges, [{ database: 'a', table: '*', privileges: ['SELECT', 'UPDATE'], withGrantOption: true }]);
  });

  it('refuses unknown privileges and tables on "*"', () => {
    assert.throws(() => userIntent(user({ privileges: [{ database: 'a', grant: 'ALL ON *.* TO x' }] })), /unknown privilege/);
    assert.throws(() => userIntent(user({ privileges: [{ database: '*', table: 't', grant: 'SELECT' }] })), /a table needs a database/);
  });
});
