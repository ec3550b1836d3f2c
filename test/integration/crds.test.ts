// The generated CRDs on a real kube-apiserver: the manifests users have are
// accepted unchanged, and mistakes are refused at apply time with a message
// that says what to fix.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { operationFromStatus } from '../../src/replication/operation-record.ts';
import { kubectl, kubectlResult, type KubectlTarget } from '../env/kubectl.ts';
import { repoRoot } from '../env/paths.ts';
import { testEnvironment } from '../env/shared.ts';

const fixtures = join(repoRoot, 'test/fixtures/shared-examples');
const sharedExamples = join(repoRoot, '../shared/examples');

// At the top level, so that an environment of this file's own lives as long as the file.
const k: KubectlTarget = (await testEnvironment()).controlPlane;

let counter = 0;
/** A fresh namespace per test, so tests do not see each other's objects. */
function namespace(prefix: string): string {
  const name = `${prefix}-${process.pid}-${++counter}`;
  kubectl(k, ['create', 'namespace', name]);
  return name;
}

function apply(manifest: object): ReturnType<typeof kubectlResult> {
  return kubectlResult(k, ['apply', '-f', '-'], stringify(manifest));
}

const cluster = { name: 'db' };

describe('the shared example manifests', () => {
  it('the fixtures are the shared examples, unchanged', (t) => {
    if (!existsSync(sharedExamples)) {
      t.skip('../shared/examples is not beside this checkout');
      return;
    }
    for (const file of readdirSync(sharedExamples)) {
      assert.equal(readFileSync(join(fixtures, file), 'utf8'), readFileSync(join(sharedExamples, file), 'utf8'), file);
    }
  });

  it('the problem statement objects apply and keep their values', () => {
    kubectl(k, ['create', 'namespace', 'my-db-namespace']);
    const out = kubectl(k, ['apply', '-f', join(fixtures, 'seed-article.yaml')]);
    assert.match(out, /mysqlcluster.flightdeck.t7.io\/mysqlcluster-sample created/);
    const user = JSON.parse(kubectl(k, ['get', 'mysqluser', 'my-user', '-n', 'default', '-o', 'json'])) as {
      spec: { username: string; host: string; state: string; privileges: { database: string; table: string; grant: string }[] };
    };
    assert.equal(user.spec.username, 'my_user');
    assert.equal(user.spec.state, 'present');
    assert.deepEqual(user.spec.privileges[0], { database: 'my_database', table: '*', grant: 'ALL', withGrantOption: false });
    const db = JSON.parse(kubectl(k, ['get', 'mysqlcluster', 'mysqlcluster-sample', '-n', 'my-db-namespace', '-o', 'json'])) as {
      spec: { size: string; readerCount: number };
    };
    assert.deepEqual(db.spec, { size: '20Gi', readerCount: 2 });
    kubectl(k, ['delete', '-f', join(fixtures, 'seed-article.yaml'), '--wait']);
  });

  it("the original operator's objects apply unchanged, defaults filled in", () => {
    const out = kubectl(k, ['apply', '-f', join(fixtures, 'original-operator.yaml')]);
    assert.match(out, /mysqldatabase.flightdeck.t7.io\/site-two created/);
    const site = JSON.parse(kubectl(k, ['get', 'mysqldatabase', 'site-two', '-o', 'json'])) as {
      spec: Record<string, unknown>;
    };
    assert.deepEqual(site.spec, { cluster: { name: 'fdo' }, deletionPolicy: 'Retain' });
    const user = JSON.parse(kubectl(k, ['get', 'mysqluser', 'my-user', '-o', 'json'])) as { spec: Record<string, unknown> };
    assert.equal(user.spec.passwordSecret, 'my-user-password');
    assert.deepEqual(user.spec.privileges, [{ database: 'my_database', table: '*', grants: ['ALL'], withGrantOption: false }]);
    const fdo = JSON.parse(kubectl(k, ['get', 'mysqlcluster', 'fdo', '-o', 'json'])) as { spec: Record<string, unknown> };
    assert.equal(fdo.spec.replicas, 3);
    assert.deepEqual(fdo.spec.service, { name: 'fdo-mysqlcluster', port: 3306 });
    kubectl(k, ['delete', '-f', join(fixtures, 'original-operator.yaml'), '--wait']);
  });
});

