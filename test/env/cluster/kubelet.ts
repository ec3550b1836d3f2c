// The kubelet of one local-cluster node, in the node's network namespace
// (its address is the node's eth0), with its root, pod logs, plugin
// directories and cgroup root of its own, so that several run side by side.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from '../controlplane.ts';
import { startProcess, type StartedProcess } from '../processes.ts';
import { clusterDnsAddress, clusterDomain, type NodeNetwork } from './addresses.ts';
import { componentKubeconfig } from './credentials.ts';
import { netnsPath } from './network.ts';

export interface KubeletSettings {
  readonly node: NodeNetwork;
  /** The node's directory; the kubelet's files go to `<dir>/kubelet`. */
  readonly dir: string;
  readonly containerdSocket: string;
  /** The cgroup (in every hierarchy) under which the pods' cgroups go. */
  readonly cgroupRoot: string;
}

/** The kubelet's configuration file, as a KubeletConfiguration (JSON is YAML). */
function kubeletConfiguration(settings: KubeletSettings, kubeletDir: string): unknown {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // This machine has cgroup v1 (hybrid) and no systemd.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: settings.cgroupRoot,
    containerRuntimeEndpoint: `unix://${settings.containerdSocket}`,
    // Reachable only on the cluster's bridge. The API server has no client
    // certificate for kubelets, so `kubectl logs/exec` need anonymous access;
    // nothing outside this machine can reach the port.
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    clusterDomain,
    clusterDNS: [clusterDnsAddress],
    // No resolver of the host in pods: names outside the cluster do not resolve.
    resolvConf: '',
    podLogsDir: join(kubeletDir, 'pod-logs'),
    volumePluginDir: join(kubeletDir, 'volume-plugins'),
    // The kubelet may not lower its own OOM score without CAP_SYS_RESOURCE.
    oomScoreAdj: 0,
    failSwapOn: false,
    // Images are imported once at start and never pulled: never collect them.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // Several nodes share one disk and one memory: evict only when truly short.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%' },
    serializeImagePulls: false,
    // No systemd inhibitor locks here.
    shutdownGracePeriod: '0s',
    shutdownGracePeriodCriticalPods: '0s',
    rotateCertificates: false,
  };
}

/**
 * Starts the kubelet; it registers the node `settings.node.name` with the
 * node's address. Returns at once: the node's Ready condition says when it is
 * usable.
 */
export function startKubelet(plane: ControlPlane, settings: KubeletSettings): StartedProcess {
  const kubeletDir = join(settings.dir, 'kubelet');
  mkdirSync(kubeletDir, { recursive: true });
  const node = settings.node;
  const kubeconfig = componentKubeconfig(plane, kubeletDir, 'kubelet', `/O=system:nodes/CN=system:node:${node.name}`);
  const config = join(kubeletDir, 'config.yaml');
  writeFileSync(config, JSON.stringify(kubeletConfiguration(settings, kubeletDir), null, 2));
  return startProcess({
    name: `kubelet ${node.name}`,
    command: 'nsenter',
    args: [
      `--net=${netnsPath(node)}`,
      '--',
      join(plane.binDir, 'kubelet'),
      `--config=${config}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${join(kubeletDir, 'root')}`,
      `--hostname-override=${node.name}`,
      `--node-ip=${node.address}`,
      '--v=1',
    ],
    logFile: join(kubeletDir, 'kubelet.log'),
  });
}
