// The operator under failure: killed mid-work, MariaDB stopped, the API
// server restarted, and two operators where the leader dies.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as mariadb from 'mariadb';
import { stringify } from 'yaml';
import { restartApiServer } from '../env/controlplane.ts';
import { externalClusterManifests } from '../env/external-cluster.ts';
import { kubectl, waitForReady, type KubectlTarget } from '../env/kubectl.ts';
import { startMariaDB, stopMariaDB, type MariaDBInstance } from '../env/mariadb.ts';
import { operatorMetric, startOperator, stopOperator, type OperatorProcess } from '../env/operator.ts';
import { isAlive } from '../env/processes.ts';
import { startTestEnvironment, stopTestEnvironment, type TestEnvironment } from '../env/shared.ts';

const api = 'flightdeck.t7.io/v1';
const cluster = { name: 'shared', namespace: 'db-system' };
const fastRetries = ['--resync-interval', '2', '--max-retry-delay', '2'];

let env: TestEnvironment;
let k: KubectlTarget;
let server: MariaDBInstance;
const operators: OperatorProcess[] = [];

function apply(manifests: object[]): void {
  kubectl(k, ['apply', '-f', '-'], manifests.map((m) => stringify(m)).join('---\n'));
}

async function admin<T>(work: (conn: mariadb.Connection) => Promise<T>): Promise<T> {
  const conn = await mariadb.createConnection({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword });
  try {
    return await work(conn);
  } finally {
    await conn.end();
  }
}

interface ReadyCount {
  ready: number;
  total: number;
}

