// kube-proxy of one local-cluster node, in iptables mode, in the node's
// network namespace: its rules (Services → pods) exist only there and go
// away with the namespace.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from '../controlplane.ts';
import { startProcess, type StartedProcess } from '../processes.ts';
import { podNetwork, type NodeNetwork } from './addresses.ts';
import { componentKubeconfig } from './credentials.ts';
import { netnsPath } from './network.ts';

function proxyConfiguration(node: NodeNetwork, kubeconfig: string): unknown {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig },
    mode: 'iptables',
    clusterCIDR: podNetwork,
    hostnameOverride: node.name,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    // nf_conntrack_max is one for the whole machine and read-only in a
    // network namespace: leave it (and the timeouts) as they are.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    iptables: { minSyncPeriod: '0s', syncPeriod: '30s' },
    nodePortAddresses: ['primary'],
  };
}

/** Starts kube-proxy for `node`, its files under `<dir>/kube-proxy`. */
export function startKubeProxy(plane: ControlPlane, node: NodeNetwork, dir: string): StartedProcess {
  const proxyDir = join(dir, 'kube-proxy');
  mkdirSync(proxyDir, { recursive: true });
  const kubeconfig = componentKubeconfig(plane, proxyDir, 'kube-proxy', '/CN=system:kube-proxy');
  const config = join(proxyDir, 'config.yaml');
  writeFileSync(config, JSON.stringify(proxyConfiguration(node, kubeconfig), null, 2));
  return startProcess({
    name: `kube-proxy ${node.name}`,
    command: 'nsenter',
    args: [`--net=${netnsPath(node)}`, '--', join(plane.binDir, 'kube-proxy'), `--config=${config}`, '--v=1'],
    logFile: join(proxyDir, 'kube-proxy.log'),
  });
}
