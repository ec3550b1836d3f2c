// Benchmark: 500 MySQLDatabases + 500 MySQLUsers (one grant each) created at
// once on a real control plane and MariaDB. Prints one JSON object.
//
//   T_sql  the SQL the operator needs for them (CREATE DATABASE, CREATE USER,
//          GRANT), sent directly over one connection: the floor for MariaDB
//   T_api  creating the same 1000 objects with the operator stopped: the
//          floor for the API server
//   T_op   the same with the operator running, from the first create to the
//          last object Ready as a watch sees it
// plus per-object create→Ready latency, the lag after the last create, SQL
// writes during an idle minute, and the operator's memory with 5000 objects.
//
// Run: node bench/databases-users.ts [--objects 500] [--idle-seconds 60] [--rss-objects 5000] [--workers 8]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as mariadb from 'mariadb';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { apiVersion } from '../src/api/common.ts';
import { Informer, type KubeObject } from '../src/runtime/informer.ts';
import { KubeClient } from '../src/runtime/kube.ts';
import { kubeconfigAccess } from '../src/runtime/kubeconfig.ts';
import { databaseName, quoteAccount, quoteGrantDatabase, quoteIdentifier } from '../src/mysql/identifiers.ts';
import { kubectl } from '../test/env/kubectl.ts';
import { externalClusterManifests } from '../test/env/external-cluster.ts';
import { chartDir, helm, labelCrdsForHelm } from '../test/env/helmbuild/helm.ts';
import { operatorMetric, operatorSamples, sqlWrites, startOperator, stopOperator, type OperatorProcess } from '../test/env/operator.ts';
import { parseSamples, sumOf, sumsBy } from '../test/env/prometheus.ts';
import { serviceAccountKubeconfig } from '../test/env/service-account.ts';
import { startTestEnvironment, stopTestEnvironment } from '../test/env/shared.ts';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '500' },
    'idle-seconds': { type: 'string', default: '60' },
    'rss-objects': { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '16' },
    workers: { type: 'string', default: '32' },
  },
});
const pairs = Number(values.objects);
const idleSeconds = Number(values['idle-seconds']);
const rssObjects = Number(values['rss-objects']);
const concurrency = Number(values.concurrency);

const log = (message: string): void => {
  process.stderr.write(`# ${message}\n`);
};
const seconds = (ms: number): number => Math.round(ms) / 1000;

type Manifest = KubeObject & { apiVersion: string; kind: string; spec: Record<string, unknown> };

function manifests(namespace: string, prefix: string, from: number, to: number): Manifest[] {
  const out: Manifest[] = [];
  for (let i = from; i < to; i++) {
    const db = `${prefix}_db_${i}`;
    out.push({ apiVersion, kind: 'MySQLDatabase', metadata: { name: `db-${i}`, namespace }, spec: { cluster: { name: 'bench', namespace: 'bench-system' }, dbName: db } });
    out.push({
      apiVersion,
      kind: 'MySQLUser',
      metadata: { name: `user-${i}`, namespace },
      spec: { cluster: { name: 'bench', namespace: 'bench-system' }, username: `${prefix}_user_${i}`, privileges: [{ database: db, grant: 'ALL' }] },
    });
  }
  return out;
}

/** Creates the objects with a fixed number of requests in flight; returns when each was created. */
async function createAll(kube: KubeClient, objects: readonly Manifest[]): Promise<Map<string, number>> {
  const createdAt = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < objects.length) {
      const object = objects[next++];
      if (object === undefined) break;
      await kube.create(object);
      createdAt.set(`${object.kind}/${object.metadata.name}`, performance.now());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return createdAt;
}

/**
 * Installs the chart (whose CRDs the environment installed with kubectl, so
 * they are first labelled for Helm as docs/chart.md says) and returns a
 * kubeconfig with its ServiceAccount's token.
 */
function chartOperatorKubeconfig(): string {
  labelCrdsForHelm(env.controlPlane, release);
  helm(['install', release.name, chartDir, '--namespace', release.namespace, '--create-namespace'], { kubeconfig: env.controlPlane.kubeconfig });
  return serviceAccountKubeconfig(env.controlPlane, release.namespace, chartServiceAccount, join(env.dir, 'operator-kubeconfig'));
}

