// A real Kubernetes control plane on loopback: etcd and kube-apiserver built
// from their Go modules (test/env/kubebuild), with generated certificates and
// an admin kubeconfig. Used by the integration tests and `flightdeck dev up`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { controlPlaneCertificates, type ControlPlaneCertificates } from './certificates.ts';
import { httpsAnswers } from './https-probe.ts';
import { freePort } from './ports.ts';
import { startProcess, stopProcess, waitUntil, type StartedProcess } from './processes.ts';
import { repoRoot } from './paths.ts';

/** Where the control plane's processes and files are; enough to stop it later. */
export interface ControlPlane {
  readonly dir: string;
  readonly url: string;
  readonly kubeconfig: string;
  readonly binDir: string;
  readonly etcd: StartedProcess;
  readonly apiserver: StartedProcess;
  readonly etcdUrl: string;
  /** The API server's port, kept across restarts. */
  readonly port: number;
}

/**
 * Builds kube-apiserver, kubectl and etcd when the cache lacks them and returns
 * the directory that holds them. A cold build takes minutes; progress goes to
 * stderr.
 */
export function kubeBinaries(): string {
  const script = join(repoRoot, 'test/env/kubebuild/build.sh');
  return execFileSync(script, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function kubeconfigYaml(url: string, certs: ControlPlaneCertificates): string {
  const b64 = (file: string): string => readFileSync(file).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: flightdeck-local
  cluster:
    server: ${url}
    certificate-authority-data: ${b64(certs.caCert)}
users:
- name: flightdeck-admin
  user:
    client-certificate-data: ${b64(certs.adminCert)}
    client-key-data: ${b64(certs.adminKey)}
contexts:
- name: flightdeck-local
  context:
    cluster: flightdeck-local
    user: flightdeck-admin
    namespace: default
current-context: flightdeck-local
`;
}

/** GET `path` on the API server with the admin certificate; true on 200. */
function apiserverAnswers(url: string, path: string, certs: ControlPlaneCertificates): Promise<boolean> {
  return httpsAnswers(`${url}${path}`, {
    ca: readFileSync(certs.caCert),
    cert: readFileSync(certs.adminCert),
    key: readFileSync(certs.adminKey),
  });
}

function etcdHealthy(clientUrl: string): Promise<boolean> {
  return fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(2000) })
    .then(async (res) => res.ok && ((await res.json()) as { health?: string }).health === 'true')
    .catch(() => false);
}

export interface StartControlPlaneOptions {
  /** Directory for data, certificates, logs and the kubeconfig; created if missing. */
  dir: string;
  /** Fixed API server port; a free one when absent. */
  apiserverPort?: number;
  /**
   * The IP address the API server listens on and advertises (the endpoint of
   * the `kubernetes` Service); 127.0.0.1 when absent. The local cluster gives
   * its bridge's address, which its nodes' network namespaces reach.
   */
  address?: string;
}

/** Starts etcd and kube-apiserver and returns once the API server is ready. */
export async function startControlPlane(options: StartControlPlaneOptions): Promise<ControlPlane> {
  const binDir = kubeBinaries();
  const dir = options.dir;
  mkdirSync(join(dir, 'etcd'), { recursive: true });
  const address = options.address ?? '127.0.0.1';
  const certs = controlPlaneCertificates(join(dir, 'pki'), address === '127.0.0.1' ? [] : [address]);

  const etcdClientPort = await freePort();
  const etcdPeerPort = await freePort();
  const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
  const etcd = startProcess({
    name: 'etcd',
    command: join(binDir, 'etcd'),
    args: [
      '--name=flightdeck-local',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=flightdeck-local=http://127.0.0.1:${etcdPeerPort}`,
      // A throw-away store: skipping fsync makes every write much faster, and
      // losing it in a machine crash costs nothing.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    logFile: join(dir, 'etcd.log'),
  });
  try {
    await waitUntil('etcd to become healthy', () => etcdHealthy(etcdUrl), { timeoutMs: 30_000, process: etcd });

    const port = options.apiserverPort ?? (await freePort());
    const url = `https://${address}:${port}`;
    const apiserver = await startApiServer({ binDir, dir, etcdUrl, address, port, certs });
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(url, certs), { mode: 0o600 });
    // The API server creates `default` shortly after /readyz; objects need it.
    await waitUntil('the default namespace', () => apiserverAnswers(url, '/api/v1/namespaces/default', certs), {
      timeoutMs: 30_000,
      process: apiserver,
      intervalMs: 200,
    });
    return { dir, url, kubeconfig, binDir, etcd, apiserver, etcdUrl, port };
  } catch (error) {
    await stopProcess(etcd.pid);
    throw error;
  }
}

interface ApiServerSettings {
  binDir: string;
  dir: string;
  etcdUrl: string;
  address: string;
  port: number;
  certs: ControlPlaneCertificates;
}

async function startApiServer(settings: ApiServerSettings): Promise<StartedProcess> {
  const { binDir, dir, etcdUrl, address, port, certs } = settings;
  const apiserver = startProcess({
    name: 'kube-apiserver',
    command: join(binDir, 'kube-apiserver'),
    args: [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${address}`,
      `--advertise-address=${address}`,
      `--secure-port=${port}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--tls-cert-file=${certs.serverCert}`,
      `--tls-private-key-file=${certs.serverKey}`,
      `--client-ca-file=${certs.caCert}`,
      `--service-account-key-file=${certs.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${certs.serviceAccountKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      // Addresses only handed out to Services; nothing is routed to them here.
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=Node,RBAC',
      // Reach kubelets (logs, exec) by address: a node's host name means
      // nothing to this machine's resolver, and asking it would send a query
      // off the machine.
      '--kubelet-preferred-address-types=InternalIP',
      '--allow-privileged=true',
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      '--v=1',
    ],
    logFile: join(dir, 'kube-apiserver.log'),
  });
  await waitUntil('kube-apiserver to become ready', () => apiserverAnswers(`https://${address}:${port}`, '/readyz', certs), {
    timeoutMs: 90_000,
    process: apiserver,
    intervalMs: 200,
  });
  return apiserver;
}

/**
 * Stops kube-apiserver and starts it again on the same port and etcd, as an
 * upgrade or a crash would; returns the control plane with the new process.
 */
export async function restartApiServer(plane: ControlPlane): Promise<ControlPlane> {
  await stopProcess(plane.apiserver.pid);
  const certs = controlPlaneCertificates(join(plane.dir, 'pki'));
  const address = new URL(plane.url).hostname;
  const apiserver = await startApiServer({ binDir: plane.binDir, dir: plane.dir, etcdUrl: plane.etcdUrl, address, port: plane.port, certs });
  return { ...plane, apiserver };
}

/** Stops the API server first, so it does not log a storm of etcd errors. */
export async function stopControlPlane(plane: Pick<ControlPlane, 'etcd' | 'apiserver'>): Promise<void> {
  await stopProcess(plane.apiserver.pid);
  await stopProcess(plane.etcd.pid);
}
