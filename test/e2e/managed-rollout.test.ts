// Changing a managed MySQLCluster's server settings on a local cluster of
// three nodes, the operator installed by its chart, a writer and two readers:
// - an option MariaDB changes at run time (max_connections) is in effect on
//   all three instances with no pod restarted;
// - an option that needs a restart rolls the cluster under a write load:
//   readers first, one at a time, never two instances down at once, the
//   writer moved once (a switchover), then the old writer restarted; no
//   acknowledged write lost. The longest gap between acknowledged writes is
//   printed as a `# managed rollout e2e: …` line;
// - a new image rolls the cluster the same way.
//
// The write client runs in a pod of its own (pod networking is reachable from
// the nodes only, and every instance's pod is replaced during the roll), one
// new connection per write through the writer Service, as PHP sites connect.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { tagImageInNodes, type RunningLocalCluster } from '../env/cluster/cluster.ts';
import { mariadbImageName } from '../env/images/images.ts';
import { kubectl, kubectlResult, waitForReady } from '../env/kubectl.ts';
import { eventually } from '../env/managed-cluster.ts';
import { operatorCluster, releaseOperatorCluster, type OperatorCluster } from '../env/operator-cluster.ts';

const namespace = 'rollout';
const clusterName = 'shop';
const writerHost = `${clusterName}.${namespace}.svc.cluster.local`;
const instances = [0, 1, 2].map((i) => `${clusterName}-${i}`);

let target: OperatorCluster | undefined;
let cluster: RunningLocalCluster;
/** The application user the first test creates, whose writes the rolls watch. */
let user = '';
let password = '';
const plane = (): RunningLocalCluster['controlPlane'] => cluster.controlPlane;

function note(what: string, ms: number): void {
  process.stdout.write(`# managed rollout e2e: ${what}: ${(ms / 1000).toFixed(1)} s\n`);
}

interface Pod {
  metadata: { name: string; uid: string; creationTimestamp: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { containers: { name: string; image: string }[] };
  status: { conditions?: { type: string; status: string }[]; containerStatuses?: { restartCount: number }[] };
}

interface ClusterStatus {
  currentPrimary?: string;
  readyInstances?: number;
  conditions?: { type: string; status: string; reason: string; message: string }[];
  instanceStatuses?: { name: string; settingsError?: string }[];
  lastSwitchover?: { from: string; to: string; reason: string };
}

/** kubectl without blocking the event loop: the write client's output must keep flowing while pods are watched. */
function kubectlAsync(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(plane().binDir, 'kubectl'), ['--kubeconfig', plane().kubeconfig, ...args]);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`kubectl ${args.join(' ')} failed (${code}): ${err.trim()}`));
    });
  });
}

async function instancePods(): Promise<Pod[]> {
  const out = await kubectlAsync(['get', 'pods', '-n', namespace, '-l', `flightdeck.t7.io/cluster=${clusterName}`, '-o', 'json']);
  return (JSON.parse(out) as { items: Pod[] }).items;
}

function clusterStatus(): ClusterStatus {
  return JSON.parse(kubectl(plane(), ['get', 'mysqlcluster', clusterName, '-n', namespace, '-o', 'jsonpath={.status}'])) as ClusterStatus;
}

