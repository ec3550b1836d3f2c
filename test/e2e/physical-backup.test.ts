// Physical backups and a cluster bootstrapped from one, on a local cluster
// of two nodes with the operator installed by its chart: a managed cluster
// (a writer and a reader) holds a few MB of rows in several tables; a
// MySQLBackup with method: physical (zstd, encrypted) to the cluster's S3
// store copies the healthy reader while writes continue on the writer; a new
// MySQLCluster with spec.bootstrapFrom starts from that backup, its reader
// seeded from its first instance, both Ready; every table's row count and
// CHECKSUM TABLE there equal the source's at the backup's GTID position.
// Bad input (no such run, a tampered object) is told by a BootstrapFailed
// condition with nothing started.
//
// How "at the backup's GTID position" is compared while writes continue:
// the tables written before the backup do not change during it, so their
// facts are compared as they are; the table written during the backup gets
// one row per transaction, numbered in commit order, so the copy holds
// exactly the rows 1..k for some k; the source's rows 1..k are copied into a
// table of the same definition after the backup, and that table's count and
// CHECKSUM TABLE are compared with the new cluster's.
//
// The tests depend on each other in order. Timings are printed as
// `# physical backup e2e: …` lines.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apiVersion } from '../../src/api/common.ts';
import { S3Client } from '../../src/storage/s3.ts';
import { type RunningLocalCluster } from '../env/cluster/cluster.ts';
import { applyObjects, conditionOf, getObject, type Condition } from '../env/e2e-objects.ts';
import { kubectl, kubectlResult, waitForReady } from '../env/kubectl.ts';
import { clusterPods, eventually, isPodReady, writerPod } from '../env/managed-cluster.ts';
import { operatorCluster, releaseOperatorCluster, type OperatorCluster } from '../env/operator-cluster.ts';

const namespace = 'physical-e2e';
const source = 'source';
const copy = 'copy';
/** Tables written before the backup, and the rows of about 1 KB each holds. */
const tables = { orders: 6000, customers: 4000, pages: 3000 } as const;

let target: OperatorCluster | undefined;
let cluster: RunningLocalCluster;
const plane = (): RunningLocalCluster['controlPlane'] => cluster.controlPlane;

function note(what: string, value: string): void {
  process.stdout.write(`# physical backup e2e: ${what}: ${value}\n`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** SQL as root over the local socket of `pod`'s MariaDB container (root's password is that cluster's own); tab-separated rows. */
function rootSql(pod: string, sql: string): string {
  const result = kubectlResult(plane(), [
    'exec', pod, '-n', namespace, '-c', 'mariadb', '--',
    'sh', '-c', 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb --user=root --protocol=socket -N -B -e "$1"', 'sql', sql,
  ]);
  assert.equal(result.status, 0, `${sql} on ${pod}: ${result.stderr}`);
  return result.stdout.trim();
}

interface Watched {
  status?: {
    conditions?: Condition[];
    currentPrimary?: string;
    readyInstances?: number;
    lastRun?: { result: string; message?: string; source?: string; sizeBytes?: number; sha256?: string; gtidPosition?: string; path?: string; durationSeconds?: string };
    backups?: { id: string; path: string }[];
  };
}

function watched(kind: string, name: string): Watched | undefined {
  return getObject(plane(), kind, name, namespace) as Watched | undefined;
}

function writer(name: string): string {
  const pod = writerPod(plane(), namespace, name)?.metadata.name;
  assert.ok(pod !== undefined, `no writer pod of ${name}`);
  return pod;
}

async function instancesReady(name: string, count: number, timeoutMs = 600_000): Promise<void> {
  await waitForReady(plane(), 'mysqlcluster', namespace, name, { timeoutMs });
  await eventually(`${name}: ${count} instances ready`, () => (watched('mysqlcluster', name)?.status?.readyInstances === count ? true : undefined), timeoutMs);
}

/** "table rows checksum" of each of `names` in database phys. */
function facts(pod: string, names: readonly string[]): string[] {
  return names.map((table) => {
    const rows = rootSql(pod, `SELECT COUNT(*) FROM phys.${table}`);
    const checksum = rootSql(pod, `CHECKSUM TABLE phys.${table}`).split('\t')[1];
    return `${table} ${rows} ${checksum ?? '?'}`;
  });
}

/** The seed init container's own report. */
function seedLog(pod: string): string {
  return kubectl(plane(), ['logs', pod, '-n', namespace, '-c', 'seed']);
}

/** Inserts n = 1, 2, 3, … into phys.w on `pod`, one transaction each, until stopped; resolves to how many were written. */
function startWriteLoad(pod: string): { stop(): Promise<number> } {
  const script = [
    'i=0',
    'rm -f /tmp/stop-load',
    'while [ ! -e /tmp/stop-load ]; do',
    '  i=$((i + 1))',
    '  MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb --user=root --protocol=socket -e "INSERT INTO phys.w (n, pad) VALUES ($i, REPEAT(MD5($i), 8))" && echo "ok $i" || exit 1',
    'done',
  ].join('\n');
  const child = spawn(join(plane().binDir, 'kubectl'), ['--kubeconfig', plane().kubeconfig, 'exec', '-i', pod, '-n', namespace, '-c', 'mariadb', '--', 'sh', '-s'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.end(script);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const closed = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      resolve(out.split('\n').filter((l) => l.startsWith('ok ')).length);
    });
  });
  return {
    async stop() {
      kubectl(plane(), ['exec', pod, '-n', namespace, '-c', 'mariadb', '--', 'touch', '/tmp/stop-load']);
      return closed;
    },
  };
}

