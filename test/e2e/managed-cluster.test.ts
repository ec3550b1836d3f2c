// What issue 8 promises a user, on a local cluster of three nodes with real
// pods, the operator installed by its chart: the problem statement's
// MySQLCluster (size 20Gi, readerCount 2) and the original operator's form
// (replicas: 3, persistence) become working replicated clusters; a database
// and a user in another namespace are refused with a message that says what
// to set, then work once it is set; a row written through the writer Service
// is read through the reader Service; deleting the writer's pod switches
// over, killing its server fails over, and draining its node moves the
// writer first — each time under a write load, with no acknowledged write
// lost.
//
// The tests depend on each other in order, like the steps of a user's
// session. Timings are printed as `# managed e2e: …` lines.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { type RunningLocalCluster } from '../env/cluster/cluster.ts';
import { kubectl, kubectlResult, waitForReady } from '../env/kubectl.ts';
import { clusterPods, eventually, writerPod as labelledWriter, type ClusterPod } from '../env/managed-cluster.ts';
import { operatorCluster, releaseOperatorCluster, type OperatorCluster } from '../env/operator-cluster.ts';
import { provisionerName } from '../env/cluster/storage.ts';
import { repoRoot } from '../env/paths.ts';

/** The manifests that must apply and work unchanged (../shared/examples beside the checkout, as in CI). */
const sharedExamples = join(repoRoot, '../shared/examples');

function note(what: string, ms: number): void {
  process.stdout.write(`# managed e2e: ${what}: ${(ms / 1000).toFixed(1)} s\n`);
}

const dbNamespace = 'my-db-namespace';
const clusterName = 'mysqlcluster-sample';
const writerHost = `${clusterName}.${dbNamespace}.svc.cluster.local`;
const readerHost = `${clusterName}-readers.${dbNamespace}.svc.cluster.local`;

let target: OperatorCluster | undefined;
let cluster: RunningLocalCluster;
const plane = (): RunningLocalCluster['controlPlane'] => cluster.controlPlane;

type Pod = ClusterPod;

function pods(namespace: string, cluster: string): Pod[] {
  return clusterPods(plane(), namespace, cluster);
}

function writerPod(namespace: string, cluster: string): Pod | undefined {
  return labelledWriter(plane(), namespace, cluster);
}

function connectionPassword(namespace: string, secret: string): string {
  return Buffer.from(kubectl(plane(), ['get', 'secret', secret, '-n', namespace, '-o', 'jsonpath={.data.password}']), 'base64').toString();
}

