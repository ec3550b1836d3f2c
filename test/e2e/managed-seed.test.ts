// Seeding replicas from a copy, on a local cluster of two nodes with the
// operator installed by its chart: a new cluster's reader is seeded from the
// first writer; with tens of MB of data and the writer's binary logs purged
// (so that replaying them cannot bring a new reader up), readerCount 1 → 2
// seeds the new reader from a streamed mariadb-backup copy while writes run,
// and it ends with exactly the writer's rows and checksums, replicating; a
// rebuild asked for with the pod annotation discards the reader's data and
// seeds it again, with the same result.
//
// The tests depend on each other in order. Timings are printed as
// `# managed seed e2e: …` lines.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningLocalCluster } from '../env/cluster/cluster.ts';
import { kubectl, kubectlResult, waitForReady } from '../env/kubectl.ts';
import { clusterPods, eventually, isPodReady, writerPod } from '../env/managed-cluster.ts';
import { operatorCluster, releaseOperatorCluster, type OperatorCluster } from '../env/operator-cluster.ts';

const namespace = 'seed-e2e';
const name = 'seeded';
/** Rows of about 1 KB in the table the copies carry. */
const rows = 40_000;

let target: OperatorCluster | undefined;
let cluster: RunningLocalCluster;
const plane = (): RunningLocalCluster['controlPlane'] => cluster.controlPlane;

