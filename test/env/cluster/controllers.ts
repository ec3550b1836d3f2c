// kube-controller-manager and kube-scheduler of the local cluster, from the
// same build as the API server, on loopback, each with its own identity.
// Without them nothing schedules pods or runs Deployments, StatefulSets,
// EndpointSlices, service-account tokens or node lifecycle.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from '../controlplane.ts';
import { freePort } from '../ports.ts';
import { httpsAnswers } from '../https-probe.ts';
import { startProcess, waitUntil, type StartedProcess } from '../processes.ts';
import { componentKubeconfig } from './credentials.ts';

/** GET https://127.0.0.1:<port>/healthz of a component with a self-signed serving certificate; true on 200. */
function healthy(port: number): Promise<boolean> {
  return httpsAnswers(`https://127.0.0.1:${port}/healthz`, { rejectUnauthorized: false });
}

function kubeconfigFlags(kubeconfig: string): string[] {
  // The same identity checks callers of its own HTTPS endpoints; /healthz is always allowed.
  return [`--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`];
}

/**
 * Starts kube-controller-manager under `dir` and returns once it is healthy;
 * `started` learns the process as soon as it runs, so that a caller can stop
 * it even when it never becomes healthy.
 * Its controllers use one service account each, as kubeadm sets it up, so a
 * missing RBAC rule shows as it would on a real cluster.
 */
export async function startControllerManager(plane: ControlPlane, dir: string, started: (p: StartedProcess) => void): Promise<StartedProcess> {
  mkdirSync(dir, { recursive: true });
  const kubeconfig = componentKubeconfig(plane, dir, 'kube-controller-manager', '/CN=system:kube-controller-manager');
  const port = await freePort();
  const pki = join(plane.dir, 'pki');
  const proc = startProcess({
    name: 'kube-controller-manager',
    command: join(plane.binDir, 'kube-controller-manager'),
    args: [
      ...kubeconfigFlags(kubeconfig),
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${dir}`,
      `--service-account-private-key-file=${join(pki, 'service-account.key')}`,
      `--root-ca-file=${join(pki, 'ca.crt')}`,
      '--use-service-account-credentials=true',
      '--cluster-name=flightdeck-local',
      // One instance: nothing to elect, and a restart takes over at once.
      '--leader-elect=false',
      '--profiling=false',
      '--v=1',
    ],
    logFile: join(dir, 'kube-controller-manager.log'),
  });
  started(proc);
  await waitUntil('kube-controller-manager to become healthy', () => healthy(port), { timeoutMs: 60_000, process: proc, intervalMs: 200 });
  return proc;
}

/** Starts kube-scheduler under `dir` and returns once it is healthy; `started` as for the controller manager. */
export async function startScheduler(plane: ControlPlane, dir: string, started: (p: StartedProcess) => void): Promise<StartedProcess> {
  mkdirSync(dir, { recursive: true });
  const kubeconfig = componentKubeconfig(plane, dir, 'kube-scheduler', '/CN=system:kube-scheduler');
  const port = await freePort();
  const proc = startProcess({
    name: 'kube-scheduler',
    command: join(plane.binDir, 'kube-scheduler'),
    args: [...kubeconfigFlags(kubeconfig), '--bind-address=127.0.0.1', `--secure-port=${port}`, `--cert-dir=${dir}`, '--leader-elect=false', '--profiling=false', '--v=1'],
    logFile: join(dir, 'kube-scheduler.log'),
  });
  started(proc);
  await waitUntil('kube-scheduler to become healthy', () => healthy(port), { timeoutMs: 60_000, process: proc, intervalMs: 200 });
  return proc;
}
