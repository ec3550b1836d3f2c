// Backups and restores on the local cluster, end to end: a MariaDB server
// (with a binary log) in its own namespace under an external MySQLCluster,
// the operator installed by its chart, a site namespace with MySQLDatabases
// and rows. One-off MySQLBackups to a PVC and to the cluster's S3 store run as
// Jobs and complete; a MySQLRestore into another database is proven by every
// table's row count and CHECKSUM TABLE equal to the source's; a restore into
// a non-empty database without overwrite is refused by a condition and
// changes nothing; a tenant cannot back up a database it does not own.
//
// The tests depend on each other in order, like the steps of a user's session.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { apiVersion } from '../../src/api/common.ts';
import { applyObjects, conditionOf, eventually, getObject as getAnyObject, type Condition } from '../env/e2e-objects.ts';
import { mariadbImageName } from '../env/images/images.ts';
import { kubectl, kubectlResult } from '../env/kubectl.ts';
import { operatorCluster, releaseOperatorCluster } from '../env/operator-cluster.ts';
import { mariadbServerManifests } from './mariadb-manifests.ts';

const suffix = randomBytes(3).toString('hex');
const dbNamespace = `e2e-backup-db-${suffix}`;
const site = `e2e-backup-site-${suffix}`;
// The shared cluster with the operator when ./scripts/test started one, else a cluster of its own.
const target = await operatorCluster(1);
after(() => releaseOperatorCluster(target, [site, dbNamespace]));
const cluster = target.cluster;
const plane = cluster.controlPlane;
const rootPassword = randomBytes(12).toString('base64url');
const host = `mariadb.${dbNamespace}.svc.cluster.local`;

function apply(objects: readonly unknown[]): void {
  applyObjects(plane, objects);
}

interface Watched {
  status?: {
    conditions?: Condition[];
    lastRun?: { result: string; message?: string; sizeBytes?: number; sha256?: string; gtidPosition?: string; path?: string };
    backups?: { id: string; path: string }[];
    restored?: { database: string; tables: number; rows: number; checksumsMatch?: boolean }[];
    message?: string;
  };
}

function getObject(kind: string, name: string, namespace = site): Watched | undefined {
  return getAnyObject(plane, kind, name, namespace) as Watched | undefined;
}

function condition(object: Watched | undefined, type: string): Condition | undefined {
  return conditionOf(object, type);
}

let clientRuns = 0;

/** Runs SQL as root in a client pod of the MariaDB image; its output, tab separated. */
async function sql(statements: string): Promise<string> {
  const name = `sql-${++clientRuns}`;
  apply([
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: dbNamespace },
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'client',
            image: mariadbImageName,
            imagePullPolicy: 'IfNotPresent',
            env: [{ name: 'MYSQL_PWD', valueFrom: { secretKeyRef: { name: 'mariadb-admin', key: 'password' } } }],
            command: ['mariadb', '--host', host, '--user', 'root', '--batch', '--skip-column-names', '--execute', statements],
          },
        ],
      },
    },
  ]);
  const phase = await eventually(`client pod ${name} to finish`, 120_000, () => {
    const result = kubectlResult(plane, ['get', 'pod', name, '-n', dbNamespace, '-o', 'jsonpath={.status.phase}']);
    return result.stdout === 'Succeeded' || result.stdout === 'Failed' ? result.stdout : undefined;
  });
  const output = kubectl(plane, ['logs', name, '-n', dbNamespace]);
  kubectl(plane, ['delete', 'pod', name, '-n', dbNamespace, '--wait=false']);
  assert.equal(phase, 'Succeeded', `SQL failed: ${output}`);
  return output;
}