/** SQL as an application user, run with the MariaDB client inside `fromPod` (pod networking is reachable only from the nodes). */
function appSql(fromPod: string, host: string, user: string, password: string, database: string, sql: string): string {
  const result = kubectlResult(plane(), [
    'exec', fromPod, '-n', dbNamespace, '--',
    'env', `MYSQL_PWD=${password}`, 'mariadb', '--connect-timeout=3', '-h', host, '-u', user, '-N', '-B', database, '-e', sql,
  ]);
  assert.equal(result.status, 0, `${sql} on ${host}: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * A client writing numbered rows through the writer Service from inside a
 * pod, each write a new connection (as PHP sites do), printing every
 * acknowledged number with its time. `stop()` returns them.
 */
function startWriteLoad(fromPod: string, user: string, password: string, database: string, table: string, seconds: number): { done: Promise<{ n: number; at: number }[]> } {
  const script = [
    'i=0; end=$(($(date +%s) + $1))',
    'while [ "$(date +%s)" -lt "$end" ]; do',
    '  i=$((i + 1))',
    `  if timeout 3 mariadb --connect-timeout=1 -h ${writerHost} -u ${user} ${database} -e "INSERT INTO ${table} (n) VALUES ($i)" 2>/dev/null; then echo "ok $i $(date +%s.%N)"; fi`,
    'done',
  ].join('\n');
  const child = spawn(join(plane().binDir, 'kubectl'), ['--kubeconfig', plane().kubeconfig, 'exec', '-i', fromPod, '-n', dbNamespace, '--', 'env', `MYSQL_PWD=${password}`, 'sh', '-s', String(seconds)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.end(script);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const done = new Promise<{ n: number; at: number }[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      resolve(
        out
          .split('\n')
          .filter((l) => l.startsWith('ok '))
          .map((l) => {
            const [, n, at] = l.split(' ');
            return { n: Number(n), at: Number(at) * 1000 };
          }),
      );
    });
  });
  return { done };
}

function longestGapMs(acks: readonly { at: number }[]): number {
  let gap = 0;
  for (let i = 1; i < acks.length; i++) gap = Math.max(gap, (acks[i]?.at ?? 0) - (acks[i - 1]?.at ?? 0));
  return gap;
}

const user = 'my_user';
const database = 'my_database';
let password = '';

function podReady(pod: Pod): boolean {
  return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** A running pod of the cluster that stays (not the writer): where clients run from. */
function clientPod(): string {
  const writer = writerPod(dbNamespace, clusterName)?.metadata.name;
  const other = pods(dbNamespace, clusterName).find(
    (p) => p.metadata.name !== writer && p.metadata.deletionTimestamp === undefined && p.status.phase === 'Running' && podReady(p),
  );
  assert.ok(other !== undefined, 'no reader pod to run a client from');
  return other.metadata.name;
}

/** Runs a write load while `disrupt` runs, then checks that every acknowledged write is on the writer; returns the longest gap. */
async function underWriteLoad(table: string, disrupt: () => Promise<void>): Promise<{ gapMs: number; acknowledged: number }> {
  const from = clientPod();
  appSql(from, writerHost, user, password, database, `CREATE TABLE ${table} (n INT PRIMARY KEY, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))`);
  const load = startWriteLoad(from, user, password, database, table, 35);
  await sleep(5000);
  await disrupt();
  const acks = await load.done;
  assert.ok(acks.length > 10, `only ${acks.length} writes acknowledged`);
  const present = new Set(appSql(clientPod(), writerHost, user, password, database, `SELECT n FROM ${table}`).split('\n').map(Number));
  const missing = acks.filter((a) => !present.has(a.n)).map((a) => a.n);
  assert.deepEqual(missing, [], 'acknowledged writes missing on the writer');
  return { gapMs: longestGapMs(acks), acknowledged: acks.length };
}

describe('a managed MySQLCluster on three nodes', { skip: existsSync(sharedExamples) ? false : '../shared/examples is not beside this checkout' }, () => {
  before(async () => {
    const started = performance.now();
    target = await operatorCluster();
    cluster = target.cluster;
    note('3-node cluster with the operator installed by its chart', performance.now() - started);
  });

  after(async () => {
    await releaseOperatorCluster(target, [dbNamespace, 'default']);
  });

  it("the problem statement's objects: the cluster runs a writer and two readers on three nodes", async () => {
    const started = performance.now();
    kubectl(plane(), ['create', 'namespace', dbNamespace]);
    kubectl(plane(), ['apply', '-f', join(sharedExamples, 'seed-article.yaml')]);
    await waitForReady(plane(), 'mysqlcluster', dbNamespace, clusterName, { timeoutMs: 240_000 });
    note('MySQLCluster applied → Ready (the writer takes writes)', performance.now() - started);
    await allInstancesBack();
    note('MySQLCluster applied → all three instances ready', performance.now() - started);
    const instances = pods(dbNamespace, clusterName);
    assert.equal(instances.length, 3);
    assert.equal(new Set(instances.map((p) => p.spec.nodeName)).size, 3, 'instances spread over the three nodes');
    const status = JSON.parse(kubectl(plane(), ['get', 'mysqlcluster', clusterName, '-n', dbNamespace, '-o', 'jsonpath={.status}'])) as {
      currentPrimary?: string;
      readyInstances?: number;
      instanceStatuses?: { name: string; role: string }[];
    };
    assert.equal(status.currentPrimary, writerPod(dbNamespace, clusterName)?.metadata.name);
    assert.equal(status.instanceStatuses?.filter((i) => i.role === 'Reader').length, 2);
    const pvcs = JSON.parse(kubectl(plane(), ['get', 'pvc', '-n', dbNamespace, '-o', 'json'])) as { items: { status: { phase: string; capacity?: { storage?: string } } }[] };
    assert.deepEqual(pvcs.items.map((p) => [p.status.phase, p.status.capacity?.storage]), [['Bound', '20Gi'], ['Bound', '20Gi'], ['Bound', '20Gi']]);
  });

  it('the database and user in another namespace are refused with what to set; once set, they work', async () => {
    const refused = await waitForReady<{ status: { conditions: { type: string; message: string }[] } }>(plane(), 'mysqldatabase', 'default', 'my-database', {
      status: 'False',
      reason: 'NamespaceNotAllowed',
      timeoutMs: 60_000,
    });
    assert.match(refused.status.conditions.find((c) => c.type === 'Ready')?.message ?? '', /spec\.allowedNamespaces: \{from: All\}/);
    kubectl(plane(), ['patch', 'mysqlcluster', clusterName, '-n', dbNamespace, '--type=merge', '-p', '{"spec":{"allowedNamespaces":{"from":"All"}}}']);
    await waitForReady(plane(), 'mysqldatabase', 'default', 'my-database', { timeoutMs: 60_000 });
    await waitForReady(plane(), 'mysqluser', 'default', 'my-user', { timeoutMs: 60_000 });
    password = connectionPassword('default', 'my-user-connection');
  });

  it('a row written through the writer Service is read through the reader Service', async () => {
    const from = clientPod();
    assert.equal(appSql(from, writerHost, user, password, database, "CREATE TABLE notes (id INT PRIMARY KEY, text VARCHAR(40)); INSERT INTO notes VALUES (1, 'hello'); SELECT @@read_only"), '0');
    const read = await eventually('the row on a reader', () => {
      const out = appSql(from, readerHost, user, password, database, 'SELECT @@read_only, text FROM notes');
      return out === '' ? undefined : out;
    }, 30_000);
    assert.equal(read, '1\thello');
  });

  it("deleting the writer's pod switches over first: no acknowledged write lost", async () => {
    const old = writerPod(dbNamespace, clusterName)?.metadata.name;
    assert.ok(old !== undefined);
    const { gapMs, acknowledged } = await underWriteLoad('on_delete', async () => {
      kubectl(plane(), ['delete', 'pod', old, '-n', dbNamespace, '--wait=false']);
      await eventually('a new writer', () => {
        const now = writerPod(dbNamespace, clusterName)?.metadata.name;
        return now !== undefined && now !== old ? now : undefined;
      }, 60_000);
    });
    note(`pod delete: longest gap between acknowledged writes (${acknowledged} acknowledged)`, gapMs);
    const last = JSON.parse(kubectl(plane(), ['get', 'mysqlcluster', clusterName, '-n', dbNamespace, '-o', 'jsonpath={.status.lastSwitchover}'])) as { from: string };
    assert.equal(last.from, old);
    await allInstancesBack();
  });

  /** Ready, and every instance ready again: a former writer has rejoined as a reader (not quarantined). */
  async function allInstancesBack(): Promise<void> {
    await waitForReady(plane(), 'mysqlcluster', dbNamespace, clusterName, { timeoutMs: 120_000 });
    await eventually('all three instances ready', () => {
      const status = JSON.parse(kubectl(plane(), ['get', 'mysqlcluster', clusterName, '-n', dbNamespace, '-o', 'jsonpath={.status}'])) as { readyInstances?: number };
      return status.readyInstances === 3 ? true : undefined;
    }, 180_000);
  }

  it("killing the writer's server fails over: no acknowledged write lost", async () => {
    // The kubelet restarts a killed container within seconds; a failover must not wait for that here.
    kubectl(plane(), ['patch', 'mysqlcluster', clusterName, '-n', dbNamespace, '--type=merge', '-p', '{"spec":{"replication":{"failoverAfterSeconds":1}}}']);
    await allInstancesBack();
    const old = writerPod(dbNamespace, clusterName);
    assert.ok(old !== undefined);
    const serverId = 100 + Number(old.metadata.name.slice(old.metadata.name.lastIndexOf('-') + 1));
    const { gapMs, acknowledged } = await underWriteLoad('on_kill', async () => {
      // The container's main process, found from the host (the nodes are namespaces of this machine).
      const pgrep = spawnSync('pgrep', ['-f', `mariadbd --defaults-extra-file.*--server-id=${serverId}$`], { encoding: 'utf8' });
      const pid = Number(pgrep.stdout.trim().split('\n')[0]);
      assert.ok(Number.isInteger(pid) && pid > 1, `no mariadbd with server id ${serverId} on this machine: ${pgrep.stdout}`);
      process.kill(pid, 'SIGKILL');
      await eventually('a failover', () => {
        const now = writerPod(dbNamespace, clusterName)?.metadata.name;
        return now !== undefined && now !== old.metadata.name ? now : undefined;
      }, 60_000);
    });
    note(`kill -9 of the writer: longest gap between acknowledged writes (${acknowledged} acknowledged)`, gapMs);
    const last = JSON.parse(kubectl(plane(), ['get', 'mysqlcluster', clusterName, '-n', dbNamespace, '-o', 'jsonpath={.status.lastFailover}'])) as { from: string; durationSeconds: string };
    assert.equal(last.from, old.metadata.name);
    note('failover itself (status.lastFailover.durationSeconds)', Number(last.durationSeconds) * 1000);
    // Its unacknowledged last transaction, if any, is discarded by MariaDB's recovery of a semi-sync writer: it rejoins.
    await allInstancesBack();
  });

  it("draining the writer's node moves the writer first: no acknowledged write lost", async () => {
    const old = writerPod(dbNamespace, clusterName);
    const node = old?.spec.nodeName;
    assert.ok(old !== undefined && node !== undefined);
    const { gapMs, acknowledged } = await underWriteLoad('on_drain', () => {
      const drain = kubectlResult(plane(), ['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=120s']);
      assert.equal(drain.status, 0, drain.stderr);
      assert.notEqual(writerPod(dbNamespace, clusterName)?.metadata.name, old.metadata.name);
      return Promise.resolve();
    });
    note(`drain of the writer's node: longest gap between acknowledged writes (${acknowledged} acknowledged)`, gapMs);
    const last = JSON.parse(kubectl(plane(), ['get', 'mysqlcluster', clusterName, '-n', dbNamespace, '-o', 'jsonpath={.status.lastSwitchover}'])) as { from: string; reason: string };
    assert.equal(last.from, old.metadata.name);
    // Its instance waits for the node (one instance per node is required with three nodes), then rejoins.
    kubectl(plane(), ['uncordon', node]);
    await allInstancesBack();
  });

  it("the original operator's form (replicas: 3, persistence) gives the same kind of cluster", async () => {
    // Its objects reuse the names my-database and my-user in default; and its
    // persistence names the StorageClass rook-cephfs, which a user migrating
    // from it has: here one of the local provisioner's.
    kubectl(plane(), ['delete', 'mysqluser', 'my-user', '-n', 'default', '--wait=true']);
    kubectl(plane(), ['delete', 'mysqldatabase', 'my-database', '-n', 'default', '--wait=true']);
    kubectl(
      plane(),
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'rook-cephfs' }, provisioner: provisionerName, volumeBindingMode: 'WaitForFirstConsumer' }),
    );
    const started = performance.now();
    kubectl(plane(), ['apply', '-f', join(sharedExamples, 'original-operator.yaml')]);
    await waitForReady(plane(), 'mysqlcluster', 'default', 'fdo', { timeoutMs: 240_000 });
    note('original-form MySQLCluster → Ready', performance.now() - started);
    assert.equal(pods('default', 'fdo').length, 3);
    await waitForReady(plane(), 'mysqluser', 'default', 'my-user', { timeoutMs: 60_000 });
  });
});
