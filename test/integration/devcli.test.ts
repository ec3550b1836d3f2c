// `./bin/flightdeck dev up | env | down` as a new user would try them, in a
// state directory and on a port of this test's own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { DevEnvironment } from '../env/devenv.ts';
import { repoRoot } from '../env/paths.ts';
import { freePort } from '../env/ports.ts';
import { isAlive } from '../env/processes.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'flightdeck-dev-test-'));
const env = { ...process.env, FLIGHTDECK_DEV_STATE: stateDir, FLIGHTDECK_DEV_MARIADB_PORT: String(await freePort()) };

function flightdeck(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(join(repoRoot, 'bin/flightdeck'), args, { env, encoding: 'utf8', cwd: repoRoot });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function state(): DevEnvironment {
  return JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as DevEnvironment;
}

after(() => {
  flightdeck(['dev', 'down']);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('flightdeck dev', () => {
  it('up starts the environment and reports each step', () => {
    const up = flightdeck(['dev', 'up']);
    assert.equal(up.status, 0, up.stderr);
    for (const step of ['starting etcd and kube-apiserver', 'starting kube-controller-manager', 'installing the CRDs', 'starting MariaDB', 'starting the operator']) {
      assert.match(up.stderr, new RegExp(`✓ ${step}`));
    }
  });

  it('up a second time starts nothing new', () => {
    const before = state();
    const again = flightdeck(['dev', 'up']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /already running/);
    assert.deepEqual(state(), before);
  });

  it('env gives a shell kubectl and the CRDs', () => {
    const shell = spawnSync('bash', ['-c', 'eval "$(./bin/flightdeck dev env)" && kubectl get crd'], {
      env,
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(shell.status, 0, shell.stderr);
    for (const crd of ['mysqlclusters', 'mysqldatabases', 'mysqlusers']) {
      assert.match(shell.stdout, new RegExp(`${crd}\\.flightdeck\\.t7\\.io`));
    }
  });

  it('sql reaches the local MariaDB as admin', () => {
    const sql = flightdeck(['dev', 'sql', '-N', '-e', 'SELECT CURRENT_USER()']);
    assert.equal(sql.status, 0, sql.stderr);
    assert.match(sql.stdout, /^root@/);
  });

  it('kubectl delete namespace finishes and owned objects are collected (kube-controller-manager runs)', () => {
    const kubectl = (args: string, input?: string): string => {
      const shell = spawnSync('bash', ['-c', `eval "$(./bin/flightdeck dev env)" && kubectl ${args}`], { env, cwd: repoRoot, encoding: 'utf8', input });
      assert.equal(shell.status, 0, `kubectl ${args}: ${shell.stderr}`);
      return shell.stdout;
    };
    kubectl('create namespace short-lived');
    kubectl('create configmap owner -n default');
    const uid = kubectl("get configmap owner -n default -o jsonpath='{.metadata.uid}'");
    const owned = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owned', namespace: 'default', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }] } };
    kubectl('apply -f -', JSON.stringify(owned));
    kubectl('delete namespace short-lived --timeout=60s');
    kubectl('delete configmap owner -n default');
    kubectl('wait --for=delete configmap/owned -n default --timeout=60s');
  });

  it('the operator runs against the local API server', () => {
    const log = readFileSync(state().operator.logFile, 'utf8');
    assert.match(log, /"msg":"connected to the Kubernetes API"/);
    assert.match(log, /"kubernetesVersion":"v1\.36\.\d+"/);
  });

  it('down stops every process and removes the state', () => {
    const controllerManager = state().controllerManager;
    assert.ok(controllerManager !== undefined);
    const pids = [state().controlPlane.etcd, state().controlPlane.apiserver, controllerManager, state().mariadb.process, state().operator].map(
      (p) => p.pid,
    );
    const down = flightdeck(['dev', 'down']);
    assert.equal(down.status, 0, down.stderr);
    assert.deepEqual(
      pids.filter((pid) => isAlive(pid)),
      [],
    );
    assert.equal(existsSync(join(stateDir, 'state.json')), false);
    const envAfter = flightdeck(['dev', 'env']);
    assert.equal(envAfter.status, 1);
    assert.match(envAfter.stderr, /not running; start it with \.\/bin\/flightdeck dev up/);
  });
});