describe('kubectl shows the API to users', () => {
  it('explain documents the fields', () => {
    const out = kubectl(k, ['explain', 'mysqluser.spec.privileges.grants']);
    assert.match(out, /Several privileges\. Use either grant or grants\./);
  });

  it('the flightdeck category and short names list the objects with their columns', () => {
    const ns = namespace('columns');
    assert.equal(apply({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLDatabase', metadata: { name: 'shop', namespace: ns }, spec: { cluster } }).status, 0);
    const out = kubectl(k, ['get', 'flightdeck', '-n', ns]);
    assert.match(out, /mysqldatabase\.flightdeck\.t7\.io\/shop/);
    assert.match(kubectl(k, ['get', 'mydb', '-n', ns]), /NAME\s+DATABASE\s+CLUSTER\s+READY\s+REASON\s+AGE/);
  });
});

const s3 = { endpoint: 'http://store.example:8333', bucket: 'backups', credentialsSecret: { name: 's3' } };
const backupOf = (ns: string, spec: object, name = 'nightly') => ({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLBackup', metadata: { name, namespace: ns }, spec: { cluster, target: { s3 }, ...spec } });
const restoreOf = (ns: string, spec: object) => ({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLRestore', metadata: { name: 'back', namespace: ns }, spec: { cluster, source: { backup: { name: 'nightly' } }, ...spec } });

/** MySQLBackup and MySQLRestore mistakes, refused by their CEL rules and schemas. */
function backupCases(): { what: string; manifest: (ns: string) => object; message: RegExp }[] {
  const badSchedule = /schedule must be a 5-field cron expression/;
  return [
    { what: 'a backup to both s3 and a pvc', manifest: (ns) => backupOf(ns, { target: { s3, pvc: { claimName: 'b' } } }), message: /set exactly one of target.s3 or target.pvc/ },
    { what: 'a backup without a target', manifest: (ns) => backupOf(ns, { target: {} }), message: /set exactly one of target.s3 or target.pvc/ },
    { what: 'a schedule of six fields', manifest: (ns) => backupOf(ns, { schedule: '0 0 3 * * *' }), message: badSchedule },
    { what: 'a schedule with minute 60', manifest: (ns) => backupOf(ns, { schedule: '60 3 * * *' }), message: badSchedule },
    { what: 'a schedule with an unknown month name', manifest: (ns) => backupOf(ns, { schedule: '0 3 * foo *' }), message: badSchedule },
    { what: 'a schedule macro', manifest: (ns) => backupOf(ns, { schedule: '@daily' }), message: /schedule/ },
    { what: 'a physical backup of named databases', manifest: (ns) => backupOf(ns, { method: 'physical', databases: ['shop'] }), message: /a physical backup copies the whole cluster/ },
    { what: 'a negative retention count', manifest: (ns) => backupOf(ns, { retention: { daily: -1 } }), message: /retention.daily: Invalid value: -1: spec.retention.daily in body should be greater than or equal to 0/ },
    { what: 'a retention age without a unit', manifest: (ns) => backupOf(ns, { retention: { maxAge: '30' } }), message: /spec.retention.maxAge in body should match/ },
    { what: 'an unknown compression', manifest: (ns) => backupOf(ns, { compression: 'bzip2' }), message: /spec.compression: Unsupported value: "bzip2"/ },
    { what: 'a prefix that climbs out', manifest: (ns) => backupOf(ns, { target: { s3: { ...s3, prefix: 'sites/../other' } } }), message: /a path may not hold "." or ".." segments/ },
    { what: 'a system database in a backup', manifest: (ns) => backupOf(ns, { databases: ['mysql'] }), message: /a system database of MariaDB cannot be named here/ },
    { what: 'a backup name too long to label its Jobs', manifest: (ns) => backupOf(ns, {}, 'b'.repeat(64)), message: /at most 63 characters: it labels its Jobs/ },
    { what: 'a restore from both a backup and a target', manifest: (ns) => restoreOf(ns, { source: { backup: { name: 'nightly' }, target: { s3 }, path: 'a/b/20261202T030000Z' } }), message: /set exactly one of source.backup or source.target/ },
    { what: 'a restore from a target without a path', manifest: (ns) => restoreOf(ns, { source: { target: { s3 } } }), message: /source.target and source.path go together/ },
    { what: 'a restore of two databases into one', manifest: (ns) => restoreOf(ns, { databases: [{ from: 'a', to: 'c' }, { from: 'c' }] }), message: /two databases would be restored into the same name/ },
  ];
}

/** Each case: a manifest a user might write, and what the API server must answer. */
const rejected: { what: string; manifest: (ns: string) => object; message: RegExp }[] = [
  {
    what: 'an external cluster with managed-server fields',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLCluster',
      metadata: { name: 'mixed', namespace: ns },
      spec: { external: { host: 'db.example', adminSecretRef: { name: 'admin' } }, readerCount: 2 },
    }),
    message: /spec.external cannot be combined with fields for a managed server/,
  },
  {
    what: 'replicas and readerCount that disagree',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLCluster',
      metadata: { name: 'disagree', namespace: ns },
      spec: { replicas: 3, readerCount: 1 },
    }),
    message: /replicas \(writer \+ readers\) and readerCount disagree/,
  },
  {
    what: 'a primary index beyond the instances',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLCluster',
      metadata: { name: 'primary', namespace: ns },
      spec: { readerCount: 1, primary: 2 },
    }),
    message: /primary must be the index of an existing instance/,
  },
  {
    what: 'allowedNamespaces Selector without a selector',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLCluster',
      metadata: { name: 'tenancy', namespace: ns },
      spec: { allowedNamespaces: { from: 'Selector' } },
    }),
    message: /selector is required with from: Selector/,
  },
  {
    what: 'a database name that would break out of its quotes',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLDatabase',
      metadata: { name: 'hostile', namespace: ns },
      spec: { cluster, dbName: 'x`; DROP DATABASE mysql; --' },
    }),
    message: /spec.dbName: Invalid value: "x`; DROP DATABASE mysql; --": spec.dbName in body should match/,
  },
  {
    what: 'a system database',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLDatabase',
      metadata: { name: 'sys', namespace: ns },
      spec: { cluster, dbName: 'mysql' },
    }),
    message: /dbName names a system database of MariaDB/,
  },
  {
    what: 'a name that defaults to a system database',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLDatabase',
      metadata: { name: 'performance-schema', namespace: ns },
      spec: { cluster },
    }),
    message: /metadata.name would name a system database of MariaDB; set spec.dbName/,
  },
  {
    what: 'a name too long to serve as the database name',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLDatabase',
      metadata: { name: 'a'.repeat(65), namespace: ns },
      spec: { cluster },
    }),
    message: /metadata.name cannot serve as the database name/,
  },
  {
    what: 'a collation of another character set',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLDatabase',
      metadata: { name: 'mismatch', namespace: ns },
      spec: { cluster, encoding: 'latin1', collation: 'utf8mb4_unicode_ci' },
    }),
    message: /collation must belong to the encoding/,
  },
  {
    what: 'grant and grants together',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLUser',
      metadata: { name: 'both', namespace: ns },
      spec: { cluster, privileges: [{ database: 'shop', grant: 'ALL', grants: ['SELECT'] }] },
    }),
    message: /use either grant or grants, not both/,
  },
  {
    what: 'an unknown privilege',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLUser',
      metadata: { name: 'unknown', namespace: ns },
      spec: { cluster, privileges: [{ database: 'shop', grants: ['SELECT', 'ALL ON *.* TO evil'] }] },
    }),
    message: /unknown privilege; use a MariaDB privilege name/,
  },
  {
    what: 'a user name with a quote',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLUser',
      metadata: { name: 'quote', namespace: ns },
      spec: { cluster, username: "x'@'%" },
    }),
    message: /spec.username in body should match/,
  },
  {
    what: 'both password forms',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLUser',
      metadata: { name: 'passwords', namespace: ns },
      spec: { cluster, passwordSecret: 'a', passwordSecretRef: { name: 'b' } },
    }),
    message: /use either passwordSecretRef or passwordSecret, not both/,
  },
  ...backupCases(),
  {
    what: 'an unknown field',
    manifest: (ns) => ({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLDatabase',
      metadata: { name: 'typo', namespace: ns },
      spec: { cluster, dbname: 'typo' },
    }),
    message: /unknown field "spec.dbname"/,
  },
];

