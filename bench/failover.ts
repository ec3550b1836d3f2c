// Benchmark: how long a managed MySQLCluster stops taking writes when its
// writer goes away, on a local cluster of three nodes with real pods and the
// operator installed by its chart (issue 8, "Benchmark"). Prints one JSON
// object on stdout; notes go to stderr.
//
//   failover    kill -9 of the writer's mariadbd → the first acknowledged write after it
//   delete      `kubectl delete pod` of the writer → the longest gap between two acknowledged writes
//   drain       `kubectl drain` of the writer's node → the longest gap (uncordoned afterwards)
//   baseline    one MariaDB StatefulSet pod without the operator, its node drained → the longest gap
//   floor       the operator scaled to 0, then by hand with kubectl: writer read-only, a caught-up
//               replica promoted, the third repointed, the writer label moved → the longest gap
//               (what a switchover costs with an operator that costs nothing; run last)
//
// Each switchover's gap is split at the writer label's move: hand-over (fence → label move,
// from the operator's step log lines) and propagation (label move → first acknowledged write).
//
// and for each repetition the acknowledged writes missing afterwards, looked
// up on the writer once the cluster is healthy again. Every repetition starts
// from a healthy cluster: Ready, every instance ready, one writer, no node
// cordoned.
//
// Run: node bench/failover.ts [--repetitions 20] [--baseline-repetitions N] [--floor-repetitions N] [--scenarios failover,delete,drain]
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startLocalCluster, stopLocalCluster, type RunningLocalCluster } from '../test/env/cluster/cluster.ts';
import { mariadbImageName } from '../test/env/images/images.ts';
import { kubectl, kubectlResult, waitForReady, type KubectlTarget } from '../test/env/kubectl.ts';
import {
  clusterPods,
  eventually,
  installOperatorByChart,
  isPodReady,
  operatorDeployment,
  operatorNamespace,
  writerPod,
  type ClusterPod,
} from '../test/env/managed-cluster.ts';
import { mariadbServerManifests } from '../test/e2e/mariadb-manifests.ts';

const { values } = parseArgs({
  options: {
    repetitions: { type: 'string', default: '20' },
    'baseline-repetitions': { type: 'string' },
    'floor-repetitions': { type: 'string' },
    scenarios: { type: 'string', default: 'failover,delete,drain' },
  },
});
const repetitions = Number(values.repetitions);
const baselineRepetitions = Number(values['baseline-repetitions'] ?? values.repetitions);
const floorRepetitions = Number(values['floor-repetitions'] ?? values.repetitions);
const allScenarios = ['failover', 'delete', 'drain'] as const;
const scenarios = values.scenarios.split(',').map((name) => {
  const scenario = allScenarios.find((s) => s === name);
  if (scenario === undefined) throw new Error(`unknown scenario ${name}: one of ${allScenarios.join(', ')}`);
  return scenario;
});

const log = (message: string): void => {
  process.stderr.write(`# ${new Date().toISOString()} ${message}\n`);
};
const round = (ms: number): number => Math.round(ms);

const namespace = 'bench';
const clusterName = 'bench';
const user = 'bench_user';
const database = 'bench_db';
const writerHost = `${clusterName}.${namespace}.svc.cluster.local`;
/** How long the load runs before the disruption, and after the first write that follows it. */
const settleMs = 3000;
/** A scenario whose writes have not resumed by then counts as not recovered. */
const recoveryTimeoutMs = 120_000;
/** The managed drain's time-out: long enough to evict a reader that its PodDisruptionBudget lets go, short enough that one that is held does not stall the run. */
const drainTimeoutSeconds = 45;

let cluster: RunningLocalCluster | undefined;
const plane = (): KubectlTarget => {
  if (cluster === undefined) throw new Error('the local cluster is not running');
  return cluster.controlPlane;
};

// ---------------------------------------------------------------------------
// The write client

interface Ack {
  readonly n: number;
  /** When the write was sent, epoch ms: a write in flight when the writer went is acknowledged after, yet is no recovery. */
  readonly sentAt: number;
  /** Epoch ms; the pod's clock is this machine's (the nodes are namespaces of it). */
  readonly at: number;
}

interface RunningLoad {
  readonly acks: Ack[];
  /** Ends the loop (EOF on its stdin) and resolves with every acknowledged write. */
  stop(): Promise<Ack[]>;
}

/**
 * The loop the client runs in a pod: a new mariadb CLI connection per write
 * (as PHP sites connect), numbered, with a 1 s connect and 3 s overall time-out;
 * a failed write is retried with the next number. It runs in the background;
 * the foreground waits for EOF on stdin, which is how the bench stops it.
 */
const clientScript = [
  'host=$1; user=$2; db=$3; statement=$4',
  '(',
  '  i=0',
  '  while :; do',
  '    i=$((i + 1)); sent=$(date +%s.%N)',
  '    if timeout 3 mariadb --connect-timeout=1 -h "$host" -u "$user" "$db" -e "$statement ($i)" 2>/dev/null; then echo "ok $i $sent $(date +%s.%N)"; fi',
  '  done',
  ') &',
  'loop=$!',
  'cat >/dev/null',
  'kill $loop',
  'wait',
].join('\n');