function readyCount(kind: string, namespace: string): ReadyCount {
  const list = JSON.parse(kubectl(k, ['get', kind, '-n', namespace, '-o', 'json'])) as {
    items: { status?: { conditions?: { type: string; status: string }[] } }[];
  };
  const ready = list.items.filter((i) => i.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  return { ready, total: list.items.length };
}

async function waitAllReady(kind: string, namespace: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { ready } = readyCount(kind, namespace);
    if (ready === count) return;
    if (Date.now() > deadline) throw new Error(`${ready}/${count} ${kind} in ${namespace} Ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}


/** The operator of the tests before, or a new one when it is gone, so that one failure does not cascade. */
async function runningOperator(): Promise<OperatorProcess> {
  const last = operators.at(-1);
  if (last !== undefined && isAlive(last.pid)) return last;
  const operator = await startOperator({ kubeconfig: k.kubeconfig, dir: env.dir, name: `operator-${operators.length + 1}`, args: [...fastRetries, '--leader-elect', 'false'] });
  operators.push(operator);
  return operator;
}

before(async () => {
  env = await startTestEnvironment(1);
  k = env.controlPlane;
  const first = env.mariadb[0];
  assert.ok(first);
  server = first;
  for (const ns of ['db-system', 'bulk', 'late']) kubectl(k, ['create', 'namespace', ns]);
  apply(externalClusterManifests(server, cluster));
});

after(async () => {
  for (const operator of operators) if (isAlive(operator.pid)) await stopOperator(operator);
  await stopTestEnvironment(env);
});

describe('the operator killed while it works', () => {
  it('after SIGKILL amid 200 objects and a restart, all become Ready with exact users and grants', async () => {
    const objects: object[] = [];
    for (let i = 0; i < 100; i++) {
      objects.push({ apiVersion: api, kind: 'MySQLDatabase', metadata: { name: `db-${i}`, namespace: 'bulk' }, spec: { cluster, dbName: `bulk_${i}` } });
      objects.push({
        apiVersion: api,
        kind: 'MySQLUser',
        metadata: { name: `user-${i}`, namespace: 'bulk' },
        spec: { cluster, username: `bulk_user_${i}`, privileges: [{ database: `bulk_${i}`, grants: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] }] },
      });
    }
    // The objects wait for the operator, which is then killed as soon as the first are Ready.
    apply(objects);
    const first = await startOperator({ kubeconfig: k.kubeconfig, dir: env.dir, name: 'operator-1', args: [...fastRetries, '--leader-elect', 'false'] });
    operators.push(first);
    // Polled every 50 ms (each poll is two kubectl runs), with a deadline: a
    // stuck operator fails the test here instead of hanging it.
    const midwayDeadline = Date.now() + 60_000;
    let midway = 0;
    while (midway < 10) {
      assert.ok(Date.now() < midwayDeadline, `only ${midway}/200 objects Ready 60 s after the operator started`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      midway = readyCount('mysqlusers', 'bulk').ready + readyCount('mysqldatabases', 'bulk').ready;
    }
    await stopOperator(first, 'SIGKILL');
    assert.ok(midway < 200, `the kill must come while work remains (${midway}/200 were Ready)`);

    await runningOperator();
    await waitAllReady('mysqldatabases', 'bulk', 100, 120_000);
    await waitAllReady('mysqlusers', 'bulk', 100, 120_000);

    await admin(async (conn) => {
      const users = await conn.query<{ User: string }[]>("SELECT User FROM mysql.global_priv WHERE User LIKE 'bulk\\_user\\_%'");
      assert.equal(users.length, 100, 'one account per MySQLUser, no duplicates or orphans');
      const grants = await conn.query<{ GRANTEE: string; TABLE_SCHEMA: string; n: bigint }[]>(
        "SELECT GRANTEE, TABLE_SCHEMA, COUNT(*) AS n FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE LIKE '''bulk\\_user\\_%' GROUP BY GRANTEE, TABLE_SCHEMA",
      );
      assert.equal(grants.length, 100, 'each user has grants on exactly one database');
      for (const g of grants) {
        const i = /bulk_user_(\d+)/.exec(g.GRANTEE)?.[1];
        assert.equal(g.TABLE_SCHEMA, `bulk\\_${i ?? ''}`, `${g.GRANTEE} is granted on its own database only`);
        assert.equal(Number(g.n), 4, `${g.GRANTEE} has exactly its four privileges`);
      }
      const owners = await conn.query<{ n: bigint }[]>("SELECT COUNT(*) AS n FROM flightdeck_meta.owners WHERE namespace = 'bulk'");
      assert.equal(Number(owners[0]?.n), 200, 'one ownership record per object');
    });
  });
});

describe('MariaDB stopped', () => {
  it('turns Ready=False with a clear reason, retries with backoff, and recovers when it returns', async () => {
    const operator = await runningOperator();
    await stopMariaDB(server);
    const c = await waitForReady<{ status: { conditions: { message: string }[] } }>(k, 'mysqlcluster', 'db-system', 'shared', {
      status: 'False',
      reason: 'ClusterUnreachable',
      timeoutMs: 30_000,
    });
    assert.match(JSON.stringify(c.status.conditions), /ECONNREFUSED|connect|refused/i);

    const before = await operatorMetric(operator, 'flightdeck_reconcile_total', { controller: 'mysqlcluster' });
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const attempts = (await operatorMetric(operator, 'flightdeck_reconcile_total', { controller: 'mysqlcluster' })) - before;
    // Backoff capped at 2 s here (--max-retry-delay): about 5 tries in 10 s, not a hot loop.
    assert.ok(attempts >= 2 && attempts <= 12, `reconciles of the cluster during 10 s of outage: ${attempts}`);

    // A user deleted meanwhile (deletionPolicy: Delete, the default) waits for the server, saying so.
    kubectl(k, ['delete', 'mysqluser', 'user-0', '-n', 'bulk', '--wait=false']);
    const waiting = await waitForReady<{ status: { username?: string } }>(k, 'mysqluser', 'bulk', 'user-0', {
      status: 'False',
      reason: 'DeletionBlocked',
      timeoutMs: 30_000,
    });
    assert.equal(waiting.status.username, 'bulk_user_0', 'the status still tells which user is waiting to be dropped');

    server = await startMariaDB({ dir: `${env.dir}/mariadb`, name: server.name, port: server.port });
    // The environment stops its servers at the end: it must know the new process.
    env = { ...env, mariadb: [server] };
    await waitForReady(k, 'mysqlcluster', 'db-system', 'shared', { timeoutMs: 30_000 });
    await waitForReady(k, 'mysqldatabase', 'bulk', 'db-0', { timeoutMs: 30_000 });
    const deadline = Date.now() + 30_000;
    while (kubectl(k, ['get', 'mysqluser', '-n', 'bulk', '--field-selector', 'metadata.name=user-0', '-o', 'name']).trim() !== '') {
      assert.ok(Date.now() < deadline, 'the deleted MySQLUser is gone within 30 s of the server coming back');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const left = await admin((conn) => conn.query<unknown[]>("SELECT User FROM mysql.global_priv WHERE User = 'bulk_user_0'"));
    assert.equal(left.length, 0, 'the user was dropped once the server was back');
  });
});

describe('kube-apiserver restarted', () => {
  it('watches recover and new objects reconcile', async () => {
    await runningOperator();
    env = { ...env, controlPlane: await restartApiServer(env.controlPlane) };
    k = env.controlPlane;
    apply([{ apiVersion: api, kind: 'MySQLDatabase', metadata: { name: 'after-restart', namespace: 'late' }, spec: { cluster, dbName: 'after_restart' } }]);
    await waitForReady(k, 'mysqldatabase', 'late', 'after-restart', { timeoutMs: 60_000 });
  });
});

describe('two operators', () => {
  it('one leads; when it is killed the other takes over within the lease duration', async () => {
    for (const operator of operators.splice(0)) if (isAlive(operator.pid)) await stopOperator(operator);
    const args = [...fastRetries, '--lease-namespace', 'db-system'];
    const a = await startOperator({ kubeconfig: k.kubeconfig, dir: env.dir, name: 'leader-a', args });
    operators.push(a);
    const b = await startOperator({ kubeconfig: k.kubeconfig, dir: env.dir, name: 'leader-b', args, waitUntilRunning: false });
    operators.push(b);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(await operatorMetric(a, 'flightdeck_leader'), 1);
    assert.equal(await operatorMetric(b, 'flightdeck_leader'), 0, 'exactly one leader');

    const killed = Date.now();
    await stopOperator(a, 'SIGKILL');
    let tookOver = 0;
    while (Date.now() - killed < 30_000) {
      if ((await operatorMetric(b, 'flightdeck_leader')) === 1) {
        tookOver = Date.now() - killed;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Lease 15 s, renewed every 2 s: the standby acquires at most 15 s after the last renewal, plus one retry period.
    assert.ok(tookOver > 0 && tookOver <= 17_500, `took over after ${tookOver} ms`);
    process.stdout.write(`# leader takeover after SIGKILL: ${tookOver} ms\n`);
    apply([{ apiVersion: api, kind: 'MySQLDatabase', metadata: { name: 'after-failover', namespace: 'late' }, spec: { cluster, dbName: 'after_failover' } }]);
    await waitForReady(k, 'mysqldatabase', 'late', 'after-failover', { timeoutMs: 30_000 });
  });

  it('a leader whose lease is taken by another holder stops at once and exits', async () => {
    const leader = operators.find((o) => isAlive(o.pid));
    assert.ok(leader !== undefined, 'the leader of the test before');
    assert.equal(await operatorMetric(leader, 'flightdeck_leader'), 1);
    const deposedAt = Date.now();
    kubectl(k, ['patch', 'lease', 'flightdeck-operator', '-n', 'db-system', '--type=merge', '-p', JSON.stringify({ spec: { holderIdentity: 'intruder' } })]);
    while (isAlive(leader.pid)) {
      // Noticed at the next renewal (every 2 s); the running reconciles are aborted, not awaited.
      assert.ok(Date.now() - deposedAt < 5_000, 'the deposed operator exits within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const exitedMs = Date.now() - deposedAt;
    process.stdout.write(`# deposed leader exited after ${exitedMs} ms\n`);
    const log = readFileSync(leader.logFile, 'utf8');
    assert.match(log, /lost the leadership; aborting running reconciles/);
    assert.match(log, /"msg":"stopped"/, 'it shut down in order');
    assert.doesNotMatch(log, /released the lease/, 'the lease it no longer holds is left to its holder');
  });
});