describe('invalid objects are refused at apply time', () => {
  for (const c of rejected) {
    it(`refuses ${c.what}`, () => {
      const ns = namespace('invalid');
      const result = apply(c.manifest(ns));
      assert.notEqual(result.status, 0, `accepted: ${result.stdout}`);
      assert.match(result.stderr, c.message);
    });
  }
});

describe('managed cluster storage can grow but not shrink', () => {
  const clusterOf = (ns: string, spec: object) => ({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: 'db', namespace: ns }, spec });

  it('accepts a larger size and refuses a smaller one, in either form and across forms', () => {
    const ns = namespace('storage');
    assert.equal(apply(clusterOf(ns, { readerCount: 1, size: '20Gi' })).status, 0);
    const grown = apply(clusterOf(ns, { readerCount: 1, size: '21474836481' }));
    assert.equal(grown.status, 0, grown.stderr);
    const shrunk = apply(clusterOf(ns, { readerCount: 1, size: '10Gi' }));
    assert.notEqual(shrunk.status, 0, 'a smaller size was accepted');
    assert.match(shrunk.stderr, /storage cannot shrink/);
    // Dropping size falls back to the 10Gi default: also a shrink.
    assert.match(apply(clusterOf(ns, { readerCount: 1 })).stderr, /storage cannot shrink/);
    // The original operator's form counts the same.
    assert.match(apply(clusterOf(ns, { replicas: 2, persistence: { size: '1Gi' } })).stderr, /storage cannot shrink/);
    assert.equal(apply(clusterOf(ns, { replicas: 2, persistence: { size: '30Gi' } })).status, 0);
    // readerCount may go down.
    assert.equal(apply(clusterOf(ns, { replicas: 1, persistence: { size: '30Gi' } })).status, 0);
  });
});

