// The local environment of `flightdeck dev`: a control plane with the CRDs and
// kube-controller-manager, one MariaDB server whose admin account is in a
// Secret, and the operator running from this checkout. Its processes outlive `dev up`; a state file records
// them so that `dev up` is idempotent and `dev down` finds them.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane, stopControlPlane, kubeBinaries, type ControlPlane } from './controlplane.ts';
import { startControllerManager } from './cluster/controllers.ts';
import { devClusterDown, readDevCluster } from './devcluster.ts';
import { startMariaDB, stopMariaDB, type MariaDBInstance } from './mariadb.ts';
import { installCrds } from './crds.ts';
import { kubectl } from './kubectl.ts';
import { isListening } from './ports.ts';
import { isAlive, startProcess, stopProcess, waitUntil, type StartedProcess } from './processes.ts';
import { devStateDir, repoRoot } from './paths.ts';

export interface DevEnvironment {
  readonly controlPlane: ControlPlane;
  /**
   * Finishes namespace deletion and collects objects whose owners are gone,
   * as on any cluster. Absent from the record of an older checkout, which
   * then counts as not running and is started afresh.
   */
  readonly controllerManager?: StartedProcess;
  readonly mariadb: MariaDBInstance;
  readonly operator: StartedProcess;
  readonly startedAt: string;
}

/** Port of the local MariaDB; fixed so that examples/ can name it. */
export const devMariaDBPort = Number(process.env.FLIGHTDECK_DEV_MARIADB_PORT ?? '13306');
/** The Secret (namespace default) holding the local MariaDB's admin account. */
export const devAdminSecret = 'local-mariadb-admin';

const stateFile = join(devStateDir, 'state.json');

export function readDevEnvironment(): DevEnvironment | undefined {
  if (!existsSync(stateFile)) return undefined;
  return JSON.parse(readFileSync(stateFile, 'utf8')) as DevEnvironment;
}

export function processesOf(env: DevEnvironment): StartedProcess[] {
  const controllers = env.controllerManager === undefined ? [] : [env.controllerManager];
  return [env.controlPlane.etcd, env.controlPlane.apiserver, ...controllers, env.mariadb.process, env.operator];
}

export function isRunning(env: DevEnvironment): boolean {
  return env.controllerManager !== undefined && processesOf(env).every((p) => isAlive(p.pid));
}

export type Progress = <T>(label: string, work: () => Promise<T> | T) => Promise<T>;

function writeAdminSecret(plane: ControlPlane, db: MariaDBInstance): void {
  // Through stdin, so the password never appears in a process list.
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: devAdminSecret, namespace: 'default' },
    stringData: { username: db.adminUser, password: db.adminPassword, host: db.host, port: String(db.port) },
  };
  kubectl(plane, ['apply', '--server-side', '--field-manager=flightdeck-dev', '-f', '-'], JSON.stringify(secret));
}

async function startOperator(plane: ControlPlane): Promise<StartedProcess> {
  const operator = startProcess({
    name: 'operator',
    command: process.execPath,
    // Port 0: several environments (and tests) may run side by side.
    args: [join(repoRoot, 'src/cli/main.ts'), 'operator', '--http-address', '127.0.0.1:0', '--resync-interval', '30'],
    logFile: join(devStateDir, 'operator.log'),
    env: { ...process.env, KUBECONFIG: plane.kubeconfig },
    cwd: repoRoot,
  });
  await waitUntil(
    'the operator to start',
    () => Promise.resolve(readFileSync(operator.logFile, 'utf8').includes('operator running')),
    { timeoutMs: 30_000, process: operator },
  );
  return operator;
}

/**
 * Starts the environment unless it already runs. Returns it and whether it
 * was started now. A half-dead environment is torn down and started afresh.
 */
export async function devUp(progress: Progress): Promise<{ env: DevEnvironment; started: boolean }> {
  // Starting removes the state directory, which holds a cluster's record too.
  const cluster = readDevCluster();
  if (cluster !== undefined) {
    throw new Error(`a local cluster with ${cluster.nodes.length} node(s) is set up; use dev up --nodes ${cluster.nodes.length}, or dev down first`);
  }
  const existing = readDevEnvironment();
  if (existing !== undefined) {
    if (isRunning(existing)) return { env: existing, started: false };
    await progress('removing the stopped environment', () => devDown());
  }
  if (await isListening(devMariaDBPort)) {
    throw new Error(
      `port ${devMariaDBPort} on 127.0.0.1 is in use; stop what listens there or set FLIGHTDECK_DEV_MARIADB_PORT`,
    );
  }
  // Leftovers of a failed start (data, logs) would be mistaken for this one's.
  rmSync(devStateDir, { recursive: true, force: true });
  mkdirSync(devStateDir, { recursive: true });
  await progress('building or finding Kubernetes binaries', () => kubeBinaries());
  const controlPlane = await progress('starting etcd and kube-apiserver', () =>
    startControlPlane({ dir: join(devStateDir, 'controlplane') }),
  );
  const stopAll: (() => Promise<void>)[] = [() => stopControlPlane(controlPlane)];
  try {
    // Without it `kubectl delete namespace` never finishes and owned objects
    // outlive their owners: a new user would take that for the operator's doing.
    let startedControllerManager: StartedProcess | undefined;
    stopAll.push(() => (startedControllerManager === undefined ? Promise.resolve() : stopProcess(startedControllerManager.pid)));
    const controllerManager = await progress('starting kube-controller-manager', () =>
      startControllerManager(controlPlane, join(devStateDir, 'kube-controller-manager'), (p) => {
        startedControllerManager = p;
      }),
    );
    await progress('installing the CRDs', () => {
      installCrds(controlPlane);
    });
    const mariadb = await progress(`starting MariaDB on 127.0.0.1:${devMariaDBPort}`, () =>
      startMariaDB({ dir: join(devStateDir, 'mariadb'), name: 'mariadb-0', port: devMariaDBPort }),
    );
    stopAll.push(() => stopMariaDB(mariadb));
    await progress(`storing its admin account in Secret default/${devAdminSecret}`, () => {
      writeAdminSecret(controlPlane, mariadb);
    });
    const operator = await progress('starting the operator', () => startOperator(controlPlane));
    const env: DevEnvironment = { controlPlane, controllerManager, mariadb, operator, startedAt: new Date().toISOString() };
    writeFileSync(stateFile, JSON.stringify(env, null, 2), { mode: 0o600 });
    return { env, started: true };
  } catch (error) {
    for (const stop of stopAll.reverse()) await stop();
    throw error;
  }
}

/** Stops every process `devUp` (or `devClusterUp`) started and removes the environment's data. */
export async function devDown(): Promise<boolean> {
  const hadCluster = await devClusterDown();
  const env = readDevEnvironment();
  if (env !== undefined) {
    await stopProcess(env.operator.pid);
    if (env.controllerManager !== undefined) await stopProcess(env.controllerManager.pid);
    await stopMariaDB(env.mariadb);
    await stopControlPlane(env.controlPlane);
  }
  const existed = hadCluster || env !== undefined || existsSync(devStateDir);
  rmSync(devStateDir, { recursive: true, force: true });
  return existed;
}