/** Deletes a namespace's objects (none has a finalizer: nobody reconciled them) and waits until they are gone. */
async function deleteAll(namespace: string): Promise<void> {
  // (kubectl's --wait on a thousand objects can hang; poll for the empty list instead.)
  kubectl(env.controlPlane, ['delete', 'mysqldatabases,mysqlusers', '--all', '-n', namespace, '--wait=false']);
  while (kubectl(env.controlPlane, ['get', 'mysqldatabases,mysqlusers', '-n', namespace, '-o', 'name']).trim() !== '') {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/**
 * Requests the API server has answered, by verb and resource, from its own
 * metrics (watches excluded): what the objects and the operator cost it.
 */
function apiRequests(): Record<string, number> {
  const samples = parseSamples(kubectl(env.controlPlane, ['get', '--raw', '/metrics']));
  return sumsBy(samples, 'apiserver_request_total', (l) =>
    l.verb === 'WATCH' ? undefined : `${l.verb ?? ''} ${l.resource ?? ''}${l.subresource === undefined || l.subresource === '' ? '' : `/${l.subresource}`}`,
  );
}

/** The operator's SQL statements so far, by verb. */
async function sqlStatementsByVerb(op: OperatorProcess): Promise<Record<string, number>> {
  return sumsBy(await operatorSamples(op), 'flightdeck_sql_statements_total', (l) => l.verb ?? '');
}

/** What grew from `before` to `after`, key by key (rounded to hundredths; what did not grow is left out). */
function increase(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(after).sort()) {
    const delta = Math.round(((after[key] ?? 0) - (before[key] ?? 0)) * 100) / 100;
    if (delta > 0) out[key] = delta;
  }
  return out;
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 per second)
}

