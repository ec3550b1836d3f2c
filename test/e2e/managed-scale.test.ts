// Scaling, storage growth and re-creation of a managed MySQLCluster, on a
// local cluster of three nodes with the operator installed by its chart:
// readerCount 2 → 1 while the writer is the highest ordinal (spec.primary put
// it there) moves the writer before the StatefulSet shrinks, under a write
// load with no acknowledged write lost; back to 2 reuses the retained volume;
// readerCount 0 leaves a lone writer that takes writes without waiting for an
// acknowledgement, and readers added again make it wait for one;
// a larger spec.size on a StorageClass without expansion is reported, not a
// failure; deleting the cluster keeps its volumes and credentials Secret, and
// the same manifest applied again is Ready with its data. The metrics page
// of the operator is read along the way.
//
// The tests depend on each other in order. Timings are printed as
// `# managed scale e2e: …` lines.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { type RunningLocalCluster } from '../env/cluster/cluster.ts';
import { kubectl, kubectlResult, waitForReady } from '../env/kubectl.ts';
import { clusterPods, eventually, isPodReady, operatorDeployment, operatorNamespace, writerPod } from '../env/managed-cluster.ts';
import { operatorCluster, releaseOperatorCluster, type OperatorCluster } from '../env/operator-cluster.ts';
import { parseSamples, sumOf, type Sample } from '../env/prometheus.ts';

const namespace = 'scale-e2e';
const name = 'scaled';
const writerHost = `${name}.${namespace}.svc.cluster.local`;
const instanceHost = (index: number): string => `${name}-${index}.${name}-instances.${namespace}.svc.cluster.local`;
const user = 'app';
const database = 'app';

let target: OperatorCluster | undefined;
let cluster: RunningLocalCluster;
const plane = (): RunningLocalCluster['controlPlane'] => cluster.controlPlane;

function note(what: string, ms: number): void {
  process.stdout.write(`# managed scale e2e: ${what}: ${(ms / 1000).toFixed(1)} s\n`);
}

function clusterManifest(spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name, namespace }, spec });
}

function patchCluster(spec: Record<string, unknown>): void {
  kubectl(plane(), ['patch', 'mysqlcluster', name, '-n', namespace, '--type=merge', '-p', JSON.stringify({ spec })]);
}