/** "table rows checksum" lines of every base table of `database`, sorted. */
async function tableFacts(database: string): Promise<string[]> {
  const tables = (await sql(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${database}' AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1`))
    .split('\n')
    .filter((t) => t !== '');
  if (tables.length === 0) return [];
  const statements = tables.map((t) => `SELECT '${t}', COUNT(*) FROM \`${database}\`.\`${t}\`; CHECKSUM TABLE \`${database}\`.\`${t}\`;`).join(' ');
  const lines = (await sql(statements)).split('\n').filter((l) => l !== '');
  const facts: string[] = [];
  for (let i = 0; i < lines.length; i += 2) {
    const [table, rows] = (lines[i] ?? '').split('\t');
    const checksum = (lines[i + 1] ?? '').split('\t')[1];
    facts.push(`${table} ${rows} ${checksum}`);
  }
  return facts;
}

function backupManifest(name: string, target: unknown, databases: string[]): unknown {
  return {
    apiVersion,
    kind: 'MySQLBackup',
    metadata: { name, namespace: site },
    spec: { cluster: { name: 'shared', namespace: dbNamespace }, databases, compression: 'gzip', target, activeDeadlineSeconds: 600 },
  };
}

function restoreManifest(name: string, backup: string, to: string, overwrite: boolean): unknown {
  return {
    apiVersion,
    kind: 'MySQLRestore',
    metadata: { name, namespace: site },
    spec: { cluster: { name: 'shared', namespace: dbNamespace }, source: { backup: { name: backup } }, databases: [{ from: 'site_shop', to }], overwrite },
  };
}

async function backupSucceeded(name: string): Promise<Watched> {
  return eventually(`MySQLBackup ${name} to complete a run`, 300_000, () => {
    const backup = getObject('mysqlbackup', name);
    const result = backup?.status?.lastRun?.result;
    if (result === 'Failed') throw new Error(`MySQLBackup ${name} failed: ${backup?.status?.lastRun?.message ?? ''}`);
    return result === 'Succeeded' ? backup : undefined;
  });
}

async function restoreEnded(name: string): Promise<Watched> {
  return eventually(`MySQLRestore ${name} to end`, 300_000, () => {
    const restore = getObject('mysqlrestore', name);
    return condition(restore, 'Complete')?.status === 'True' || condition(restore, 'Failed')?.status === 'True' ? restore : undefined;
  });
}

describe('backups and restores on the local cluster', () => {
  let sourceFacts: string[] = [];

  it('runs a MariaDB server, the operator, and a site with rows', async () => {
    const store = cluster.objectStore;
    apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: dbNamespace } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: site } },
    ]);
    const server = mariadbServerManifests({ namespace: dbNamespace, instance: 'backup', rootPassword: { secret: 'mariadb-admin', key: 'password' } }) as {
      kind: string;
      spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } };
    }[];
    // A binary log, as production servers have: the backup records its GTID position.
    for (const object of server) if (object.kind === 'StatefulSet') for (const c of object.spec?.template?.spec?.containers ?? []) c.args = ['--log-bin=mysql-bin', '--server-id=1'];
    apply([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mariadb-admin', namespace: dbNamespace }, stringData: { username: 'root', password: rootPassword } },
      ...server,
    ]);
    kubectl(plane, ['rollout', 'status', 'statefulset/mariadb', '-n', dbNamespace, '--timeout=180s']);
    apply([
      {
        apiVersion,
        kind: 'MySQLCluster',
        metadata: { name: 'shared', namespace: dbNamespace },
        spec: { external: { host, port: 3306, adminSecretRef: { name: 'mariadb-admin' } }, allowedNamespaces: { from: 'All' } },
      },
      { apiVersion, kind: 'MySQLDatabase', metadata: { name: 'shop', namespace: site }, spec: { cluster: { name: 'shared', namespace: dbNamespace }, dbName: 'site_shop' } },
      {
        apiVersion,
        kind: 'MySQLDatabase',
        metadata: { name: 'shop-restored', namespace: site },
        spec: { cluster: { name: 'shared', namespace: dbNamespace }, dbName: 'site_shop_restored' },
      },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3-creds', namespace: site }, stringData: { AWS_ACCESS_KEY_ID: store.accessKeyId, AWS_SECRET_ACCESS_KEY: store.secretAccessKey } },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'backups', namespace: site },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    ]);
    for (const db of ['shop', 'shop-restored']) {
      await eventually(`MySQLDatabase ${db} to be Ready`, 120_000, () => (condition(getObject('mysqldatabase', db), 'Ready')?.status === 'True' ? true : undefined));
    }
    await sql(`
      CREATE TABLE site_shop.orders (id INT PRIMARY KEY, customer VARCHAR(80), total DECIMAL(10,2), note TEXT) ENGINE=InnoDB;
      INSERT INTO site_shop.orders SELECT seq, CONCAT('customer ', seq), seq * 1.25, IF(seq % 3 = 0, 'a note\\nwith a newline', NULL) FROM site_shop.seq_1_to_2000;
      CREATE TABLE site_shop.options (name VARCHAR(64) PRIMARY KEY, value LONGTEXT) ENGINE=InnoDB;
      INSERT INTO site_shop.options VALUES ('siteurl', 'https://site-a.example'), ('blogname', 'Site A');
    `);
    sourceFacts = await tableFacts('site_shop');
    assert.deepEqual(
      sourceFacts.map((f) => f.split(' ').slice(0, 2).join(' ')),
      ['options 2', 'orders 2000'],
    );
  });

  it('a one-off MySQLBackup to a PVC completes as a Job, with size, sha256 and GTID position', async () => {
    apply([backupManifest('to-pvc', { pvc: { claimName: 'backups', subPath: 'agency' } }, ['site_shop'])]);
    const backup = await backupSucceeded('to-pvc');
    const run = backup.status?.lastRun;
    assert.ok((run?.sizeBytes ?? 0) > 0);
    assert.match(run?.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.match(run?.gtidPosition ?? '', /^0-1-\d+$/);
    assert.equal(condition(backup, 'LastBackupSucceeded')?.status, 'True');
    assert.equal(backup.status?.backups?.length, 1);
  });

  it('a one-off MySQLBackup to the S3 store completes too', async () => {
    const store = cluster.objectStore;
    apply([backupManifest('to-s3', { s3: { endpoint: store.endpoint, bucket: 'backups', prefix: 'agency', credentialsSecret: { name: 's3-creds' } } }, ['site_shop'])]);
    const backup = await backupSucceeded('to-s3');
    assert.ok((backup.status?.lastRun?.sizeBytes ?? 0) > 0);
  });

  it('a MySQLRestore from the PVC into another database has every table’s rows and checksum equal to the source’s', async () => {
    apply([restoreManifest('from-pvc', 'to-pvc', 'site_shop_restored', false)]);
    const restore = await restoreEnded('from-pvc');
    assert.equal(condition(restore, 'Complete')?.status, 'True', JSON.stringify(restore.status));
    assert.deepEqual(restore.status?.restored, [{ database: 'site_shop_restored', from: 'site_shop', tables: 2, rows: 2002, checksumsMatch: true }]);
    assert.deepEqual(await tableFacts('site_shop_restored'), sourceFacts);
  });

  it('a restore into a non-empty database without overwrite is refused and changes nothing', async () => {
    await sql("INSERT INTO site_shop_restored.options VALUES ('marker', 'written after the restore')");
    const before = await tableFacts('site_shop_restored');
    apply([restoreManifest('over-s3', 'to-s3', 'site_shop_restored', false)]);
    const restore = await restoreEnded('over-s3');
    const failed = condition(restore, 'Failed');
    assert.ok(failed !== undefined, JSON.stringify(restore.status));
    assert.equal(failed.status, 'True');
    assert.equal(failed.reason, 'TargetNotEmpty');
    assert.match(failed.message ?? '', /site_shop_restored has 2 tables; set overwrite/);
    assert.deepEqual(await tableFacts('site_shop_restored'), before);
  });

  it('with overwrite the S3 backup replaces it, equal to the source again', async () => {
    apply([restoreManifest('over-s3-yes', 'to-s3', 'site_shop_restored', true)]);
    const restore = await restoreEnded('over-s3-yes');
    assert.equal(condition(restore, 'Complete')?.status, 'True', JSON.stringify(restore.status));
    assert.deepEqual(await tableFacts('site_shop_restored'), sourceFacts);
  });

  it('a tenant cannot back up a database its namespace does not own', async () => {
    apply([backupManifest('not-mine', { pvc: { claimName: 'backups' } }, ['mysql_other'])]);
    const ready = await eventually('the refusal', 60_000, () => {
      const c = condition(getObject('mysqlbackup', 'not-mine'), 'Ready');
      return c?.status === 'False' ? c : undefined;
    });
    assert.equal(ready.reason, 'DatabaseNotOwned');
    assert.match(ready.message ?? '', /database mysql_other is not owned by a MySQLDatabase in namespace/);
  });
});