/** `statement` is completed by ` (<n>)`, e.g. `INSERT INTO t (n) VALUES`. */
function startWrites(target: { namespace: string; pod: string; host: string; user: string; password: string; database: string; statement: string }): RunningLoad {
  const child: ChildProcessWithoutNullStreams = spawn(join(plane().binDir, 'kubectl'), [
    '--kubeconfig', plane().kubeconfig, 'exec', '-i', target.pod, '-n', target.namespace, '--',
    'env', `MYSQL_PWD=${target.password}`, 'sh', '-c', clientScript, 'client', target.host, target.user, target.database, target.statement,
  ]);
  const acks: Ack[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const [word, n, sentAt, at] = line.split(' ');
      if (word === 'ok') acks.push({ n: Number(n), sentAt: Number(sentAt) * 1000, at: Number(at) * 1000 });
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const closed = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && code !== null) log(`write client in ${target.pod} exited ${code}: ${stderr.trim()}`);
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

/** The first write sent after `since` and acknowledged. */
function firstWriteAfter(acks: readonly Ack[], since: number): Ack | undefined {
  return acks.find((a) => a.sentAt > since);
}

/** Resolves once a write sent after `since` was acknowledged and `settleMs` more have passed; false on time-out. */
async function writesResumed(load: RunningLoad, since: number): Promise<boolean> {
  const deadline = Date.now() + recoveryTimeoutMs;
  for (;;) {
    const first = firstWriteAfter(load.acks, since);
    if (first !== undefined && Date.now() > first.at + settleMs) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

function longestGap(acks: readonly Ack[], since: number): { gapMs: number; startedAfterMs: number } {
  let gap = { gapMs: 0, startedAfterMs: 0 };
  for (let i = 1; i < acks.length; i++) {
    const previous = acks[i - 1];
    const current = acks[i];
    if (previous === undefined || current === undefined) continue;
    if (current.at - previous.at > gap.gapMs) gap = { gapMs: current.at - previous.at, startedAfterMs: previous.at - since };
  }
  return { gapMs: round(gap.gapMs), startedAfterMs: round(gap.startedAfterMs) };
}

/** Median time between two acknowledged writes before the disruption: the resolution of the gaps. */
function writeIntervalMs(acks: readonly Ack[], before: number): number {
  const intervals: number[] = [];
  for (let i = 1; i < acks.length; i++) {
    const previous = acks[i - 1];
    const current = acks[i];
    if (previous !== undefined && current !== undefined && current.at < before) intervals.push(current.at - previous.at);
  }
  return round(percentile(intervals, 0.5) ?? Number.NaN);
}

function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

/** Runs kubectl without blocking the event loop (the write client's output must keep flowing). */
function kubectlAsync(args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(plane().binDir, 'kubectl'), ['--kubeconfig', plane().kubeconfig, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------
// The managed cluster

function appSql(fromPod: string, password: string, sql: string): string {
  const result = kubectlResult(plane(), [
    'exec', fromPod, '-n', namespace, '--',
    'env', `MYSQL_PWD=${password}`, 'mariadb', '--connect-timeout=3', '-h', writerHost, '-u', user, '-N', '-B', database, '-e', sql,
  ]);
  if (result.status !== 0) throw new Error(`${sql} through ${writerHost} from ${fromPod} failed: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

interface ClusterStatus {
  status?: { currentPrimary?: string; readyInstances?: number; conditions?: { type: string; status: string }[] };
}

/** Ready, three instances ready, one writer that the status names, no node cordoned: returns the writer. */
function healthyWriter(): ClusterPod | undefined {
  const object = JSON.parse(kubectl(plane(), ['get', 'mysqlcluster', clusterName, '-n', namespace, '-o', 'json'])) as ClusterStatus;
  if (object.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True' || object.status.readyInstances !== 3) return undefined;
  const pods = clusterPods(plane(), namespace, clusterName);
  if (pods.length !== 3 || !pods.every(isPodReady)) return undefined;
  const writer = writerPod(plane(), namespace, clusterName);
  if (writer === undefined || writer.metadata.name !== object.status.currentPrimary) return undefined;
  const nodes = JSON.parse(kubectl(plane(), ['get', 'nodes', '-o', 'json'])) as { items: { spec?: { unschedulable?: boolean } }[] };
  if (nodes.items.some((n) => n.spec?.unschedulable === true)) return undefined;
  return writer;
}

/** A ready instance that is not the writer: where the client runs (pod networking is reachable from the nodes only). */
function readerPod(writer: ClusterPod): ClusterPod {
  const reader = clusterPods(plane(), namespace, clusterName).find((p) => p.metadata.name !== writer.metadata.name && isPodReady(p));
  if (reader === undefined) throw new Error('no ready reader to run the write client from');
  return reader;
}

/** The host pid of the writer's mariadbd: server id 100 + ordinal, in a cgroup under its node's (another cluster on this machine may run the same ids). */
function mariadbdPid(writer: ClusterPod): number {
  const serverId = 100 + Number(writer.metadata.name.slice(writer.metadata.name.lastIndexOf('-') + 1));
  const node = cluster?.nodes.find((n) => n.network.name === writer.spec.nodeName);
  if (node === undefined) throw new Error(`the writer ${writer.metadata.name} is on no node of this cluster (${writer.spec.nodeName ?? 'unscheduled'})`);
  const pgrep = spawnSync('pgrep', ['-f', `mariadbd --defaults-extra-file.*--server-id=${serverId}$`], { encoding: 'utf8' });
  const pids = pgrep.stdout.trim().split('\n').filter((p) => p !== '').map(Number);
  const ours = pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/${node.cgroup}/`);
    } catch (error) {
      log(`pid ${pid} vanished while looking for the writer's mariadbd: ${String(error)}`);
      return false;
    }
  });
  if (ours.length !== 1 || ours[0] === undefined) throw new Error(`expected one mariadbd with server id ${serverId} under cgroup ${node.cgroup}, found [${ours.join(', ')}] of [${pids.join(', ')}]`);
  return ours[0];
}

interface OperatorStep {
  /** Milliseconds after the disruption. */
  atMs: number;
  type?: string;
  step?: string;
  to?: string;
}

/** The operator's 'replication step' lines since `since`, as offsets from it: where a repetition's time went. */
function operatorSteps(since: number): OperatorStep[] {
  const result = kubectlResult(plane(), ['logs', '-n', operatorNamespace, `deploy/${operatorDeployment}`, `--since-time=${new Date(since - 1000).toISOString()}`]);
  if (result.status !== 0) {
    log(`operator logs unavailable: ${result.stderr.trim()}`);
    return [];
  }
  const steps: OperatorStep[] = [];
  for (const line of result.stdout.split('\n')) {
    if (!line.includes('replication step')) continue;
    try {
      const entry = JSON.parse(line) as { time: number; type?: string; step?: string; to?: string };
      steps.push({ atMs: round(entry.time - since), type: entry.type, step: entry.step, to: entry.to });
    } catch (error) {
      log(`unparsable operator log line (${String(error)}): ${line}`);
    }
  }
  return steps;
}

type Scenario = (typeof allScenarios)[number];

interface Repetition {
  repetition: number;
  from: string;
  to?: string;
  recovered: boolean;
  /** failover only: disruption → first acknowledged write after it. */
  firstWriteMs?: number;
  gapMs: number;
  /** When the longest gap began, relative to the disruption. */
  gapStartedAfterMs: number;
  acknowledged: number;
  missing: number[];
  writeIntervalMs: number;
  operatorSteps: OperatorStep[];
  /** drain only: why `kubectl drain` did not complete, when it did not. */
  drainError?: string;
  /** delete, drain: the switchover's time split at the writer label's move (switchoverSplit). */
  split?: SwitchoverSplit;
}

/**
 * Where a switchover's write gap went: `handOverMs` from fencing the writer to
 * the writer label's move (the operator's steps: fence, catch-up, promote;
 * in the floor, the same done by hand), `propagationMs` from the label's move
 * to the first write acknowledged after it (Service endpoints, kube-proxy,
 * DNS, the client's next connection — Kubernetes' part). Both from the
 * operator's 'replication step' log lines, which it writes before each step.
 */
interface SwitchoverSplit {
  handOverMs: number;
  propagationMs?: number;
  /** From the label's move having completed (the operator's next step line; in the floor, the second `kubectl label` returning) to the first write after it. */
  afterLabelledMs?: number;
}

function switchoverSplit(steps: readonly OperatorStep[], acks: readonly Ack[], disruptedAt: number): SwitchoverSplit | undefined {
  const fenced = steps.find((s) => s.type === 'Switchover' && s.step === 'fenceOldPrimary');
  const moved = steps.find((s) => s.type === 'Switchover' && s.step === 'moveWriter' && fenced !== undefined && s.atMs >= fenced.atMs);
  if (fenced === undefined || moved === undefined) return undefined;
  const next = steps.find((s) => s.type === 'Switchover' && s.step === 'repointReplicas' && s.atMs >= moved.atMs);
  return splitAt(disruptedAt + fenced.atMs, disruptedAt + moved.atMs, acks, next === undefined ? undefined : disruptedAt + next.atMs);
}

function splitAt(fencedAt: number, movedAt: number, acks: readonly Ack[], labelledAt?: number): SwitchoverSplit {
  const first = acks.find((a) => a.at > movedAt);
  const afterLabelled = labelledAt === undefined ? undefined : acks.find((a) => a.at > labelledAt);
  return {
    handOverMs: round(movedAt - fencedAt),
    ...(first === undefined ? {} : { propagationMs: round(first.at - movedAt) }),
    ...(afterLabelled === undefined || labelledAt === undefined ? {} : { afterLabelledMs: round(afterLabelled.at - labelledAt) }),
  };
}

async function waitHealthy(): Promise<ClusterPod> {
  return eventually('a healthy cluster (Ready, 3 instances ready, one writer, no node cordoned)', healthyWriter, 300_000);
}

async function managedRepetition(scenario: Scenario, repetition: number, password: string): Promise<Repetition> {
  const writer = await waitHealthy();
  const client = readerPod(writer).metadata.name;
  const table = `${scenario}_${repetition}`;
  appSql(client, password, `CREATE TABLE ${table} (n INT PRIMARY KEY, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))`);
  const load = startWrites({ namespace, pod: client, host: writerHost, user, password, database, statement: `INSERT INTO ${table} (n) VALUES` });
  await eventually('the first acknowledged write', () => (load.acks.length > 0 ? true : undefined), 30_000);
  await sleep(settleMs);
  const node = writer.spec.nodeName;
  let disruptedAt: number;
  let drained: Promise<{ status: number; stderr: string }> | undefined;
  if (scenario === 'failover') {
    const pid = mariadbdPid(writer);
    disruptedAt = Date.now();
    process.kill(pid, 'SIGKILL');
  } else if (scenario === 'delete') {
    disruptedAt = Date.now();
    await kubectlAsync(['delete', 'pod', writer.metadata.name, '-n', namespace, '--wait=false']);
  } else {
    if (node === undefined) throw new Error(`the writer ${writer.metadata.name} has no node`);
    disruptedAt = Date.now();
    drained = kubectlAsync(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', `--timeout=${drainTimeoutSeconds}s`]);
  }
  // Writes must resume after the writer has actually gone: a drain or a
  // graceful delete leaves it serving for a while, and the writes it takes
  // then are not the recovery.
  // The drain is not awaited for this: the readers' PodDisruptionBudget can
  // hold it (see drainError) while the writer has long moved.
  let goneAt = disruptedAt;
  if (scenario !== 'failover') {
    await eventually('a new writer', () => {
      const now = writerPod(plane(), namespace, clusterName)?.metadata.name;
      return now !== undefined && now !== writer.metadata.name ? now : undefined;
    }, recoveryTimeoutMs);
    goneAt = Date.now();
  }
  const recovered = await writesResumed(load, goneAt);
  const drainResult = await drained;
  const drainError = drainResult !== undefined && drainResult.status !== 0 ? drainResult.stderr.trim().split('\n').slice(-3).join(' | ') : undefined;
  if (drainError !== undefined) log(`drain of ${node ?? '?'} did not complete: ${drainError}`);
  const acks = await load.stop();
  if (scenario === 'drain' && node !== undefined) kubectl(plane(), ['uncordon', node]);
  const steps = operatorSteps(disruptedAt);
  await waitHealthy();
  const newWriter = writerPod(plane(), namespace, clusterName);
  const present = new Set(appSql(readerPod(newWriter ?? writer).metadata.name, password, `SELECT n FROM ${table}`).split('\n').map(Number));
  const first = firstWriteAfter(acks, disruptedAt);
  const gap = longestGap(acks, disruptedAt);
  const result: Repetition = {
    repetition,
    from: writer.metadata.name,
    to: newWriter?.metadata.name,
    recovered,
    ...(scenario === 'failover' ? { firstWriteMs: first === undefined ? undefined : round(first.at - disruptedAt) } : {}),
    gapMs: gap.gapMs,
    gapStartedAfterMs: gap.startedAfterMs,
    acknowledged: acks.length,
    missing: acks.filter((a) => !present.has(a.n)).map((a) => a.n),
    writeIntervalMs: writeIntervalMs(acks, disruptedAt),
    operatorSteps: steps,
    ...(drainError === undefined ? {} : { drainError }),
    ...(scenario === 'failover' ? {} : { split: switchoverSplit(steps, acks, disruptedAt) }),
  };
  const splitNote = result.split === undefined ? '' : ` (hand-over ${result.split.handOverMs} ms, propagation ${result.split.propagationMs ?? '-'} ms)`;
  log(`${scenario} ${repetition}: ${result.from} → ${result.to ?? '?'}, ${scenario === 'failover' ? `first write ${result.firstWriteMs ?? '-'} ms, ` : ''}gap ${result.gapMs} ms${splitNote}, ${acks.length} acknowledged, ${result.missing.length} missing`);
  return result;
}

// ---------------------------------------------------------------------------
// The floor: the same switchover with an operator that costs nothing

/**
 * How the floor's repetitions move the writer: between two instances, each
 * a caught-up replica of the other in turn; the third (the first writer) is
 * fenced and left out after the first move. It runs with the operator scaled
 * to 0, after the managed scenarios (it leaves the cluster in a state the
 * operator did not record).
 */
interface FloorState {
  writer: string;
  /** Replicas of the writer, configured (the first writer has no replication settings to repoint). */
  replicas: string[];
  /** Fenced and out of replication. */
  idle: string[];
}

interface FloorRepetition {
  repetition: number;
  from: string;
  to: string;
  recovered: boolean;
  gapMs: number;
  gapStartedAfterMs: number;
  split: SwitchoverSplit;
  acknowledged: number;
  missing: number[];
  writeIntervalMs: number;
}

/** Root on an instance over its socket, as the pod's preStop hook does; resolves with the output, rejects with the error. */
async function rootSql(pod: string, sql: string): Promise<string> {
  const result = await kubectlAsync([
    'exec', pod, '-n', namespace, '--', 'sh', '-c', 'MYSQL_PWD="$MARIADB_ROOT_PASSWORD" exec mariadb --user=root --protocol=socket -N -B -e "$1"', 'sql', sql,
  ]);
  if (result.status !== 0) throw new Error(`${sql} on ${pod} failed: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

const podDns = (pod: string): string => `${pod}.${clusterName}-instances.${namespace}.svc.cluster.local`;

/** Makes `pod` a semi-sync replica of `writer`, from its own GTID position (a former writer's own writes included). */
function repointSql(writer: string): string {
  return [
    'STOP SLAVE',
    'SET GLOBAL rpl_semi_sync_master_enabled = OFF',
    'SET GLOBAL rpl_semi_sync_slave_enabled = ON',
    'SET GLOBAL read_only = ON',
    `CHANGE MASTER TO MASTER_HOST = '${podDns(writer)}', MASTER_USE_GTID = current_pos`,
    'START SLAVE',
  ].join('; ');
}

async function scaleOperator(replicas: number): Promise<void> {
  kubectl(plane(), ['scale', `deploy/${operatorDeployment}`, '-n', operatorNamespace, `--replicas=${replicas}`]);
  await eventually(`the operator at ${replicas} pods`, () => {
    const out = kubectl(plane(), ['get', 'pods', '-n', operatorNamespace, '-o', 'jsonpath={.items[*].metadata.name}']).trim();
    return (out === '' ? 0 : out.split(' ').length) === replicas ? true : undefined;
  }, 120_000);
}

async function floorRepetition(state: FloorState, repetition: number, password: string): Promise<FloorRepetition> {
  const from = state.writer;
  const to = state.replicas[0];
  if (to === undefined) throw new Error(`floor: no replica of ${from} to move the writer to`);
  const others = [...state.replicas.slice(1), ...state.idle];
  const client = others[0];
  if (client === undefined) throw new Error('floor: no third instance to run the client from');
  const table = `floor_${repetition}`;
  appSql(client, password, `CREATE TABLE ${table} (n INT PRIMARY KEY, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))`);
  const load = startWrites({ namespace, pod: client, host: writerHost, user, password, database, statement: `INSERT INTO ${table} (n) VALUES` });
  await eventually('the first acknowledged write', () => (load.acks.length > 0 ? true : undefined), 30_000);
  await sleep(settleMs);
  // What the operator's switchover does, each step at the speed of kubectl:
  // fence, catch-up, promote, repoint the others (before the label, so the
  // new writer has a semi-sync replica when the first write comes), then the
  // label move, one kubectl call per pod.
  const fencedAt = Date.now();
  const position = await rootSql(from, 'SET GLOBAL read_only = ON; SELECT @@global.gtid_binlog_pos');
  const reached = await rootSql(to, [
    `SELECT MASTER_GTID_WAIT('${position}', 30)`,
    'STOP SLAVE',
    'SET GLOBAL rpl_semi_sync_slave_enabled = OFF',
    'SET GLOBAL rpl_semi_sync_master_enabled = ON',
    'SET GLOBAL read_only = OFF',
  ].join('; '));
  if (reached !== '0') throw new Error(`floor: ${to} did not reach ${from}'s ${position} (MASTER_GTID_WAIT: ${reached})`);
  // The first writer was made writer without replication settings: it stays out.
  const repointed = state.replicas.length > 1 ? state.replicas.slice(1) : [];
  const rejoins = repetition > 1 ? [from] : [];
  await Promise.all([...repointed, ...rejoins].map((pod) => rootSql(pod, repointSql(to))));
  const movedAt = Date.now();
  await kubectlAsync(['label', 'pod', from, '-n', namespace, 'flightdeck.t7.io/role=reader', '--overwrite']);
  await kubectlAsync(['label', 'pod', to, '-n', namespace, 'flightdeck.t7.io/role=writer', '--overwrite']);
  const labelledAt = Date.now();
  const recovered = await writesResumed(load, movedAt);
  const acks = await load.stop();
  const present = new Set(appSql(client, password, `SELECT n FROM ${table}`).split('\n').map(Number));
  const gap = longestGap(acks, fencedAt);
  const result: FloorRepetition = {
    repetition, from, to, recovered, gapMs: gap.gapMs, gapStartedAfterMs: gap.startedAfterMs, split: splitAt(fencedAt, movedAt, acks, labelledAt),
    acknowledged: acks.length, missing: acks.filter((a) => !present.has(a.n)).map((a) => a.n), writeIntervalMs: writeIntervalMs(acks, fencedAt),
  };
  state.writer = to;
  state.replicas = [...repointed, ...(repetition > 1 ? [from] : [])];
  state.idle = repetition > 1 ? state.idle : [...state.idle, from];
  // The next move goes back to the old writer, which has replication settings from the second move on.
  state.replicas.sort((a, b) => (a === from ? -1 : b === from ? 1 : 0));
  log(`floor ${repetition}: ${from} → ${to}, gap ${result.gapMs} ms (by hand ${result.split.handOverMs} ms, propagation ${result.split.propagationMs ?? '-'} ms), ${acks.length} acknowledged, ${result.missing.length} missing`);
  return result;
}

async function startManagedCluster(): Promise<string> {
  kubectl(plane(), ['create', 'namespace', namespace]);
  const objects = [
    { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: clusterName, namespace }, spec: { size: '1Gi', readerCount: 2 } },
    { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLDatabase', metadata: { name: 'bench-db', namespace }, spec: { cluster: { name: clusterName, namespace }, dbName: database } },
    {
      apiVersion: 'flightdeck.t7.io/v1',
      kind: 'MySQLUser',
      metadata: { name: 'bench-user', namespace },
      spec: { cluster: { name: clusterName, namespace }, username: user, host: '%', privileges: [{ database, table: '*', grant: 'ALL' }] },
    },
  ];
  kubectl(plane(), ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  await waitForReady(plane(), 'mysqlcluster', namespace, clusterName, { timeoutMs: 300_000 });
  await waitForReady(plane(), 'mysqluser', namespace, 'bench-user', { timeoutMs: 300_000 });
  return Buffer.from(kubectl(plane(), ['get', 'secret', 'bench-user-connection', '-n', namespace, '-o', 'jsonpath={.data.password}']), 'base64').toString();
}

// ---------------------------------------------------------------------------
// The baseline: one MariaDB StatefulSet pod, no operator

const baselineNamespace = 'baseline';
/** The client's node; the server is kept off it so that draining the server's node never evicts the client. */
const baselineClientNode = 'node-3';
const baselinePassword = 'baseline-root-password';

interface BaselineRepetition {
  repetition: number;
  node: string;
  recovered: boolean;
  gapMs: number;
  gapStartedAfterMs: number;
  acknowledged: number;
  missing: number[];
  writeIntervalMs: number;
}

type Manifest = { kind: string; spec?: { template?: { spec?: Record<string, unknown> } } };

function startBaseline(dataDir: string): void {
  kubectl(plane(), ['create', 'namespace', baselineNamespace]);
  kubectl(plane(), ['create', 'secret', 'generic', 'root', '-n', baselineNamespace, `--from-literal=password=${baselinePassword}`]);
  const manifests = mariadbServerManifests({ namespace: baselineNamespace, instance: 'baseline', rootPassword: { secret: 'root', key: 'password' }, env: [{ name: 'MARIADB_DATABASE', value: 'bench' }] }) as Manifest[];
  const podSpec = manifests.find((m) => m.kind === 'StatefulSet')?.spec?.template?.spec;
  if (podSpec === undefined) throw new Error('the baseline manifests have no StatefulSet pod template');
  // Storage every node reaches, as network storage (rook-cephfs) is: the
  // nodes are namespaces of this machine, so one host directory is the same
  // volume on each of them and the pod can move with its data.
  podSpec.volumes = [{ name: 'data', hostPath: { path: dataDir, type: 'DirectoryOrCreate' } }];
  podSpec.affinity = {
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: [baselineClientNode] }] }] } },
  };
  const client = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'client', namespace: baselineNamespace },
    spec: { nodeName: baselineClientNode, terminationGracePeriodSeconds: 0, containers: [{ name: 'client', image: mariadbImageName, imagePullPolicy: 'IfNotPresent', command: ['sleep', 'infinity'] }] },
  };
  kubectl(plane(), ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...manifests, client] }));
  kubectl(plane(), ['wait', '-n', baselineNamespace, '--for=condition=Ready', 'pod/client', 'pod/mariadb-0', '--timeout=180s']);
}