/** Spreading preferred, not required: two nodes, and clusters of two instances side by side. */
function spread(name: string): unknown {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { 'flightdeck.t7.io/cluster': name } }, topologyKey: 'kubernetes.io/hostname' } },
      ],
    },
  };
}

function s3Target(): Record<string, unknown> {
  const store = cluster.objectStore;
  return { s3: { endpoint: store.endpoint, bucket: 'backups', prefix: 'physical', credentialsSecret: { name: 's3-creds' } } };
}

function bootstrapped(name: string, path: string, readerCount: number): unknown {
  return {
    apiVersion,
    kind: 'MySQLCluster',
    metadata: { name, namespace },
    spec: {
      size: '1Gi',
      readerCount,
      affinity: spread(name),
      bootstrapFrom: { backup: { target: s3Target(), path, encryption: { secretKeyRef: { name: 'backup-key' } } } },
    },
  };
}

describe('physical backups and a cluster bootstrapped from one', { timeout: 2_400_000 }, () => {
  let backupPath = '';
  let backupGtid = '';
  let copiedRows = 0;

  before(async () => {
    const started = performance.now();
    target = await operatorCluster(2);
    cluster = target.cluster;
    note('2-node cluster with the operator installed by its chart', seconds(performance.now() - started));
  });

  after(async () => {
    await releaseOperatorCluster(target, [namespace]);
  });

  it('a managed cluster holds a few MB of rows in several tables', async () => {
    const started = performance.now();
    kubectl(plane(), ['create', 'namespace', namespace]);
    const store = cluster.objectStore;
    applyObjects(plane(), [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3-creds', namespace }, stringData: { AWS_ACCESS_KEY_ID: store.accessKeyId, AWS_SECRET_ACCESS_KEY: store.secretAccessKey } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'backup-key', namespace }, stringData: { key: 'a key only this test knows' } },
      { apiVersion, kind: 'MySQLCluster', metadata: { name: source, namespace }, spec: { size: '1Gi', readerCount: 1, affinity: spread(source) } },
    ]);
    await instancesReady(source, 2);
    note('source cluster of two Ready', seconds(performance.now() - started));
    const primary = writer(source);
    rootSql(primary, 'CREATE DATABASE phys; CREATE TABLE phys.w (n INT PRIMARY KEY, pad VARCHAR(300) NOT NULL)');
    for (const [table, rows] of Object.entries(tables)) {
      rootSql(primary, `CREATE TABLE phys.${table} (id INT PRIMARY KEY, label VARCHAR(64) NOT NULL, body TEXT NOT NULL, KEY (label))`);
      rootSql(
        primary,
        `SET SESSION max_recursive_iterations = 100000; INSERT INTO phys.${table} WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${rows}) SELECT n, CONCAT('${table}-', n), REPEAT(SHA2(CONCAT('${table}', n), 256), 16) FROM s`,
      );
    }
    const mb = rootSql(primary, "SELECT ROUND(SUM(DATA_LENGTH + INDEX_LENGTH) / 1048576, 1) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'phys'");
    note('data in database phys', `${mb} MB`);
    assert.ok(Number(mb) >= 3, `a few MB of rows (${mb} MB)`);
  });

  it('a physical MySQLBackup copies the healthy reader to S3 while writes continue, with a manifest', async () => {
    const primary = writer(source);
    const load = startWriteLoad(primary);
    await eventually('the write load to run', () => (Number(rootSql(primary, 'SELECT COUNT(*) FROM phys.w')) > 20 ? true : undefined), 60_000);
    const started = performance.now();
    applyObjects(plane(), [
      {
        apiVersion,
        kind: 'MySQLBackup',
        metadata: { name: 'full', namespace },
        spec: { cluster: { name: source }, method: 'physical', compression: 'zstd', encryption: { secretKeyRef: { name: 'backup-key' } }, target: s3Target(), activeDeadlineSeconds: 900 },
      },
    ]);
    const backup = await eventually('the physical backup to complete', () => {
      const object = watched('mysqlbackup', 'full');
      const run = object?.status?.lastRun;
      if (run?.result === 'Failed') throw new Error(`the physical backup failed: ${run.message ?? ''}`);
      return run?.result === 'Succeeded' ? object : undefined;
    }, 600_000);
    const elapsed = performance.now() - started;
    const written = await load.stop();
    assert.ok(written > 0, 'writes ran during the backup');
    const run = backup.status?.lastRun;
    assert.ok(run !== undefined);
    note('physical backup (size, duration)', `${run.sizeBytes ?? '?'} bytes, ${run.durationSeconds ?? '?'} s (${seconds(elapsed)} from apply)`);
    assert.match(run.source ?? '', new RegExp(`^${source}-1 \\(reader\\): copied from reader ${source}-1`), 'a healthy reader is the donor, and status says so');
    assert.match(run.gtidPosition ?? '', /^0-\d+-\d+/);
    assert.match(run.sha256 ?? '', /^[0-9a-f]{64}$/);
    backupGtid = run.gtidPosition ?? '';
    backupPath = backup.status?.backups?.[0]?.path ?? '';
    assert.match(backupPath, new RegExp(`^${namespace}/full/\\d{8}T\\d{6}Z$`));
    assert.equal(conditionOf(backup, 'LastBackupSucceeded')?.status, 'True');

    // The store holds the data and the manifest (kind physical, the reader, the GTID position), written last.
    const store = cluster.objectStore;
    const s3 = new S3Client({ endpoint: store.endpoint, region: store.region, credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey } });
    try {
      const manifest = JSON.parse((await s3.getObject('backups', `physical/${backupPath}/manifest.json`)).toString()) as Record<string, unknown>;
      assert.equal(manifest.kind, 'physical');
      assert.equal(manifest.sourceInstance, `${source}-1`);
      assert.equal(manifest.sourceRole, 'reader');
      assert.equal(manifest.gtidPosition, backupGtid);
      assert.equal(manifest.dataFile, 'data.xbstream.zst.enc');
      assert.equal(manifest.sha256, run.sha256);
      const objects = (await s3.listAllObjects('backups', { prefix: `physical/${backupPath}/` })).map((o) => o.key.split('/').at(-1));
      assert.deepEqual(objects.sort(), ['data.xbstream.zst.enc', 'manifest.json']);
    } finally {
      s3.close();
    }

    // The source's rows of phys.w as they were at the backup's position, in a table of the same definition.
    rootSql(writer(source), 'CREATE TABLE phys.w_at_backup LIKE phys.w');
    note('rows written during the backup', String(written));
  });

  it('a new MySQLCluster bootstrapped from the backup starts with its data and seeds its reader from it; both Ready', async () => {
    const started = performance.now();
    applyObjects(plane(), [bootstrapped(copy, backupPath, 1)]);
    await instancesReady(copy, 2);
    note('bootstrapped cluster of two Ready after', seconds(performance.now() - started));
    assert.equal(writer(copy), `${copy}-0`);
    const log = seedLog(`${copy}-0`);
    assert.match(log, new RegExp(`bootstrapped from backup \\d{8}T\\d{6}Z of ${source}-1 at GTID position ${backupGtid.replace(/[-,]/g, '\\$&')}`), log);
    assert.match(seedLog(`${copy}-1`), new RegExp(`seeded from ${copy}-0\\.${copy}-instances`));
    const copied = rootSql(`${copy}-0`, 'SELECT COUNT(*), MAX(n) FROM phys.w').split('\t').map(Number);
    copiedRows = copied[0] ?? 0;
    assert.equal(copied[0], copied[1], 'the copy holds phys.w rows 1..k without a gap');
    assert.ok(copiedRows > 0, 'the copy holds rows written during the backup');
    rootSql(writer(source), `INSERT INTO phys.w_at_backup SELECT * FROM phys.w WHERE n <= ${copiedRows}`);

    const expected = [...facts(writer(source), Object.keys(tables)), ...facts(writer(source), ['w_at_backup']).map((f) => f.replace(/^w_at_backup /, 'w '))];
    const got = facts(`${copy}-0`, [...Object.keys(tables), 'w']);
    assert.deepEqual(got, expected);
    note('tables equal to the source at the backup position', got.join('; '));
    // The reader holds the same, replicating from the new writer.
    const position = rootSql(`${copy}-0`, 'SELECT @@gtid_binlog_pos');
    await eventually(`${copy}-1 caught up`, () => (rootSql(`${copy}-1`, `SELECT MASTER_GTID_WAIT('${position}', 1)`) === '0' ? true : undefined), 120_000);
    assert.deepEqual(facts(`${copy}-1`, [...Object.keys(tables), 'w']), expected);
    const status = watched('mysqlcluster', copy);
    assert.equal(conditionOf(status, 'Replicating')?.status, 'True', JSON.stringify(conditionOf(status, 'Replicating')));
    // Its system accounts have its own Secret's passwords (rootSql logs in with them), not the source's.
    const sourceRoot = kubectl(plane(), ['get', 'secret', `${source}-credentials`, '-n', namespace, '-o', 'jsonpath={.data.root-password}']);
    const copyRoot = kubectl(plane(), ['get', 'secret', `${copy}-credentials`, '-n', namespace, '-o', 'jsonpath={.data.root-password}']);
    assert.notEqual(sourceRoot, copyRoot);
    // A write on the new cluster reaches its reader.
    rootSql(`${copy}-0`, 'INSERT INTO phys.w (n, pad) VALUES (10000000, "after")');
    const after = rootSql(`${copy}-0`, 'SELECT @@gtid_binlog_pos');
    await eventually(`${copy}-1 has the new write`, () => (rootSql(`${copy}-1`, `SELECT MASTER_GTID_WAIT('${after}', 1)`) === '0' ? true : undefined), 60_000);
    assert.equal(rootSql(`${copy}-1`, 'SELECT pad FROM phys.w WHERE n = 10000000'), 'after');
  });

  it('a run that does not exist, or a tampered backup, is told on the cluster and nothing starts', async () => {
    const store = cluster.objectStore;
    const s3 = new S3Client({ endpoint: store.endpoint, region: store.region, credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey } });
    const tamperedPath = `${namespace}/tampered/${backupPath.split('/').at(-1) ?? ''}`;
    try {
      const manifest = await s3.getObject('backups', `physical/${backupPath}/manifest.json`);
      const data = await s3.getObject('backups', `physical/${backupPath}/data.xbstream.zst.enc`);
      data[Math.floor(data.length / 2)] = (data[Math.floor(data.length / 2)] ?? 0) ^ 0xff;
      await s3.putObject('backups', `physical/${tamperedPath}/data.xbstream.zst.enc`, data);
      await s3.putObject('backups', `physical/${tamperedPath}/manifest.json`, manifest);
    } finally {
      s3.close();
    }
    const cases = [
      { name: 'missing', path: `${namespace}/full/20200101T000000Z`, reason: /BackupNotFound: no manifest\.json/ },
      { name: 'tampered', path: tamperedPath, reason: /ChecksumMismatch: data\.xbstream\.zst\.enc has sha256 [0-9a-f]{64}, the manifest says/ },
    ];
    applyObjects(plane(), cases.map((c) => bootstrapped(c.name, c.path, 0)));
    for (const c of cases) {
      const ready = await eventually(`${c.name}: BootstrapFailed`, () => {
        const condition = conditionOf(watched('mysqlcluster', c.name), 'Ready');
        return condition?.reason === 'BootstrapFailed' ? condition : undefined;
      }, 300_000);
      assert.equal(ready.status, 'False');
      assert.match(ready.message ?? '', c.reason);
      const pod = clusterPods(plane(), namespace, c.name).find((p) => p.metadata.name === `${c.name}-0`);
      assert.ok(pod !== undefined && !isPodReady(pod));
      const started = kubectl(plane(), ['get', 'pod', `${c.name}-0`, '-n', namespace, '-o', 'jsonpath={.status.containerStatuses[?(@.name=="mariadb")].state.running}']);
      assert.equal(started, '', 'mariadbd never started');
      kubectl(plane(), ['delete', 'mysqlcluster', c.name, '-n', namespace, '--wait=false']);
    }
  });
});
