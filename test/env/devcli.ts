// `flightdeck dev up [--nodes N] | env | status | sql | down`: the words a
// user sees for the local environment of devenv.ts, or with --nodes the local
// cluster of devcluster.ts.
import { spawnSync } from 'node:child_process';
import { maxNodes } from './cluster/addresses.ts';
import { clusterProcesses, isClusterRunning } from './cluster/cluster.ts';
import { defaultStorageClassName } from './cluster/storage.ts';
import { objectStoreBucket, objectStoreSecret } from './cluster/object-store.ts';
import { devClusterUp, devOperatorRelease, readDevCluster, runningDevCluster } from './devcluster.ts';
import { devAdminSecret, devDown, devUp, isRunning, processesOf, readDevEnvironment, type Progress } from './devenv.ts';
import { isAlive } from './processes.ts';

const tty = process.stderr.isTTY;

/** Shows each step as it runs and how long it took. */
const progress: Progress = async (label, work) => {
  const started = performance.now();
  process.stderr.write(tty ? `  … ${label}` : `  … ${label}\n`);
  try {
    const result = await work();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stderr.write(tty ? `\r  ✓ ${label} (${seconds}s)\n` : `  ✓ ${label} (${seconds}s)\n`);
    return result;
  } catch (error) {
    process.stderr.write(tty ? `\r  ✗ ${label}\n` : `  ✗ ${label}\n`);
    throw error;
  }
};

/** Single-quotes a value for a POSIX shell. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Reads `--nodes N` (or `--nodes=N`) from the arguments of `dev up`: 0 (the
 * default) is the control-plane-only environment, 1 or more a cluster with
 * that many nodes. Returns an error message for anything else.
 */
function nodesOption(args: readonly string[]): number | string {
  let nodes = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const value = arg === '--nodes' ? args[++i] : arg.startsWith('--nodes=') ? arg.slice('--nodes='.length) : undefined;
    if (value === undefined) return `unknown argument ${JSON.stringify(arg)}`;
    if (!/^\d+$/.test(value) || Number(value) > maxNodes) return `--nodes takes a number from 0 to ${maxNodes}, not ${JSON.stringify(value)}`;
    nodes = Number(value);
  }
  return nodes;
}

async function upCluster(nodes: number): Promise<number> {
  const started = performance.now();
  if (readDevEnvironment() !== undefined) {
    process.stderr.write('flightdeck dev up: the control-plane-only environment is set up; stop it with ./bin/flightdeck dev down first\n');
    return 1;
  }
  const running = runningDevCluster();
  if (running !== undefined && running.nodes.length !== nodes) {
    process.stderr.write(`flightdeck dev up: a local cluster with ${running.nodes.length} node(s) runs; stop it with ./bin/flightdeck dev down first\n`);
    return 1;
  }
  process.stderr.write(`flightdeck dev up: starting a local cluster with ${nodes} node(s)\n`);
  const { cluster, started: isNew } = await devClusterUp(nodes, progress);
  if (!isNew) {
    process.stderr.write(`already running since ${cluster.startedAt}; nothing to do\n`);
  } else {
    process.stderr.write(`ready in ${((performance.now() - started) / 1000).toFixed(1)}s\n`);
  }
  process.stderr.write(`
  kubectl:  eval "$(./bin/flightdeck dev env)"; kubectl get nodes
  operator: helm release ${devOperatorRelease.namespace}/${devOperatorRelease.name}; apply a MySQLCluster and nothing else
  storage:  StorageClass ${defaultStorageClassName} (default): node-local volumes, WaitForFirstConsumer
  objects:  S3 at ${cluster.objectStore.endpoint}, bucket ${objectStoreBucket}; endpoint and keys in Secret ${objectStoreSecret.namespace}/${objectStoreSecret.name} (AWS_* in dev env)
  images:   ${cluster.images.map((i) => i.name).join(', ')}  (imagePullPolicy: IfNotPresent)
  logs:     ${cluster.dir}
  stop:     ./bin/flightdeck dev down
`);
  return 0;
}