describe('managed cluster names and new fields', () => {
  it('refuses a managed cluster whose name cannot name its pods and Services, and accepts an external one', () => {
    const ns = namespace('names');
    const long = 'a'.repeat(53);
    const refused = apply({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: long, namespace: ns }, spec: { readerCount: 1 } });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /at most 52 characters/);
    const external = apply({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLCluster',
      metadata: { name: long, namespace: ns },
      spec: { external: { host: 'db.example', adminSecretRef: { name: 'admin' } } },
    });
    assert.equal(external.status, 0, external.stderr);
  });

  it('fills in the replication defaults and refuses scheduling fields on an external cluster', () => {
    const ns = namespace('replication');
    assert.equal(apply({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: 'db', namespace: ns }, spec: { replication: {} } }).status, 0);
    const stored = JSON.parse(kubectl(k, ['get', 'mysqlcluster', 'db', '-n', ns, '-o', 'json'])) as { spec: { replication: Record<string, unknown> } };
    assert.deepEqual(stored.spec.replication, {
      mode: 'SemiSync',
      allowAsyncFallback: false,
      semiSyncTimeoutSeconds: 10,
      autoFailover: true,
      failoverAfterSeconds: 3,
      maxReaderLagSeconds: 10,
    });
    const mixed = apply({
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLCluster',
      metadata: { name: 'ext', namespace: ns },
      spec: { external: { host: 'db.example', adminSecretRef: { name: 'admin' } }, priorityClassName: 'high' },
    });
    assert.match(mixed.stderr, /spec.external cannot be combined with fields for a managed server/);
  });

  it('keeps the status of an operation in progress, the last switchover and per-instance problems as written', () => {
    const ns = namespace('opstatus');
    assert.equal(apply({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: 'db', namespace: ns }, spec: { readerCount: 1 } }).status, 0);
    const status = {
      currentPrimary: 'db-0',
      instances: 2,
      readyInstances: 2,
      operation: {
        type: 'Switchover',
        from: 'db-0',
        to: 'db-1',
        reason: 'node drained',
        step: 'waitForCatchUp',
        startedAt: '2026-01-01T00:00:00Z',
        attempt: 2,
        message: 'db-1 is 40 s behind',
      },
      lastSwitchover: { time: '2025-12-31T00:00:00Z', from: 'db-1', to: 'db-0', reason: 'spec.primary', durationSeconds: '0.734' },
      lastFailover: { time: '2025-12-30T00:00:00Z', from: 'db-0', to: 'db-1', reason: 'writer unreachable', durationSeconds: '3' },
      instanceStatuses: [
        { name: 'db-0', index: 0, node: 'node-a', role: 'Writer', ready: true },
        { name: 'db-1', index: 1, node: 'node-b', role: 'Reader', ready: false, problem: 'errant transactions: 0-101-5' },
      ],
    };
    kubectl(k, ['patch', 'mysqlcluster', 'db', '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    const stored = JSON.parse(kubectl(k, ['get', 'mysqlcluster', 'db', '-n', ns, '-o', 'json'])) as { status: unknown };
    assert.deepEqual(stored.status, status);
    // What a new leader resumes from: the retry count and its reason survive the schema.
    const resumed = operationFromStatus((stored.status as { operation: unknown }).operation);
    assert.equal(resumed?.attempt, 2);
    assert.equal(resumed.message, 'db-1 is 40 s behind');
    const negative = kubectlResult(k, ['patch', 'mysqlcluster', 'db', '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { operation: { attempt: -1 } } })]);
    assert.notEqual(negative.status, 0);
    assert.match(negative.stderr, /attempt/);
    const refused = kubectlResult(k, ['patch', 'mysqlcluster', 'db', '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { lastSwitchover: { durationSeconds: '1.5s' } } })]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /durationSeconds/);
  });

  it('shows primary, instances and ready instances as columns', () => {
    const ns = namespace('mycolumns');
    assert.equal(apply({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: 'db', namespace: ns }, spec: { readerCount: 2 } }).status, 0);
    assert.match(kubectl(k, ['get', 'myc', '-n', ns]), /NAME\s+MODE\s+PRIMARY\s+INSTANCES\s+READY INSTANCES\s+READY\s+REASON\s+AGE/);
  });
});

describe('fields that cannot change after creation', () => {
  it('refuses a new dbName, username or cluster, and says to create a new object', () => {
    const ns = namespace('immutable');
    const db = { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLDatabase', metadata: { name: 'shop', namespace: ns } };
    assert.equal(apply({ ...db, spec: { cluster, dbName: 'shop' } }).status, 0);
    assert.match(apply({ ...db, spec: { cluster, dbName: 'shop2' } }).stderr, /dbName cannot be changed after creation/);
    assert.match(apply({ ...db, spec: { cluster: { name: 'other' }, dbName: 'shop' } }).stderr, /cluster cannot be changed after creation/);

    const user = { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLUser', metadata: { name: 'shop', namespace: ns } };
    assert.equal(apply({ ...user, spec: { cluster, username: 'shop' } }).status, 0);
    assert.match(apply({ ...user, spec: { cluster, username: 'shop2' } }).stderr, /username cannot be changed after creation/);
  });
});

describe('a cluster bootstrapped from a physical backup', () => {
  const s3 = { endpoint: 'http://s3.local:8333', bucket: 'backups', credentialsSecret: { name: 's3' } };
  const bootstrapFrom = { backup: { target: { s3 }, path: 'db/nightly/20261201T020000Z' } };
  const clusterOf = (ns: string, name: string, spec: object) => ({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name, namespace: ns }, spec });

  it('is accepted at creation and cannot be added, changed or removed afterwards', () => {
    const ns = namespace('bootstrap');
    assert.equal(apply(clusterOf(ns, 'copy', { readerCount: 1, bootstrapFrom })).status, 0);
    const changed = { backup: { ...bootstrapFrom.backup, path: 'db/nightly/20261202T020000Z' } };
    assert.match(apply(clusterOf(ns, 'copy', { readerCount: 1, bootstrapFrom: changed })).stderr, /bootstrapFrom is set when the cluster is created and cannot be added, changed or removed/);
    assert.match(apply(clusterOf(ns, 'copy', { readerCount: 1 })).stderr, /cannot be added, changed or removed/);
    assert.equal(apply(clusterOf(ns, 'plain', { readerCount: 1 })).status, 0);
    assert.match(apply(clusterOf(ns, 'plain', { readerCount: 1, bootstrapFrom })).stderr, /cannot be added, changed or removed/);
    // Other fields still change.
    assert.equal(apply(clusterOf(ns, 'copy', { readerCount: 2, bootstrapFrom })).status, 0);
  });

  it('refuses it on an external cluster, from a PVC target, or with a path that is no run folder', () => {
    const ns = namespace('bootstrap-bad');
    const external = { host: 'db.example', adminSecretRef: { name: 'admin' } };
    assert.match(apply(clusterOf(ns, 'ext', { external, bootstrapFrom })).stderr, /spec\.external cannot be combined with fields for a managed server/);
    assert.match(
      apply(clusterOf(ns, 'pvc', { bootstrapFrom: { backup: { target: { pvc: { claimName: 'backups' } }, path: bootstrapFrom.backup.path } } })).stderr,
      /a cluster is bootstrapped from an S3 target/,
    );
    assert.match(apply(clusterOf(ns, 'path', { bootstrapFrom: { backup: { target: { s3 }, path: 'db/nightly/latest-but-one' } } })).stderr, /spec\.bootstrapFrom\.backup\.path/);
  });
});

describe('MySQLBackup and MySQLRestore', () => {
  it('a minimal backup gets its defaults, and a schedule with names, lists, ranges and steps is accepted', () => {
    const ns = namespace('backup');
    const applied = apply(backupOf(ns, { schedule: '*/15 1-5,23 1 JAN,jul-Sep/2 mon-FRI,0' }));
    assert.equal(applied.status, 0, applied.stderr);
    const stored = JSON.parse(kubectl(k, ['get', 'mbk', 'nightly', '-n', ns, '-o', 'json'])) as { spec: Record<string, unknown> };
    assert.deepEqual(stored.spec, {
      cluster,
      schedule: '*/15 1-5,23 1 JAN,jul-Sep/2 mon-FRI,0',
      timeZone: 'UTC',
      method: 'logical',
      suspend: false,
      compression: 'gzip',
      target: { s3: { ...s3, region: 'us-east-1', pathStyle: true, credentialsSecret: { name: 's3', accessKeyIdKey: 'AWS_ACCESS_KEY_ID', secretAccessKeyKey: 'AWS_SECRET_ACCESS_KEY' } } },
      retention: { keepLast: 0, daily: 7, weekly: 4, monthly: 12 },
      activeDeadlineSeconds: 3600,
    });
    assert.match(kubectl(k, ['get', 'mbk', '-n', ns]), /NAME\s+CLUSTER\s+SCHEDULE\s+LAST SUCCESS\s+LAST RESULT\s+READY\s+REASON\s+AGE/);
    assert.match(kubectl(k, ['explain', 'mysqlbackup.spec.retention.weekly']), /ISO weeks/);
  });

  it('keeps a run and the backups list in status, sizes beyond 2 GiB included', () => {
    const ns = namespace('backupstatus');
    assert.equal(apply(backupOf(ns, { target: { pvc: { claimName: 'backups', subPath: 'site-a' } } })).status, 0);
    const status = {
      queued: false,
      lastSuccessfulTime: '2026-12-02T03:04:05Z',
      lastRun: { id: '20261202T030000Z', jobName: 'nightly-20261202t030000z', result: 'Succeeded', attempts: 1, sizeBytes: 5_000_000_000, durationSeconds: '64.2' },
      backups: [{ id: '20261202T030000Z', time: '2026-12-02T03:00:00Z', path: `${ns}/nightly/20261202T030000Z`, sizeBytes: 5_000_000_000, databases: ['shop'], keptBecause: ['daily', 'weekly', 'monthly'] }],
    };
    kubectl(k, ['patch', 'mbk', 'nightly', '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    const stored = JSON.parse(kubectl(k, ['get', 'mbk', 'nightly', '-n', ns, '-o', 'json'])) as { status: unknown };
    assert.deepEqual(stored.status, status);
    const refused = kubectlResult(k, ['patch', 'mbk', 'nightly', '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { lastRun: { id: '2026-12-02', result: 'Succeeded' } } })]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /lastRun.id/);
  });

  it('a restore cannot be changed after creation; overwrite defaults to false', () => {
    const ns = namespace('restore');
    const applied = apply(restoreOf(ns, { databases: [{ from: 'shop', to: 'shop_copy' }] }));
    assert.equal(applied.status, 0, applied.stderr);
    const stored = JSON.parse(kubectl(k, ['get', 'mrs', 'back', '-n', ns, '-o', 'json'])) as { spec: { overwrite: boolean } };
    assert.equal(stored.spec.overwrite, false);
    assert.match(apply(restoreOf(ns, { databases: [{ from: 'shop', to: 'shop_copy' }], overwrite: true })).stderr, /a MySQLRestore cannot be changed/);
  });
});
