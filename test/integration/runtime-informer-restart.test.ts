// The informer survives a kube-apiserver restart. This file runs its own
// control plane, because it stops the API server. While the informer's API
// server is down, a second API server on the same etcd (as in a highly
// available control plane) changes objects; once the first is back, the
// informer must report exactly those changes and keep watching.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { Informer, type InformerEvent, type KubeObject } from '../../src/runtime/informer.ts';
import { startControlPlane, type ControlPlane } from '../env/controlplane.ts';
import { installCrds } from '../env/crds.ts';
import { kubectl, kubectlResult, type KubectlTarget } from '../env/kubectl.ts';
import { freePort } from '../env/ports.ts';
import { startProcess, stopProcess, waitUntil, type StartedProcess } from '../env/processes.ts';
import { capturedLogger, eventually, freshNamespace, kubeConfigOf } from './runtime-kube-support.ts';

interface Database extends KubeObject {
  spec: { cluster: { name: string }; encoding?: string };
}

let dir: string;
let plane: ControlPlane;
/** The API server processes this file started and has not stopped yet. */
const running = new Set<number>();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flightdeck-restart-'));
  plane = await startControlPlane({ dir });
  running.add(plane.apiserver.pid);
  installCrds(plane);
});

after(async () => {
  for (const pid of running) await stopProcess(pid);
  await stopProcess(plane.etcd.pid);
  rmSync(dir, { recursive: true, force: true });
});

/** The command line `pid` was started with. */
function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((part) => part !== '');
}

/** Starts kube-apiserver with `argv`, with --secure-port replaced when `port` is given, and waits until it is ready. */
async function startApiserver(argv: readonly string[], name: string, target: KubectlTarget, port?: number): Promise<StartedProcess> {
  const [command, ...args] = argv;
  assert.ok(command !== undefined);
  const process = startProcess({
    name,
    command,
    args: port === undefined ? args : args.map((a) => (a.startsWith('--secure-port=') ? `--secure-port=${port}` : a)),
    logFile: join(dir, `${name}.log`),
  });
  running.add(process.pid);
  await waitUntil(`${name} to become ready`, () => Promise.resolve(kubectlResult(target, ['get', '--raw', '/readyz']).status === 0), {
    timeoutMs: 60_000,
    process,
    intervalMs: 200,
  });
  return process;
}

/**
 * Stops an API server: SIGTERM, then SIGKILL after 2 s. An API server with
 * open watches does not finish its graceful shutdown sooner than the kill
 * anyway; either way the informer sees its connection drop.
 */
async function stopApiserver(pid: number): Promise<void> {
  await stopProcess(pid, 2000);
  running.delete(pid);
}

function database(namespace: string, name: string, encoding?: string): Database {
  return {
    apiVersion: 'flightdeck.t7.io/v1',
    kind: 'MySQLDatabase',
    metadata: { name, namespace },
    spec: { cluster: { name: 'db' }, ...(encoding === undefined ? {} : { encoding }) },
  };
}

describe('Informer across a kube-apiserver restart', () => {
  it('recovers its watch and reports the changes made while its API server was down', async () => {
    const ns = freshNamespace(plane, 'inf-restart');
    const apply = (target: KubectlTarget, ...objects: object[]) =>
      kubectl(target, ['apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
    apply(plane, database(ns, 'a'), database(ns, 'b'));

    const log = capturedLogger();
    const informer = new Informer<Database>({
      kubeConfig: kubeConfigOf(plane),
      apiVersion: 'flightdeck.t7.io/v1',
      plural: 'mysqldatabases',
      namespace: ns,
      logger: log.logger,
      initialBackoffMs: 100,
      maxBackoffMs: 1000,
    });
    const seen: { event: InformerEvent; name: string }[] = [];
    informer.onChange((event, object) => {
      seen.push({ event, name: object.metadata.name });
    });
    await informer.start();
    after(() => {
      informer.stop();
    });
    assert.equal(informer.list().length, 2);
    seen.length = 0;

    // The informer's API server goes away.
    const argv = commandLine(plane.apiserver.pid);
    await stopApiserver(plane.apiserver.pid);
    await eventually('the informer to notice', () => log.lines.some((l) => l.msg === 'watch failed; watching again'));

    // Another API server on the same etcd takes changes meanwhile.
    const otherPort = await freePort();
    const otherKubeconfig = join(dir, 'kubeconfig-other');
    writeFileSync(otherKubeconfig, readFileSync(plane.kubeconfig, 'utf8').replace(plane.url, `https://127.0.0.1:${otherPort}`), {
      mode: 0o600,
    });
    const other: KubectlTarget = { binDir: plane.binDir, kubeconfig: otherKubeconfig };
    const otherApiserver = await startApiserver(argv, 'kube-apiserver-other', other, otherPort);
    kubectl(other, ['delete', 'mysqldatabase', 'a', '-n', ns]);
    apply(other, database(ns, 'b', 'latin1'), database(ns, 'c'));
    await stopApiserver(otherApiserver.pid);
    assert.equal(seen.length, 0, 'nothing reported while no API server was reachable');

    // The informer's API server comes back on its address.
    await startApiserver(argv, 'kube-apiserver-restarted', plane);
    await eventually('the missed changes', () => seen.length >= 3, 30_000);
    assert.deepEqual(
      seen.map((s) => `${s.event} ${s.name}`).sort(),
      ['add c', 'delete a', 'update b'],
    );
    assert.deepEqual(
      informer.list().map((o) => `${o.metadata.name}:${o.spec.encoding ?? ''}`).sort(),
      ['b:latin1', 'c:'],
    );

    // And it is watching again.
    apply(plane, database(ns, 'd'));
    await eventually('add of d', () => informer.get(ns, 'd') !== undefined);
    assert.deepEqual(seen.slice(3), [{ event: 'add', name: 'd' }]);
  });
});