async function up(args: readonly string[]): Promise<number> {
  const nodes = nodesOption(args);
  if (typeof nodes === 'string') {
    process.stderr.write(`flightdeck dev up: ${nodes}\nusage: flightdeck dev up [--nodes N]\n`);
    return 2;
  }
  if (nodes > 0) return upCluster(nodes);
  const cluster = readDevCluster();
  if (cluster !== undefined) {
    process.stderr.write(
      `flightdeck dev up: a local cluster with ${cluster.nodes.length} node(s) is set up; use --nodes ${cluster.nodes.length}, or ./bin/flightdeck dev down first\n`,
    );
    return 1;
  }
  const started = performance.now();
  process.stderr.write('flightdeck dev up: starting the local environment\n');
  const { env, started: isNew } = await devUp(progress);
  if (!isNew) {
    process.stderr.write(`already running since ${env.startedAt}; nothing to do\n`);
  } else {
    process.stderr.write(`ready in ${((performance.now() - started) / 1000).toFixed(1)}s\n`);
  }
  process.stderr.write(`
  kubectl:  eval "$(./bin/flightdeck dev env)"; kubectl get crd
  MariaDB:  ./bin/flightdeck dev sql -e 'SHOW DATABASES'   (admin account in Secret default/${devAdminSecret})
  logs:     ${env.operator.logFile}
  stop:     ./bin/flightdeck dev down
`);
  return 0;
}

function printEnv(): number {
  const cluster = runningDevCluster();
  if (cluster !== undefined) {
    process.stdout.write(
      [
        `export KUBECONFIG=${shellQuote(cluster.controlPlane.kubeconfig)}`,
        `export PATH=${shellQuote(cluster.controlPlane.binDir)}:"$PATH"`,
        // The local cluster's object store, for S3 tools run on this machine.
        `export AWS_ENDPOINT_URL=${shellQuote(cluster.objectStore.endpoint)}`,
        `export AWS_ACCESS_KEY_ID=${shellQuote(cluster.objectStore.accessKeyId)}`,
        `export AWS_SECRET_ACCESS_KEY=${shellQuote(cluster.objectStore.secretAccessKey)}`,
        `export AWS_REGION=${shellQuote(cluster.objectStore.region)}`,
        '',
      ].join('\n'),
    );
    return 0;
  }
  const env = readDevEnvironment();
  if (env === undefined) {
    process.stderr.write('flightdeck dev env: the local environment is not running; start it with ./bin/flightdeck dev up\n');
    return 1;
  }
  process.stdout.write(
    [
      `export KUBECONFIG=${shellQuote(env.controlPlane.kubeconfig)}`,
      // kubectl of the same release as the API server.
      `export PATH=${shellQuote(env.controlPlane.binDir)}:"$PATH"`,
      `export MYSQL_HOST=${shellQuote(env.mariadb.host)}`,
      `export MYSQL_TCP_PORT=${shellQuote(String(env.mariadb.port))}`,
      '',
    ].join('\n'),
  );
  return 0;
}

function status(): number {
  const cluster = readDevCluster();
  if (cluster !== undefined) {
    for (const p of clusterProcesses(cluster)) {
      process.stdout.write(`${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${isAlive(p.pid) ? 'running' : 'STOPPED'}\n`);
    }
    process.stdout.write(`API server ${cluster.controlPlane?.url ?? '(not started)'}\nnodes      ${cluster.nodes.map((n) => `${n.network.name} ${n.network.address}`).join(', ')}\n`);
    return isClusterRunning(cluster) ? 0 : 1;
  }
  const env = readDevEnvironment();
  if (env === undefined) {
    process.stdout.write('not running\n');
    return 1;
  }
  for (const p of processesOf(env)) {
    process.stdout.write(`${p.name.padEnd(18)} pid ${String(p.pid).padEnd(8)} ${isAlive(p.pid) ? 'running' : 'STOPPED'}\n`);
  }
  process.stdout.write(`API server ${env.controlPlane.url}\nMariaDB    ${env.mariadb.host}:${env.mariadb.port}\n`);
  return isRunning(env) ? 0 : 1;
}

function sql(args: readonly string[]): number {
  const env = readDevEnvironment();
  if (env === undefined) {
    process.stderr.write('flightdeck dev sql: the local environment is not running\n');
    return 1;
  }
  // The password goes through the environment, not argv, so `ps` does not show it.
  const result = spawnSync('mariadb', ['--protocol=tcp', '-h', env.mariadb.host, '-P', String(env.mariadb.port), '-u', env.mariadb.adminUser, ...args], {
    stdio: 'inherit',
    env: { ...process.env, MYSQL_PWD: env.mariadb.adminPassword },
  });
  return result.status ?? 1;
}

async function down(): Promise<number> {
  const existed = await progress('stopping the local environment', () => devDown());
  process.stderr.write(existed ? 'stopped and removed\n' : 'nothing was running\n');
  return 0;
}

export async function devCommand(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'up':
      return up(rest);
    case 'env':
      return printEnv();
    case 'status':
      return status();
    case 'sql':
      return sql(rest);
    case 'down':
      return down();
    default:
      process.stderr.write('usage: flightdeck dev up [--nodes N] | env | status | sql [mariadb args] | down\n');
      return 2;
  }
}