function isReady(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp === undefined && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** A global variable on one instance, read as root inside its container. */
function variableOn(pod: string, name: string): string {
  const result = kubectlResult(plane(), [
    'exec', pod, '-n', namespace, '-c', 'mariadb', '--',
    'sh', '-c', `MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb --user=root --protocol=socket -N -B -e "SELECT @@global.${name}"`,
  ]);
  return result.status === 0 ? result.stdout.trim() : `(error: ${result.stderr.trim()})`;
}

function setMyCnf(myCnf: string): void {
  kubectl(plane(), ['patch', 'mysqlcluster', clusterName, '-n', namespace, '--type=merge', '-p', JSON.stringify({ spec: { myCnf } })]);
}

async function allInstancesReady(timeoutMs: number): Promise<void> {
  await waitForReady(plane(), 'mysqlcluster', namespace, clusterName, { timeoutMs });
  await eventually('all three instances ready', () => (clusterStatus().readyInstances === 3 ? true : undefined), timeoutMs);
}

interface Ack {
  n: number;
  at: number;
}

/**
 * The write loop, in the client pod: numbered INSERTs, a new connection each,
 * 1 s connect and 3 s overall time-out, a failed write retried with the next
 * number; it stops at EOF on stdin.
 */
const clientScript = [
  'host=$1; user=$2; db=$3',
  '(',
  '  i=0',
  '  while :; do',
  '    i=$((i + 1))',
  '    if timeout 3 mariadb --connect-timeout=1 -h "$host" -u "$user" "$db" -e "INSERT INTO writes (n) VALUES ($i)" 2>/dev/null; then echo "ok $i $(date +%s.%N)"; fi',
  '  done',
  ') &',
  'loop=$!',
  'cat >/dev/null',
  'kill $loop',
  'wait',
].join('\n');

function startWrites(user: string, password: string, database: string): { acks: Ack[]; stop: () => Promise<Ack[]> } {
  const child: ChildProcessWithoutNullStreams = spawn(join(plane().binDir, 'kubectl'), [
    '--kubeconfig', plane().kubeconfig, 'exec', '-i', 'client', '-n', namespace, '--',
    'env', `MYSQL_PWD=${password}`, 'sh', '-c', clientScript, 'client', writerHost, user, database,
  ]);
  const acks: Ack[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const [word, n, at] = line.split(' ');
      if (word === 'ok') acks.push({ n: Number(n), at: Number(at) * 1000 });
    }
  });
  const closed = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      resolve();
    });
  });
  return {
    acks,
    async stop() {
      child.stdin.end();
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await closed;
      clearTimeout(killer);
      return acks;
    },
  };
}