interface ClusterStatus {
  currentPrimary?: string;
  readyInstances?: number;
  lastSwitchover?: { from: string; to: string; reason: string };
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

function clusterStatus(): ClusterStatus {
  return JSON.parse(kubectl(plane(), ['get', 'mysqlcluster', name, '-n', namespace, '-o', 'jsonpath={.status}']) || '{}') as ClusterStatus;
}

function writer(): string | undefined {
  return writerPod(plane(), namespace, name)?.metadata.name;
}

/** What the cluster and its pods look like, for a failure's message. */
function describeCluster(): string {
  const pods = clusterPods(plane(), namespace, name).map((p) => `${p.metadata.name} ${p.status.phase ?? '?'} ready=${String(isPodReady(p))} role=${p.metadata.labels?.['flightdeck.t7.io/role'] ?? '-'}`);
  return `status: ${kubectlResult(plane(), ['get', 'mysqlcluster', name, '-n', namespace, '-o', 'jsonpath={.status}']).stdout}\npods: ${pods.join('; ')}`;
}

/** Ready, with `count` instances ready (a former writer rejoined as a reader, not quarantined). */
async function instancesReady(count: number): Promise<void> {
  try {
    await waitForReady(plane(), 'mysqlcluster', namespace, name, { timeoutMs: 240_000 });
    await eventually(`${count} instances ready`, () => (clusterStatus().readyInstances === count ? true : undefined), 240_000);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${describeCluster()}`, { cause: error });
  }
}

/** SQL as the application user, with the MariaDB client inside `fromPod` (pod networking is reachable only from the nodes). */
function appSql(fromPod: string, host: string, password: string, sql: string): string {
  const result = kubectlResult(plane(), ['exec', fromPod, '-n', namespace, '--', 'env', `MYSQL_PWD=${password}`, 'mariadb', '--connect-timeout=3', '-h', host, '-u', user, '-N', '-B', database, '-e', sql]);
  assert.equal(result.status, 0, `${sql} on ${host}: ${result.stderr}`);
  return result.stdout.trim();
}

/** A ready pod of the cluster that is not the writer and is not `avoid`: where clients run from. */
function clientPod(avoid?: string): string {
  const current = writer();
  const pod = clusterPods(plane(), namespace, name).find((p) => p.metadata.name !== current && p.metadata.name !== avoid && isPodReady(p));
  assert.ok(pod !== undefined, 'no reader pod to run a client from');
  return pod.metadata.name;
}

/**
 * Writes numbered rows through the writer Service from inside `fromPod` for
 * `seconds`, each write a new connection (as PHP sites do); resolves to the
 * numbers acknowledged.
 */
function writeLoad(fromPod: string, password: string, table: string, seconds: number): Promise<number[]> {
  const script = [
    'i=0; end=$(($(date +%s) + $1))',
    'while [ "$(date +%s)" -lt "$end" ]; do',
    '  i=$((i + 1))',
    `  if timeout 3 mariadb --connect-timeout=1 -h ${writerHost} -u ${user} ${database} -e "INSERT INTO ${table} (n) VALUES ($i)" 2>/dev/null; then echo "ok $i"; fi`,
    'done',
  ].join('\n');
  const child = spawn(join(plane().binDir, 'kubectl'), ['--kubeconfig', plane().kubeconfig, 'exec', '-i', fromPod, '-n', namespace, '--', 'env', `MYSQL_PWD=${password}`, 'sh', '-s', String(seconds)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.end(script);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      resolve(
        out
          .split('\n')
          .filter((l) => l.startsWith('ok '))
          .map((l) => Number(l.slice(3))),
      );
    });
  });
}

/** The operator's /metrics, read inside its pod (its port is on the pod network). */
function operatorMetrics(): Sample[] {
  const script = "fetch('http://127.0.0.1:8080/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))";
  return parseSamples(kubectl(plane(), ['exec', '-n', operatorNamespace, `deploy/${operatorDeployment}`, '--', '/usr/local/bin/node', '-e', script]));
}

function clusterSeries(samples: readonly Sample[]): Sample[] {
  return samples.filter((s) => s.name.startsWith('flightdeck_mysqlcluster_') && s.labels.namespace === namespace && s.labels.cluster === name);
}

function claimUid(claim: string): string {
  return kubectl(plane(), ['get', 'pvc', claim, '-n', namespace, '-o', 'jsonpath={.metadata.uid}']);
}

let password = '';

describe('scaling, storage growth and re-creation of a managed MySQLCluster on three nodes', () => {
  before(async () => {
    const started = performance.now();
    target = await operatorCluster();
    cluster = target.cluster;
    note('3-node cluster with the operator installed by its chart', performance.now() - started);
  });

  after(async () => {
    await releaseOperatorCluster(target, [namespace]);
  });

  it('a cluster of a writer and two readers, with a database and a user', async () => {
    const started = performance.now();
    kubectl(plane(), ['create', 'namespace', namespace]);
    kubectl(plane(), ['apply', '-f', '-'], clusterManifest({ size: '1Gi', readerCount: 2 }));
    const objects = [
      { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLDatabase', metadata: { name: database, namespace }, spec: { cluster: { name }, dbName: database } },
      { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLUser', metadata: { name: user, namespace }, spec: { cluster: { name }, username: user, privileges: [{ database, grant: 'ALL' }] } },
    ];
    for (const object of objects) kubectl(plane(), ['apply', '-f', '-'], JSON.stringify(object));
    await instancesReady(3);
    await waitForReady(plane(), 'mysqluser', namespace, user, { timeoutMs: 120_000 });
    await waitForReady(plane(), 'mysqldatabase', namespace, database, { timeoutMs: 120_000 });
    password = Buffer.from(kubectl(plane(), ['get', 'secret', `${user}-connection`, '-n', namespace, '-o', 'jsonpath={.data.password}']), 'base64').toString();
    note('cluster, database and user Ready', performance.now() - started);
  });

  it('spec.primary: 2 puts the writer on the highest ordinal', async () => {
    patchCluster({ primary: 2 });
    await eventually('the writer on scaled-2', () => (writer() === `${name}-2` && clusterStatus().currentPrimary === `${name}-2` ? true : undefined), 120_000);
    await instancesReady(3);
  });

  it('readerCount 2 → 1 moves the writer off the ordinal that goes before the pod goes, losing no acknowledged write', async () => {
    const from = clientPod(`${name}-2`);
    appSql(from, writerHost, password, 'CREATE TABLE scaled_down (n INT PRIMARY KEY)');
    const claimBefore = claimUid(`data-${name}-2`);
    const load = writeLoad(from, password, 'scaled_down', 40);
    await sleep(5000);
    const started = performance.now();
    // spec.primary may not name an instance that no longer exists (CEL), so it goes with the scale-down.
    patchCluster({ readerCount: 1, primary: null });
    await eventually('two instances left', () => {
      const pods = clusterPods(plane(), namespace, name);
      return pods.length === 2 && pods.every((p) => p.metadata.name !== `${name}-2`) ? true : undefined;
    }, 180_000);
    note('readerCount 1 → the writer moved and scaled-2 removed', performance.now() - started);
    const acknowledged = await load;
    assert.ok(acknowledged.length > 10, `only ${acknowledged.length} writes acknowledged`);
    const present = new Set(appSql(clientPod(), writerHost, password, 'SELECT n FROM scaled_down').split('\n').map(Number));
    assert.deepEqual(acknowledged.filter((n) => !present.has(n)), [], 'acknowledged writes missing on the writer');

    // The switchover was the scale-down's own, decided while scaled-2 was still running: had the
    // StatefulSet removed the pod first, the reason would say its pod was terminating.
    const status = clusterStatus();
    assert.equal(status.lastSwitchover?.from, `${name}-2`);
    assert.match(status.lastSwitchover.reason, /^scaling down to 2 instances removes scaled-2/);
    assert.notEqual(writer(), `${name}-2`);
    assert.equal(kubectl(plane(), ['get', 'statefulset', name, '-n', namespace, '-o', 'jsonpath={.spec.replicas}']), '2');
    assert.equal(kubectl(plane(), ['get', 'pdb', `${name}-readers`, '-n', namespace, '-o', 'jsonpath={.spec.minAvailable}']), '0');
    // The removed instance's volume is kept.
    assert.equal(claimUid(`data-${name}-2`), claimBefore);
    await instancesReady(2);

    const samples = operatorMetrics();
    assert.equal(sumOf(samples, 'flightdeck_mysqlcluster_switchovers_total', { namespace, cluster: name, reason: 'scaleDown', result: 'succeeded' }), 1);
    assert.equal(sumOf(samples, 'flightdeck_mysqlcluster_switchovers_total', { namespace, cluster: name, reason: 'specPrimary', result: 'succeeded' }), 1);
    assert.ok(sumOf(samples, 'flightdeck_mysqlcluster_switchover_duration_seconds_count', { namespace, cluster: name }) >= 2);
    const writers = clusterSeries(samples).filter((s) => s.name === 'flightdeck_mysqlcluster_writer');
    assert.deepEqual(writers.map((s) => [s.labels.instance, s.value]), [[writer(), 1]]);
    const lagged = clusterSeries(samples).filter((s) => s.name === 'flightdeck_mysqlcluster_replication_lag_seconds').map((s) => s.labels.instance);
    assert.deepEqual(lagged, [clientPod()], 'lag of the one reader left, and of no removed instance');
  });

  it('readerCount back to 2: the retained volume is reused and the instance catches up', async () => {
    const claimBefore = claimUid(`data-${name}-2`);
    const rows = appSql(clientPod(), writerHost, password, 'SELECT COUNT(*) FROM scaled_down');
    const started = performance.now();
    patchCluster({ readerCount: 2 });
    await instancesReady(3);
    note('readerCount 2 → three instances ready', performance.now() - started);
    assert.equal(claimUid(`data-${name}-2`), claimBefore);
    const onReturned = await eventually('scaled-2 caught up', () => {
      const count = appSql(clientPod(), instanceHost(2), password, 'SELECT COUNT(*) FROM scaled_down');
      return count === rows ? count : undefined;
    }, 60_000);
    assert.equal(onReturned, rows);
  });

  it('readerCount 0: the lone writer takes writes at once, with nobody to wait for; with readers back it waits for one again', async () => {
    /** @@rpl_semi_sync_master_enabled of the writer, asked through the writer Service from inside `fromPod`. */
    const writerWaits = (fromPod: string): string => appSql(fromPod, writerHost, password, 'SELECT @@global.rpl_semi_sync_master_enabled');
    const started = performance.now();
    patchCluster({ readerCount: 0 });
    await eventually('one instance left', () => (clusterPods(plane(), namespace, name).length === 1 ? true : undefined), 180_000);
    await instancesReady(1);
    note('readerCount 0 → one instance ready', performance.now() - started);
    const lone = `${name}-0`;
    assert.equal(writer(), lone);
    await eventually('semi-sync off on the lone writer', () => (writerWaits(lone) === '0' ? true : undefined), 30_000);
    // A semi-sync writer with no reader made every write wait for good: the client's own limit ends such a wait.
    const write = kubectlResult(plane(), ['exec', lone, '-n', namespace, '--', 'timeout', '15', 'env', `MYSQL_PWD=${password}`, 'mariadb', '--connect-timeout=3', '-h', writerHost, '-u', user, database, '-e', 'CREATE TABLE alone (n INT PRIMARY KEY); INSERT INTO alone VALUES (1)']);
    assert.equal(write.status, 0, `a write to the lone writer: ${write.stderr}`);

    patchCluster({ readerCount: 2 });
    await instancesReady(3);
    await eventually('semi-sync on again', () => (writerWaits(clientPod()) === '1' ? true : undefined), 30_000);
    appSql(clientPod(), writerHost, password, 'INSERT INTO alone VALUES (2)');
    for (const index of [1, 2]) {
      await eventually(`scaled-${index} has both rows`, () => (appSql(clientPod(), instanceHost(index), password, 'SELECT COUNT(*) FROM alone') === '2' ? true : undefined), 60_000);
    }
    note('readerCount 0 → 2 → three instances ready, semi-sync on', performance.now() - started);
  });

  it('a larger size on a StorageClass without expansion is reported, and the cluster stays Ready', async () => {
    patchCluster({ size: '2Gi' });
    const condition = await eventually('StorageResized', () => {
      const found = clusterStatus().conditions?.find((c) => c.type === 'StorageResized');
      return found?.status === 'False' ? found : undefined;
    }, 60_000);
    assert.equal(condition.reason, 'ExpansionNotAllowed');
    assert.match(condition.message, /^spec\.size asks for 2Gi, but StorageClass \S+ does not allow volume expansion .*data-scaled-0 \(1Gi\)/);
    assert.equal(kubectl(plane(), ['get', 'pvc', `data-${name}-0`, '-n', namespace, '-o', 'jsonpath={.spec.resources.requests.storage}']), '1Gi');
    const shrink = kubectlResult(plane(), ['patch', 'mysqlcluster', name, '-n', namespace, '--type=merge', '-p', '{"spec":{"size":"1Gi"}}']);
    assert.notEqual(shrink.status, 0);
    assert.match(shrink.stderr, /storage cannot shrink/);
    await waitForReady(plane(), 'mysqlcluster', namespace, name, { timeoutMs: 10_000 });
  });

  it('deleted and applied again, the cluster gets its volumes and credentials back: Ready, with its data', async () => {
    const rows = appSql(clientPod(), writerHost, password, 'SELECT COUNT(*) FROM scaled_down');
    const credentials = kubectl(plane(), ['get', 'secret', `${name}-credentials`, '-n', namespace, '-o', 'jsonpath={.metadata.uid}']);
    const claims = [0, 1, 2].map((index) => `data-${name}-${index}`);
    const claimUids = claims.map(claimUid);
    kubectl(plane(), ['delete', 'mysqlcluster', name, '-n', namespace, '--wait=true', '--timeout=120s']);
    await eventually('the instances gone', () => (clusterPods(plane(), namespace, name).length === 0 ? true : undefined), 180_000);
    assert.equal(kubectl(plane(), ['get', 'secret', `${name}-credentials`, '-n', namespace, '-o', 'jsonpath={.metadata.uid}']), credentials, 'the credentials Secret was kept');
    assert.deepEqual(claims.map(claimUid), claimUids, 'the three volumes were kept');
    await eventually('no metrics of the deleted cluster', () => (clusterSeries(operatorMetrics()).length === 0 ? true : undefined), 30_000);

    const started = performance.now();
    kubectl(plane(), ['apply', '-f', '-'], clusterManifest({ size: '1Gi', readerCount: 2 }));
    await instancesReady(3);
    note('re-created → three instances ready', performance.now() - started);
    assert.deepEqual(claims.map(claimUid), claimUids, 'the instances run on the kept volumes');
    await waitForReady(plane(), 'mysqluser', namespace, user, { timeoutMs: 120_000 });
    assert.equal(appSql(clientPod(), writerHost, password, 'SELECT COUNT(*) FROM scaled_down'), rows);
    const events = kubectl(plane(), ['get', 'events', '-n', namespace, '--field-selector', `involvedObject.kind=MySQLCluster,involvedObject.name=${name},reason=CredentialsAdopted`, '-o', 'name']);
    assert.notEqual(events, '', 'a CredentialsAdopted Event');
  });
});