function baselineSql(sql: string): { status: number; stdout: string; stderr: string } {
  return kubectlResult(plane(), [
    'exec', 'client', '-n', baselineNamespace, '--',
    'env', `MYSQL_PWD=${baselinePassword}`, 'mariadb', '--connect-timeout=3', '-h', `mariadb.${baselineNamespace}.svc.cluster.local`, '-u', 'root', '-N', '-B', 'bench', '-e', sql,
  ]);
}

async function baselineRepetition(repetition: number): Promise<BaselineRepetition> {
  const table = `drain_${repetition}`;
  await eventually('the baseline server answering', () => (baselineSql(`CREATE TABLE IF NOT EXISTS ${table} (n INT PRIMARY KEY)`).status === 0 ? true : undefined), 180_000);
  const pod = JSON.parse(kubectl(plane(), ['get', 'pod', 'mariadb-0', '-n', baselineNamespace, '-o', 'json'])) as ClusterPod;
  const node = pod.spec.nodeName;
  if (node === undefined) throw new Error('the baseline pod has no node');
  const load = startWrites({
    namespace: baselineNamespace, pod: 'client', host: `mariadb.${baselineNamespace}.svc.cluster.local`, user: 'root', password: baselinePassword, database: 'bench',
    statement: `INSERT INTO ${table} (n) VALUES`,
  });
  await eventually('the first acknowledged write', () => (load.acks.length > 0 ? true : undefined), 30_000);
  await sleep(settleMs);
  const disruptedAt = Date.now();
  const drain = await kubectlAsync(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=180s']);
  if (drain.status !== 0) log(`drain of ${node} failed: ${drain.stderr.trim()}`);
  // The drain returns once the pod is gone: writes after that are the new pod's.
  const recovered = await writesResumed(load, Date.now());
  const acks = await load.stop();
  kubectl(plane(), ['uncordon', node]);
  const selected = await eventually('the baseline server answering the read-back', () => {
    const result = baselineSql(`SELECT n FROM ${table}`);
    return result.status === 0 ? result.stdout : undefined;
  }, 180_000);
  const present = new Set(selected.trim().split('\n').map(Number));
  const gap = longestGap(acks, disruptedAt);
  const result: BaselineRepetition = {
    repetition, node, recovered, gapMs: gap.gapMs, gapStartedAfterMs: gap.startedAfterMs, acknowledged: acks.length,
    missing: acks.filter((a) => !present.has(a.n)).map((a) => a.n), writeIntervalMs: writeIntervalMs(acks, disruptedAt),
  };
  log(`baseline ${repetition}: ${node} drained, gap ${result.gapMs} ms, ${acks.length} acknowledged, ${result.missing.length} missing`);
  return result;
}

// ---------------------------------------------------------------------------

interface Summary {
  p50Ms?: number;
  maxMs?: number;
  goalMs: number;
  goalMet: boolean;
  missingTotal: number;
  notRecovered: number;
}

function summarize(values: readonly number[], goalMs: number, missingTotal: number, notRecovered: number): Summary {
  const p50 = percentile(values, 0.5);
  const max = percentile(values, 1);
  return { p50Ms: p50, maxMs: max, goalMs, goalMet: max !== undefined && max <= goalMs && missingTotal === 0 && notRecovered === 0, missingTotal, notRecovered };
}

function spread(values: readonly number[]): { p50Ms?: number; maxMs?: number } {
  return { p50Ms: percentile(values, 0.5), maxMs: percentile(values, 1) };
}

/** p50 and max of the hand-over and the propagation of a scenario's switchovers. */
function splitSummary(rs: readonly Repetition[]): Record<'handOver' | 'propagation' | 'afterLabelled', { p50Ms?: number; maxMs?: number }> {
  const splits = rs.flatMap((r) => (r.split === undefined ? [] : [r.split]));
  return {
    handOver: spread(splits.map((s) => s.handOverMs)),
    propagation: spread(splits.flatMap((s) => (s.propagationMs === undefined ? [] : [s.propagationMs]))),
    afterLabelled: spread(splits.flatMap((s) => (s.afterLabelledMs === undefined ? [] : [s.afterLabelledMs]))),
  };
}

function ratio(ours: number | undefined, floor: number | undefined): number | undefined {
  return ours === undefined || floor === undefined || floor === 0 ? undefined : Math.round((ours / floor) * 100) / 100;
}

async function main(): Promise<void> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'flightdeck-failover-bench-'));
  log(`starting a 3-node local cluster in ${dir}`);
  cluster = await startLocalCluster({ dir, nodes: 3 });
  log('installing the operator by its chart');
  await installOperatorByChart(cluster);

  const baseline: BaselineRepetition[] = [];
  if (baselineRepetitions > 0) {
    log(`baseline: ${baselineRepetitions} drains of a plain MariaDB StatefulSet's node`);
    const baselineData = join(dir, 'baseline-data');
    mkdirSync(baselineData, { recursive: true });
    startBaseline(baselineData);
    for (let r = 1; r <= baselineRepetitions; r++) baseline.push(await baselineRepetition(r));
    kubectl(plane(), ['delete', 'namespace', baselineNamespace, '--wait=true', '--timeout=120s']);
  }

  log('managed cluster: creating it');
  const password = await startManagedCluster();
  const results: Record<Scenario, Repetition[]> = { failover: [], delete: [], drain: [] };
  // Interleaved, so that the machine's load (shared, 2 cores) weighs on every scenario alike.
  for (let r = 1; r <= repetitions; r++) {
    for (const scenario of scenarios) results[scenario].push(await managedRepetition(scenario, r, password));
  }

  const floor: FloorRepetition[] = [];
  let floorError: string | undefined;
  if (floorRepetitions > 0) {
    log(`floor: the operator scaled to 0, ${floorRepetitions} switchovers by hand`);
    // A failure here ends the floor, not the run: the managed figures above are printed with it.
    try {
      const writer = await waitHealthy();
      await scaleOperator(0);
      const readers = clusterPods(plane(), namespace, clusterName).map((p) => p.metadata.name).filter((n) => n !== writer.metadata.name).sort();
      const state: FloorState = { writer: writer.metadata.name, replicas: readers, idle: [] };
      for (let r = 1; r <= floorRepetitions; r++) floor.push(await floorRepetition(state, r, password));
    } catch (error) {
      floorError = error instanceof Error ? error.message : String(error);
      log(`floor stopped after ${floor.length} repetitions: ${floorError}`);
    }
  }

  const missing = (rs: readonly { missing: number[] }[]): number => rs.reduce((sum, r) => sum + r.missing.length, 0);
  const notRecovered = (rs: readonly { recovered: boolean }[]): number => rs.filter((r) => !r.recovered).length;
  const output = {
    date: new Date().toISOString(),
    repetitions,
    baselineRepetitions,
    scenarios,
    client:
      'a shell loop in a pod of the cluster (pod networking is reachable only from the nodes), through the Service by its DNS name: ' +
      'one mariadb CLI connection per numbered INSERT (connect time-out 1 s, 3 s overall), the next number on any error; ' +
      'recovery is the first write sent after the disruption (failover: the kill; delete, drain: the writer label moving) and acknowledged; ' +
      'writeIntervalMs (the median time between two acknowledged writes) bounds the resolution of every gap',
    goals: { failoverMs: 5000, switchoverGapMs: 1000, drainGapMs: 1000, lostWrites: 0 },
    summary: {
      failover: summarize(results.failover.flatMap((r) => (r.firstWriteMs === undefined ? [] : [r.firstWriteMs])), 5000, missing(results.failover), notRecovered(results.failover)),
      failoverLongestGap: summarize(results.failover.map((r) => r.gapMs), 5000, missing(results.failover), notRecovered(results.failover)),
      delete: summarize(results.delete.map((r) => r.gapMs), 1000, missing(results.delete), notRecovered(results.delete)),
      drain: summarize(results.drain.map((r) => r.gapMs), 1000, missing(results.drain), notRecovered(results.drain)),
      baselineDrain: { p50Ms: percentile(baseline.map((r) => r.gapMs), 0.5), maxMs: percentile(baseline.map((r) => r.gapMs), 1), missingTotal: missing(baseline), notRecovered: notRecovered(baseline) },
      floor: {
        gap: spread(floor.map((r) => r.gapMs)),
        handOver: spread(floor.map((r) => r.split.handOverMs)),
        propagation: spread(floor.flatMap((r) => (r.split.propagationMs === undefined ? [] : [r.split.propagationMs]))),
        afterLabelled: spread(floor.flatMap((r) => (r.split.afterLabelledMs === undefined ? [] : [r.split.afterLabelledMs]))),
        missingTotal: missing(floor),
        notRecovered: notRecovered(floor),
        ...(floorError === undefined ? {} : { error: floorError }),
      },
      deleteSplit: splitSummary(results.delete),
      drainSplit: splitSummary(results.drain),
      oursOverFloor: {
        deleteGap: ratio(percentile(results.delete.map((r) => r.gapMs), 0.5), percentile(floor.map((r) => r.gapMs), 0.5)),
        drainGap: ratio(percentile(results.drain.map((r) => r.gapMs), 0.5), percentile(floor.map((r) => r.gapMs), 0.5)),
        deletePropagation: ratio(splitSummary(results.delete).propagation.p50Ms, percentile(floor.flatMap((r) => (r.split.propagationMs === undefined ? [] : [r.split.propagationMs])), 0.5)),
        drainPropagation: ratio(splitSummary(results.drain).propagation.p50Ms, percentile(floor.flatMap((r) => (r.split.propagationMs === undefined ? [] : [r.split.propagationMs])), 0.5)),
      },
      writeIntervalMsP50: percentile([...baseline, ...results.failover, ...results.delete, ...results.drain, ...floor].map((r) => r.writeIntervalMs), 0.5),
    },
    repetitionsDetail: { ...results, baseline, floor },
    totalSeconds: Math.round((performance.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
}

let stopping: Promise<void> | undefined;
function stopCluster(): Promise<void> {
  stopping ??= (async () => {
    if (cluster === undefined) return;
    log('stopping the local cluster');
    await stopLocalCluster(cluster);
  })();
  return stopping;
}
// Interrupted by hand (or by a time limit), it still removes its cluster: a cluster left behind keeps its bridge, mounts and processes.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void stopCluster().finally(() => process.exit(130));
  });
}
try {
  await main();
} finally {
  await stopCluster();
}