function note(what: string, value: string): void {
  process.stdout.write(`# managed seed e2e: ${what}: ${value}\n`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** SQL as root over the local socket of `pod`'s MariaDB container; tab-separated rows. */
function rootSql(pod: string, sql: string): string {
  const result = kubectlResult(plane(), [
    'exec', pod, '-n', namespace, '-c', 'mariadb', '--',
    'sh', '-c', 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb --user=root --protocol=socket -N -B -e "$1"', 'sql', sql,
  ]);
  assert.equal(result.status, 0, `${sql} on ${pod}: ${result.stderr}`);
  return result.stdout.trim();
}

interface ClusterStatus {
  currentPrimary?: string;
  readyInstances?: number;
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

function clusterStatus(): ClusterStatus {
  return JSON.parse(kubectl(plane(), ['get', 'mysqlcluster', name, '-n', namespace, '-o', 'jsonpath={.status}']) || '{}') as ClusterStatus;
}

function writer(): string {
  const pod = writerPod(plane(), namespace, name)?.metadata.name;
  assert.ok(pod !== undefined, 'no writer pod');
  return pod;
}

async function instancesReady(count: number, timeoutMs = 300_000): Promise<void> {
  await waitForReady(plane(), 'mysqlcluster', namespace, name, { timeoutMs });
  await eventually(`${count} instances ready`, () => (clusterStatus().readyInstances === count ? true : undefined), timeoutMs);
}

/** What must be equal on the writer and a caught-up reader: row counts and content checksums of every table written. */
function fingerprint(pod: string): string {
  return rootSql(
    pod,
    'SELECT COUNT(*), SUM(CRC32(CONCAT(id, pad))) FROM seedtest.t; SELECT COUNT(*), COALESCE(SUM(n), 0) FROM seedtest.w; CHECKSUM TABLE seedtest.t, seedtest.w EXTENDED',
  );
}

/** Waits until `reader` has applied everything the writer has written, then compares their fingerprints. */
async function assertSameData(reader: string): Promise<string> {
  const primary = writer();
  const target = rootSql(primary, 'SELECT @@gtid_binlog_pos');
  await eventually(`${reader} caught up to ${target}`, () => {
    const applied = rootSql(reader, `SELECT MASTER_GTID_WAIT('${target}', 1)`);
    return applied === '0' ? true : undefined;
  }, 120_000);
  const expected = fingerprint(primary);
  assert.equal(fingerprint(reader), expected);
  return expected;
}

/** The seed init container's own report of a copy ("received …", "seeded from … in Ns"). */
function seedLog(pod: string): string {
  return kubectl(plane(), ['logs', pod, '-n', namespace, '-c', 'seed']);
}

/**
 * Writes numbered rows into seedtest.w on the writer over its socket, one
 * transaction each, until /tmp/stop-load exists in that container. Resolves
 * to the number of rows written.
 */
function startWriteLoad(pod: string): { stop(): Promise<number> } {
  const script = [
    'i=0',
    'rm -f /tmp/stop-load',
    'while [ ! -e /tmp/stop-load ]; do',
    '  i=$((i + 1))',
    '  MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb --user=root --protocol=socket -e "INSERT INTO seedtest.w (n) VALUES ($i)" && echo "ok $i"',
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

describe('managed cluster: replicas seeded from a copy', { timeout: 1_800_000 }, () => {
  before(async () => {
    const started = performance.now();
    target = await operatorCluster(2);
    cluster = target.cluster;
    note('2-node cluster with the operator installed by its chart', seconds(performance.now() - started));
  });

  after(async () => {
    await releaseOperatorCluster(target, [namespace]);
  });

  it("a new cluster's reader is seeded from the first writer", async () => {
    const started = performance.now();
    kubectl(plane(), ['create', 'namespace', namespace]);
    // Spreading only preferred: the default makes it required while there are
    // as many nodes as instances, and pods made then would keep a third
    // instance off both nodes (existing pods' anti-affinity binds new ones).
    const spread = {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { 'flightdeck.t7.io/cluster': name } }, topologyKey: 'kubernetes.io/hostname' } },
        ],
      },
    };
    kubectl(plane(), ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name, namespace }, spec: { size: '1Gi', readerCount: 1, affinity: spread } }));
    await instancesReady(2);
    note('new cluster of two Ready', seconds(performance.now() - started));
    assert.equal(writer(), `${name}-0`);
    const log = seedLog(`${name}-1`);
    assert.match(log, new RegExp(`seeded from ${name}-0\\.${name}-instances at GTID position \\S+ in \\d+s`));
    // Instance 0 of a new cluster is initialised, not seeded.
    assert.match(seedLog(`${name}-0`), /the entrypoint initialises it/);
    // mysql.user is a view owned by mariadb.sys, which initialisation keeps (rootSql fails on error 1449).
    for (const pod of [`${name}-0`, `${name}-1`]) assert.match(rootSql(pod, "SELECT COUNT(*) FROM mysql.user WHERE User = 'flightdeck_manager'"), /^1$/, pod);
  });

  it('with the writer\'s binary logs purged, readerCount 1 → 2 seeds the new reader from a copy while writes run; it holds exactly the writer\'s data and replicates on', async () => {
    const primary = writer();
    rootSql(primary, 'CREATE DATABASE seedtest; CREATE TABLE seedtest.t (id INT PRIMARY KEY, pad VARCHAR(1000) NOT NULL); CREATE TABLE seedtest.w (n INT PRIMARY KEY)');
    for (let from = 0; from < rows; from += 10_000) {
      rootSql(primary, `SET SESSION max_recursive_iterations = 100000; INSERT INTO seedtest.t WITH RECURSIVE s(n) AS (SELECT ${from + 1} UNION ALL SELECT n + 1 FROM s WHERE n < ${from + 10_000}) SELECT n, REPEAT(MD5(n), 30) FROM s`);
    }
    // Fresh statistics: information_schema's sizes otherwise lag the inserts (a CI run printed 0 MB).
    rootSql(primary, 'ANALYZE TABLE seedtest.t');
    const dataMb = rootSql(primary, "SELECT ROUND((DATA_LENGTH + INDEX_LENGTH) / 1048576) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'seedtest' AND TABLE_NAME = 't'");
    note('data in the copied table', `${dataMb} MB`);
    // Every binary log but the one being written goes: replaying from the first transaction is impossible.
    rootSql(primary, 'FLUSH BINARY LOGS');
    const current = rootSql(primary, 'SHOW MASTER STATUS').split('\t')[0] ?? '';
    // MariaDB keeps a binary log until InnoDB has made its transactions
    // durable (its binlog checkpoint), which a busy machine can delay: the
    // purge is repeated until it has taken everything but the current log.
    const binaryLogs = (): string[] => rootSql(primary, 'SHOW BINARY LOGS').split('\n').map((l) => l.split('\t')[0] ?? '');
    await eventually('the older binary logs purged', () => {
      rootSql(primary, `PURGE BINARY LOGS TO '${current}'`);
      return binaryLogs().length === 1 ? true : undefined;
    }, 120_000);
    assert.deepEqual(binaryLogs(), [current], 'the older binary logs are purged');
    assert.notEqual(current, 'mariadb-bin.000001');

    const load = startWriteLoad(primary);
    const started = performance.now();
    kubectl(plane(), ['patch', 'mysqlcluster', name, '-n', namespace, '--type=merge', '-p', JSON.stringify({ spec: { readerCount: 2 } })]);
    const newReader = `${name}-2`;
    await eventually(`${newReader} Ready`, () => {
      const pod = clusterPods(plane(), namespace, name).find((p) => p.metadata.name === newReader);
      return pod !== undefined && isPodReady(pod) ? true : undefined;
    }, 600_000);
    const readyAfter = performance.now() - started;
    const written = await load.stop();
    await instancesReady(3);
    note('readerCount 1 → 2: new reader Ready after', seconds(readyAfter));
    note('rows written during the scale-up', String(written));
    const log = seedLog(newReader);
    const copied = /received (\S+) in (\d+)s/.exec(log);
    const seeded = /seeded from (\S+) at GTID position (\S+) in (\d+)s/.exec(log);
    assert.ok(copied !== null && seeded !== null, `the seed init container reports the copy:\n${log}`);
    note('seed (copy received, size, total with prepare)', `${copied[2] ?? '?'} s, ${copied[1] ?? '?'}, ${seeded[3] ?? '?'} s from ${seeded[1] ?? '?'}`);
    assert.match(seeded[1] ?? '', new RegExp(`^${name}-1\\.`), 'the healthy reader, not the writer, is the donor');
    assert.ok(written > 0, 'writes ran during the copy');

    await assertSameData(newReader);
    // It replicates on from the copy's position: a write after the copy arrives.
    rootSql(writer(), 'INSERT INTO seedtest.w (n) VALUES (1000000)');
    await assertSameData(newReader);
    const replica = rootSql(newReader, 'SELECT @@read_only, @@gtid_binlog_state');
    assert.match(replica, /^1\t\S+/, 'read-only, with the binary log history of its source');
    const status = clusterStatus();
    const replicating = status.conditions?.find((c) => c.type === 'Replicating');
    assert.equal(replicating?.status, 'True', JSON.stringify(replicating));
  });

  it('a rebuild asked for with the pod annotation discards the reader\'s data and seeds it again', async () => {
    const reader = `${name}-2`;
    const uid = kubectl(plane(), ['get', 'pod', reader, '-n', namespace, '-o', 'jsonpath={.metadata.uid}']);
    rootSql(reader, 'SET sql_log_bin = 0; CREATE DATABASE local_only_on_reader');
    const started = performance.now();
    kubectl(plane(), ['annotate', 'pod', reader, '-n', namespace, 'flightdeck.t7.io/rebuild=now']);
    await eventually(`${reader} recreated and Ready`, () => {
      const pod = clusterPods(plane(), namespace, name).find((p) => p.metadata.name === reader);
      if (pod === undefined || !isPodReady(pod)) return undefined;
      return kubectl(plane(), ['get', 'pod', reader, '-n', namespace, '-o', 'jsonpath={.metadata.uid}']) !== uid ? true : undefined;
    }, 600_000);
    await instancesReady(3);
    note('rebuild on request: Ready again after', seconds(performance.now() - started));
    assert.match(seedLog(reader), /discarding the data directory, as the operator asked/);
    assert.equal(rootSql(reader, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'local_only_on_reader'"), '0');
    await assertSameData(reader);
    const events = kubectl(plane(), ['get', 'events', '-n', namespace, '--field-selector', 'reason=ReplicaRebuilding', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, new RegExp(`${reader} restarts with its data discarded`));
  });
});