function clientSql(user: string, password: string, database: string, sql: string): string {
  const result = kubectlResult(plane(), ['exec', 'client', '-n', namespace, '--', 'env', `MYSQL_PWD=${password}`, 'mariadb', '--connect-timeout=3', '-h', writerHost, '-u', user, '-N', '-B', database, '-e', sql]);
  assert.equal(result.status, 0, `${sql}: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * Makes `change` to the cluster while a client writes through the writer
 * Service, and waits until every pod was replaced and the roll reported
 * done. Asserts how it went: readers first and the old writer last, never two
 * instances down at once, the writer moved once by a switchover recorded as
 * a rolling restart, a RestartingInstance Event for every pod, and every
 * acknowledged write on the writer. Prints the time and the longest gap.
 */
async function rollUnderWrites(what: string, change: () => void): Promise<void> {
  const before = await instancePods();
  const oldUids = new Map(before.map((p) => [p.metadata.name, p.metadata.uid]));
  const oldWriter = clusterStatus().currentPrimary;
  assert.ok(oldWriter !== undefined);
  // The client numbers its writes from 1 again: an earlier roll's rows would refuse them.
  clientSql(user, password, 'shop', 'DELETE FROM writes');
  const load = startWrites(user, password, 'shop');
  await eventually('writes flowing', () => (load.acks.length >= 5 ? true : undefined), 30_000);

  // Watch the pods while the roll runs: who is down, who is writer, when each pod was replaced.
  const replacedAt = new Map<string, number>();
  const writers: string[] = [];
  let mostDown = 0;
  let downSample = '';
  const watch = { running: true };
  const watcher = (async () => {
    while (watch.running) {
      const pods = await instancePods();
      const down = instances.filter((name) => {
        const pod = pods.find((p) => p.metadata.name === name);
        return pod === undefined || !isReady(pod);
      });
      if (down.length > mostDown) {
        mostDown = down.length;
        downSample = down.join(', ');
      }
      for (const pod of pods) {
        if (pod.metadata.uid !== oldUids.get(pod.metadata.name) && !replacedAt.has(pod.metadata.name)) replacedAt.set(pod.metadata.name, Date.now());
      }
      const writer = pods.find((p) => p.metadata.labels?.['flightdeck.t7.io/role'] === 'writer')?.metadata.name;
      if (writer !== undefined && writers.at(-1) !== writer) writers.push(writer);
      await sleep(200);
    }
  })();

  const started = performance.now();
  change();
  try {
    await eventually(
      'every pod replaced and the roll reported done',
      () => {
        if (replacedAt.size < 3) return undefined;
        const rolling = clusterStatus().conditions?.find((c) => c.type === 'RollingRestart');
        return rolling?.status === 'False' ? true : undefined;
      },
      240_000,
    );
    await allInstancesReady(120_000);
  } finally {
    watch.running = false;
    await watcher;
  }
  note(`${what} → all three restarted and ready`, performance.now() - started);
  const acks = await load.stop();

  // Readers first, the old writer last.
  const order = [...replacedAt.entries()].sort((a, b) => a[1] - b[1]).map(([name]) => name);
  assert.equal(order.at(-1), oldWriter, `restart order ${order.join(', ')}: the old writer must be last`);
  assert.ok(mostDown <= 1, `two instances were down at once: ${downSample}`);
  assert.deepEqual(writers.slice(0, 1), [oldWriter]);
  assert.equal(writers.length, 2, `the writer moved once, not ${writers.join(' → ')}`);
  const switchover = clusterStatus().lastSwitchover;
  assert.ok(switchover !== undefined, 'a switchover is recorded');
  assert.equal(switchover.from, oldWriter);
  assert.match(switchover.reason, /rolling restart/);
  const events = kubectl(plane(), ['get', 'events', '-n', namespace, '--field-selector', 'reason=RestartingInstance', '-o', 'jsonpath={.items[*].message}']);
  for (const pod of instances) assert.match(events, new RegExp(`restarting ${pod} `));

  // Every acknowledged write is on the writer.
  assert.ok(acks.length > 20, `only ${acks.length} writes acknowledged`);
  const present = new Set(clientSql(user, password, 'shop', 'SELECT n FROM writes').split('\n').map(Number));
  assert.deepEqual(acks.filter((a) => !present.has(a.n)).map((a) => a.n), [], 'acknowledged writes missing on the writer');
  const gap = acks.slice(1).reduce((longest, ack, i) => Math.max(longest, ack.at - (acks[i] ?? ack).at), 0);
  note(`${what}, rolled under writes: longest gap between acknowledged writes (${acks.length} acknowledged, writer ${writers.join(' → ')})`, gap);
}

describe('server settings of a managed MySQLCluster on three nodes', () => {
  before(async () => {
    const started = performance.now();
    target = await operatorCluster();
    cluster = target.cluster;
    note('3-node cluster with the operator installed by its chart', performance.now() - started);
  });

  after(async () => {
    await releaseOperatorCluster(target, [namespace]);
  });

  it('a cluster of a writer and two readers, a database, an application user and a client pod', async () => {
    const started = performance.now();
    kubectl(plane(), ['create', 'namespace', namespace]);
    const objects = [
      { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: clusterName, namespace }, spec: { size: '1Gi', readerCount: 2 } },
      { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLDatabase', metadata: { name: 'shop-db', namespace }, spec: { cluster: { name: clusterName }, dbName: 'shop' } },
      {
        apiVersion: 'flightdeck.t7.io/v1',
        kind: 'MySQLUser',
        metadata: { name: 'shop-app', namespace },
        spec: { cluster: { name: clusterName }, username: 'shop_app', host: '%', privileges: [{ database: 'shop', table: '*', grant: 'ALL' }] },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'client', namespace },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'client', image: mariadbImageName, imagePullPolicy: 'IfNotPresent', command: ['sleep', 'infinity'] }] },
      },
    ];
    kubectl(plane(), ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    await allInstancesReady(300_000);
    await waitForReady(plane(), 'mysqldatabase', namespace, 'shop-db', { timeoutMs: 60_000 });
    await waitForReady(plane(), 'mysqluser', namespace, 'shop-app', { timeoutMs: 60_000 });
    kubectl(plane(), ['wait', '-n', namespace, '--for=condition=Ready', 'pod/client', '--timeout=120s']);
    user = 'shop_app';
    password = Buffer.from(kubectl(plane(), ['get', 'secret', 'shop-app-connection', '-n', namespace, '-o', 'jsonpath={.data.password}']), 'base64').toString();
    clientSql(user, password, 'shop', 'CREATE TABLE writes (n INT PRIMARY KEY, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))');
    const rolling = clusterStatus().conditions?.find((c) => c.type === 'RollingRestart');
    assert.equal(rolling?.status, 'False', JSON.stringify(rolling));
    note('MySQLCluster applied → all three instances ready', performance.now() - started);
  });

  it('an option MariaDB changes at run time is applied live on all three instances, no pod restarted', async () => {
    const before = await instancePods();
    assert.equal(before.length, 3);
    assert.notEqual(variableOn(instances[0] ?? '', 'max_connections'), '345');
    const started = performance.now();
    setMyCnf('max_connections = 345\n');
    await eventually('max_connections = 345 on every instance', () => (instances.every((pod) => variableOn(pod, 'max_connections') === '345') ? true : undefined), 60_000);
    note('max_connections changed → in effect on all three', performance.now() - started);
    // Long enough for a wrongly started roll to show.
    await sleep(5000);
    const afterwards = await instancePods();
    const identity = (pods: Pod[]): string[] => pods.map((p) => `${p.metadata.name} ${p.metadata.uid} ${String(p.status.containerStatuses?.[0]?.restartCount)}`).sort();
    assert.deepEqual(identity(afterwards), identity(before), 'no pod was replaced or restarted');
    const status = clusterStatus();
    assert.equal(status.conditions?.find((c) => c.type === 'RollingRestart')?.status, 'False');
    assert.deepEqual(status.instanceStatuses?.filter((i) => i.settingsError !== undefined), []);
  });

  it('an option that needs a restart rolls the cluster: readers one at a time, the writer moved once, no acknowledged write lost', async () => {
    await rollUnderWrites('restart-only option changed', () => {
      setMyCnf('max_connections = 345\ninnodb_log_buffer_size = 32M\n');
    });
    for (const pod of instances) assert.equal(variableOn(pod, 'innodb_log_buffer_size'), String(32 * 1024 * 1024), `${pod} runs with the new option`);
    for (const pod of instances) assert.equal(variableOn(pod, 'max_connections'), '345', `${pod} kept the live option`);
  });

  it('a new image rolls the cluster the same way: every instance runs it, the writer moved once, no acknowledged write lost', async () => {
    // The same content under a new name: to the cluster, a new release of the image.
    const newImage = `${mariadbImageName}-rolled`;
    tagImageInNodes(cluster, mariadbImageName, newImage);
    await rollUnderWrites('image changed', () => {
      kubectl(plane(), ['patch', 'mysqlcluster', clusterName, '-n', namespace, '--type=merge', '-p', JSON.stringify({ spec: { image: newImage } })]);
    });
    const images = (await instancePods()).map((p) => `${p.metadata.name} ${p.spec.containers.find((c) => c.name === 'mariadb')?.image ?? '?'}`).sort();
    assert.deepEqual(images, instances.map((name) => `${name} ${newImage}`));
    // The live option set before survives a roll that did not touch my.cnf.
    for (const pod of instances) assert.equal(variableOn(pod, 'max_connections'), '345', `${pod} kept the live option`);
  });
});
