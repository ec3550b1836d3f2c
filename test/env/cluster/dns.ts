// Cluster DNS: CoreDNS, built from its Go module, runs as a process on the
// bridge's address with its kubernetes plugin, and the kube-dns Service
// (10.96.0.10, where every pod's resolv.conf points) leads to it through an
// EndpointSlice. As a process rather than a pod it needs no image and keeps
// answering while nodes are drained or killed — the tests are about the
// operator, not about DNS failover.
//
// It has no `forward`: names outside cluster.local get no answer, so nothing
// asks resolvers off this machine.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from '../controlplane.ts';
import { kubectl } from '../kubectl.ts';
import { freePort } from '../ports.ts';
import { startProcess, waitUntil, type StartedProcess } from '../processes.ts';
import { clusterDnsAddress, clusterDomain, type ClusterNetwork } from './addresses.ts';

function corefile(network: ClusterNetwork, kubeconfig: string, readyPort: number): string {
  return `.:53 {
    bind ${network.hostAddress}
    errors
    ready 127.0.0.1:${readyPort}
    kubernetes ${clusterDomain} in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfig} flightdeck-local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    cache 5
}
`;
}

/** The kube-dns Service and an EndpointSlice naming the CoreDNS process. */
function kubeDnsManifests(network: ClusterNetwork): string {
  const ports = [
    { name: 'dns', port: 53, protocol: 'UDP' },
    { name: 'dns-tcp', port: 53, protocol: 'TCP' },
  ];
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' } },
    spec: { clusterIP: clusterDnsAddress, ports: ports.map((p) => ({ ...p, targetPort: p.port })) },
  };
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kube-dns-coredns',
      namespace: 'kube-system',
      labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': 'local-cluster.flightdeck.t7.io' },
    },
    addressType: 'IPv4',
    ports,
    endpoints: [{ addresses: [network.hostAddress], conditions: { ready: true } }],
  };
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [service, slice] });
}

/**
 * Starts CoreDNS under `dir`, returns once it has synced with the API server,
 * and creates the kube-dns Service for it. `started` learns the process as
 * soon as it runs.
 */
export async function startClusterDns(plane: ControlPlane, network: ClusterNetwork, dir: string, started: (p: StartedProcess) => void): Promise<StartedProcess> {
  const readyPort = await freePort();
  const config = join(dir, 'Corefile');
  writeFileSync(config, corefile(network, plane.kubeconfig, readyPort));
  const proc = startProcess({
    name: 'coredns',
    command: join(plane.binDir, 'coredns'),
    args: ['-conf', config],
    logFile: join(dir, 'coredns.log'),
    cwd: dir,
  });
  started(proc);
  await waitUntil(
    'CoreDNS to be ready',
    () => fetch(`http://127.0.0.1:${readyPort}/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok),
    { timeoutMs: 60_000, process: proc, intervalMs: 200 },
  );
  kubectl(plane, ['apply', '--server-side', '--field-manager=flightdeck-local-cluster', '-f', '-'], kubeDnsManifests(network));
  return proc;
}