/** CPU seconds of each part of the set-up: where the time of a phase went. */
function cpuByComponent(op?: OperatorProcess): Record<string, number> {
  return {
    'kube-apiserver': cpuSeconds(env.controlPlane.apiserver.pid),
    etcd: cpuSeconds(env.controlPlane.etcd.pid),
    mariadb: cpuSeconds(mariadbPid),
    ...(op === undefined ? {} : { operator: cpuSeconds(op.pid) }),
    'benchmark client': (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  };
}

/** The operator's V8 heap as its /metrics reports it (prom-client's default metrics), in MiB. */
async function heapMiB(op: OperatorProcess): Promise<Record<string, number>> {
  const samples = await operatorSamples(op);
  const mib = (name: string, where: Record<string, string> = {}): number => Math.round((sumOf(samples, name, where) / 1048576) * 10) / 10;
  return {
    used: mib('nodejs_heap_size_used_bytes'),
    total: mib('nodejs_heap_size_total_bytes'),
    new_space_total: mib('nodejs_heap_space_size_total_bytes', { space: 'new' }),
    old_space_total: mib('nodejs_heap_space_size_total_bytes', { space: 'old' }),
    external: mib('nodejs_external_memory_bytes'),
  };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
  return Math.round((kb / 1024) * 10) / 10;
}

const release = { name: 'flightdeck', namespace: 'flightdeck-system' };
type Deployment = { kind: string; spec: { template: { spec: { serviceAccountName: string; containers: { name: string; args: string[] }[] } } } };
const deployment = parseAllDocuments(helm(['template', release.name, chartDir, '--namespace', release.namespace]))
  .map((d) => d.toJS() as Deployment | null)
  .find((d) => d?.kind === 'Deployment');
const podSpec = deployment?.spec.template.spec;
const chartOperatorArgs = podSpec?.containers[0]?.args;
if (podSpec === undefined || chartOperatorArgs === undefined) throw new Error("the chart renders no Deployment with the operator's args");
const chartServiceAccount: string = podSpec.serviceAccountName;

const env = await startTestEnvironment(1);
const server = env.mariadb[0];
if (server === undefined) throw new Error('no MariaDB');
const mariadbPid = server.process.pid;
const kubeConfig = kubeconfigAccess(env.controlPlane.kubeconfig, {});
const kube = new KubeClient(kubeConfig, 'flightdeck-bench');
let operator: OperatorProcess | undefined;
try {
  for (const ns of ['bench-system', 'bench-warmup', 'bench-api', 'bench-op', 'bench-rss']) kubectl(env.controlPlane, ['create', 'namespace', ns]);
  for (const manifest of externalClusterManifests(server, { namespace: 'bench-system', name: 'bench' })) await kube.apply(manifest);

  // A fresh API server and MariaDB are slow for their first few hundred
  // requests; warmed up first, neither baseline is inflated by that.
  await createAll(kube, manifests('bench-warmup', 'warmup', 0, 100));
  await deleteAll('bench-warmup');
  const conn = await mariadb.createConnection({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword });
  for (let i = 0; i < 50; i++) {
    await conn.query(`CREATE DATABASE ${quoteIdentifier(databaseName, `warmup_${i}`)}`);
    await conn.query(`DROP DATABASE ${quoteIdentifier(databaseName, `warmup_${i}`)}`);
  }

  // T_sql: the statements themselves, one connection, on names of their own.
  const sqlStart = performance.now();
  for (let i = 0; i < pairs; i++) {
    const db = `direct_db_${i}`;
    const account = quoteAccount(`direct_user_${i}`, '%');
    await conn.query(`CREATE DATABASE ${quoteIdentifier(databaseName, db)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await conn.query(`CREATE USER ${account} IDENTIFIED BY ?`, [`direct-password-${i}`]);
    await conn.query(`GRANT ALL PRIVILEGES ON ${quoteGrantDatabase(db)}.* TO ${account}`);
  }
  const tSql = performance.now() - sqlStart;
  await conn.end();
  log(`T_sql ${seconds(tSql)} s for ${pairs * 3} statements`);

  // T_api: the objects alone, nobody reconciling; then removed (no finalizers yet).
  const apiObjects = manifests('bench-api', 'api', 0, pairs);
  const apiCpuBefore = cpuByComponent();
  const apiStart = performance.now();
  await createAll(kube, apiObjects);
  const tApi = performance.now() - apiStart;
  const apiCpu = increase(apiCpuBefore, cpuByComponent());
  log(`T_api ${seconds(tApi)} s for ${apiObjects.length} objects`);
  await deleteAll('bench-api');

  // T_op: the operator running and idle first, then the same objects.
  // As users run it: the compiled JavaScript with the image's Node settings,
  // the chart's ServiceAccount (its token, its least-privilege RBAC) and the
  // chart's flags; only the listen address, the resync interval (so that the
  // idle minute sees resyncs) and --workers when given differ.
  const operatorKubeconfig = chartOperatorKubeconfig();
  const chartFlags = chartOperatorArgs.filter((arg) => !arg.startsWith('--http-address'));
  operator = await startOperator({
    from: 'build',
    kubeconfig: operatorKubeconfig,
    dir: env.dir,
    args: [...chartFlags, '--resync-interval', '20', '--workers', values.workers],
  });
  const readyAt = new Map<string, number>();
  const watchers = (['mysqldatabases', 'mysqlusers'] as const).map((plural) => {
    const informer = new Informer<KubeObject & { kind?: string; status?: { conditions?: { type: string; status: string }[] } }>({
      kubeConfig,
      apiVersion,
      plural,
      namespace: 'bench-op',
      logger: pino({ level: 'warn' }),
    });
    const kind = plural === 'mysqldatabases' ? 'MySQLDatabase' : 'MySQLUser';
    informer.onChange((_event, object) => {
      const key = `${kind}/${object.metadata.name}`;
      if (!readyAt.has(key) && object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) readyAt.set(key, performance.now());
    });
    return informer;
  });
  await Promise.all(watchers.map((w) => w.start()));
  const opObjects = manifests('bench-op', 'op', 0, pairs);
  const requestsBefore = apiRequests();
  const statementsBefore = await sqlStatementsByVerb(operator);
  const cpuBefore = cpuByComponent(operator);
  const opStart = performance.now();
  const createdAt = await createAll(kube, opObjects);
  const lastCreate = performance.now();
  while (readyAt.size < opObjects.length) {
    if (performance.now() - opStart > 600_000) throw new Error(`only ${readyAt.size}/${opObjects.length} objects Ready after 10 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const lastReady = Math.max(...readyAt.values());
  const tOp = lastReady - opStart;
  const latencies = [...readyAt.entries()].map(([key, at]) => at - (createdAt.get(key) ?? opStart)).sort((a, b) => a - b);
  for (const w of watchers) w.stop();
  const opCpu = increase(cpuBefore, cpuByComponent(operator));
  const opRequests = increase(requestsBefore, apiRequests());
  const opStatements = increase(statementsBefore, await sqlStatementsByVerb(operator));
  log(`T_op ${seconds(tOp)} s`);

  // Idle: SQL writes during a quiet period (resyncs every 20 s run meanwhile).
  const writesBefore = await sqlWrites(operator);
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const idleWrites = (await sqlWrites(operator)) - writesBefore;
  log(`idle writes ${idleWrites} in ${idleSeconds} s`);

  // Memory with rssObjects objects in the caches (all reconciled), measured
  // on an operator with the chart's own flags: the 20 s resync above would
  // keep 5000 objects reconciling all the time. It starts with the objects
  // above in place (reconciled again at start, as after an upgrade).
  await stopOperator(operator);
  operator = await startOperator({ from: 'build', kubeconfig: operatorKubeconfig, dir: env.dir, name: 'operator-rss', args: [...chartFlags, '--workers', values.workers] });
  const extraPairs = Math.max(0, Math.floor((rssObjects - opObjects.length) / 2));
  let peak = 0;
  const rssOperator = operator;
  const peakSampler = setInterval(() => {
    peak = Math.max(peak, rssMiB(rssOperator.pid));
  }, 500);
  await createAll(kube, manifests('bench-rss', 'rss', 0, extraPairs));
  const waitAll = async (): Promise<void> => {
    for (;;) {
      const out = kubectl(env.controlPlane, ['get', 'mysqlusers', '-n', 'bench-rss', '-o', 'jsonpath={range .items[*]}{.status.conditions[0].status}{"\\n"}{end}']);
      if (out.split('\n').filter((l) => l === 'True').length === extraPairs) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  await waitAll();
  // At rest: every object Ready, the work queues empty and the Events the
  // burst caused written (they go out a few at a time, after the reconciles).
  const restStart = performance.now();
  while ((await operatorMetric(operator, 'flightdeck_events_pending')) > 0 || (await operatorMetric(operator, 'flightdeck_workqueue_depth')) > 0) {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const settleSeconds = seconds(performance.now() - restStart);
  clearInterval(peakSampler);
  // Sampled for 10 s after 5 s of rest: one reading depends on where the
  // garbage collector happens to be.
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) {
    samples.push(rssMiB(operator.pid));
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  samples.sort((a, b) => a - b);
  const rss = percentile(samples, 50);
  const heap = await heapMiB(operator);

  const result = {
    benchmark: 'databases-users',
    objects: opObjects.length,
    clientConcurrency: concurrency,
    operator: 'dist/ (as the image runs it), chart ServiceAccount token and RBAC, chart flags',
    T_sql_s: seconds(tSql),
    T_api_s: seconds(tApi),
    T_op_s: seconds(tOp),
    T_op_over_T_api_plus_T_sql: Math.round((tOp / (tApi + tSql)) * 100) / 100,
    lag_after_last_create_s: seconds(lastReady - lastCreate),
    latency_create_to_ready_s: { p50: seconds(percentile(latencies, 50)), p99: seconds(percentile(latencies, 99)), max: seconds(latencies.at(-1) ?? Number.NaN) },
    cpu_seconds_during_T_api: apiCpu,
    cpu_seconds_during_T_op: opCpu,
    api_requests_during_T_op: opRequests,
    sql_statements_during_T_op: opStatements,
    idle_sql_writes: { seconds: idleSeconds, writes: idleWrites },
    operator_rss_mib: {
      objects: opObjects.length + extraPairs * 2,
      at_rest: { median: rss, min: samples[0], max: samples.at(-1) },
      peak_while_reconciling: peak,
      events_written_after_last_ready_s: settleSeconds,
      heap_at_rest: heap,
    },
    goals: {
      'T_op <= 2 x (T_api + T_sql)': tOp <= 2 * (tApi + tSql),
      'lag <= 1 s': lastReady - lastCreate <= 1000,
      'p99 <= 2 s': percentile(latencies, 99) <= 2000,
      'zero idle writes': idleWrites === 0,
      'RSS <= 150 MB (at rest)': rss * 1.048576 <= 150,
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  if (operator !== undefined) await stopOperator(operator);
  await stopTestEnvironment(env);
}
