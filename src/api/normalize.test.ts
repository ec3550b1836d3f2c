import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterIntent, databaseIntent, InvalidSpecError, userIntent } from './normalize.ts';
import { defaultMariadbImage, type MySQLCluster } from './mysqlcluster.ts';
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
    const managed = intent.managed;
    assert.ok(managed);
    assert.equal(managed.readers, 2);
    assert.equal(managed.instances, 3);
    assert.equal(managed.storageSize, '10Gi');
    assert.equal(managed.storageClassName, 'rook-cephfs');
    assert.deepEqual(managed.accessModes, ['ReadWriteOnce']);
    assert.equal(managed.serviceName, 'fdo-mysqlcluster');
    assert.equal(managed.servicePort, 3306);
  });

  it("the original operator's replicas + persistence and the seed's readerCount + size give the same intent", () => {
    const original = clusterIntent(cluster({ replicas: 3, persistence: { enabled: true, size: '20Gi', storageClass: 'fast', accessModes: ['ReadWriteOnce'] } }));
    const seed = clusterIntent(cluster({ readerCount: 2, size: '20Gi', storageClassName: 'fast' }));
    assert.deepEqual(original, seed);
  });

  it('fills in every default of a bare managed cluster', () => {
    assert.deepEqual(clusterIntent(cluster({})).managed, {
      readers: 1,
      instances: 2,
      storageSize: '10Gi',
      accessModes: ['ReadWriteOnce'],
      image: defaultMariadbImage,
      scheduling: { tolerations: [] },
      podAnnotations: {},
      podLabels: {},
      myCnf: '',
      replication: {
        mode: 'SemiSync',
        allowAsyncFallback: false,
        semiSyncTimeoutSeconds: 10,
        autoFailover: true,
        failoverAfterSeconds: 3,
        maxReaderLagSeconds: 10,
      },
      serviceName: 'db',
      servicePort: 3306,
    });
  });

  it('passes scheduling, resources, image, configuration and the desired primary through', () => {
    const toleration = { key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' };
    const managed = clusterIntent(
      cluster({
        readerCount: 0,
        size: 1073741824,
        image: 'mariadb:10.11',
        imagePullPolicy: 'IfNotPresent',
        resources: { requests: { cpu: '500m' } },
        nodeSelector: { disk: 'ssd' },
        tolerations: [toleration],
        priorityClassName: 'databases',
        podLabels: { team: 'web' },
        myCnf: 'max_connections = 500',
        replication: { mode: 'Async', failoverAfterSeconds: 10 },
        primary: 0,
      }),
    ).managed;
    assert.ok(managed);
    assert.equal(managed.instances, 1);
    assert.equal(managed.storageSize, '1073741824');
    assert.equal(managed.image, 'mariadb:10.11');
    assert.equal(managed.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(managed.resources, { requests: { cpu: '500m' } });
    assert.deepEqual(managed.scheduling, { nodeSelector: { disk: 'ssd' }, tolerations: [toleration], priorityClassName: 'databases' });
    assert.deepEqual(managed.podLabels, { team: 'web' });
    assert.equal(managed.myCnf, 'max_connections = 500');
    assert.equal(managed.replication.mode, 'Async');
    assert.equal(managed.replication.failoverAfterSeconds, 10);
    assert.equal(managed.replication.autoFailover, true);
    assert.equal(managed.desiredPrimaryIndex, 0);
  });

  it('refuses names Kubernetes would refuse for the Services and pods it creates', () => {
    assert.throws(() => clusterIntent(cluster({}, 'a'.repeat(53))), /at most 52 characters/);
    assert.throws(() => clusterIntent(cluster({}, '1db')), /must start with a letter/);
    assert.throws(() => clusterIntent(cluster({ service: { name: 'db-readers' } })), /name of another Service of this cluster/);
    assert.throws(() => clusterIntent(cluster({ podLabels: { 'flightdeck.t7.io/role': 'writer' } })), /set by the operator/);
    // External clusters create no pods: their names are not restricted.
    assert.equal(clusterIntent(cluster({ external: { host: 'h', adminSecretRef: { name: 's' } } }, '1db')).external?.host, 'h');
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

  it("refuses the operator's own account names, however they are spelt in", () => {
    assert.throws(() => userIntent(user({ username: 'flightdeck_operator' })), /reserved for the operator/);
    assert.throws(() => userIntent(user({}, 'flightdeck-replication')), /reserved for the operator/);
    assert.throws(() => userIntent(user({ username: 'flightdeck_manager' })), /reserved for the operator/);
  });

  it('refuses unknown privileges and tables on "*"', () => {
    assert.throws(() => userIntent(user({ privileges: [{ database: 'a', grant: 'ALL ON *.* TO x' }] })), /unknown privilege/);
    assert.throws(() => userIntent(user({ privileges: [{ database: '*', table: 't', grant: 'SELECT' }] })), /a table needs a database/);
  });
});
