// Creates and removes the local cluster's network (see addresses.ts): a
// bridge in the host's namespace, and per node a network namespace joined to
// it by a veth pair. Everything a node's components change — iptables rules of
// kube-proxy and the CNI plugins, sysctls, pod interfaces — lives inside the
// node's namespace and disappears with it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { clusterNetwork, maxClusterIndex, nodeNetwork, podNetwork, serviceNetwork, type ClusterNetwork, type NodeNetwork } from './addresses.ts';

function ip(args: readonly string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`ip ${args.join(' ')} failed: ${stderr.trim()}`, { cause: error });
  }
}

/** Runs a command inside the node's network namespace (and no other namespace). */
export function inNode(node: Pick<NodeNetwork, 'netns'>, command: string, args: readonly string[]): string {
  try {
    return execFileSync('nsenter', [`--net=${netnsPath(node)}`, '--', command, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${command} ${args.join(' ')} in ${node.netns} failed: ${stderr.trim()}`, { cause: error });
  }
}

export function netnsPath(node: Pick<NodeNetwork, 'netns'>): string {
  return `/run/netns/${node.netns}`;
}

function interfaceExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** Whether an address of 10.201.<index>.0/24 is already on some interface of the host. */
function subnetInUse(cluster: ClusterNetwork): boolean {
  const prefix = cluster.hostAddress.slice(0, cluster.hostAddress.lastIndexOf('.') + 1);
  return ip(['-o', '-4', 'addr', 'show']).includes(` ${prefix}`);
}

/**
 * Creates the bridge of a new cluster with the lowest free index and returns
 * its plan. Creating the link is the reservation: of two concurrent callers,
 * `ip link add` fails for the second, which moves on to the next index.
 */
export function createClusterBridge(): ClusterNetwork {
  for (let index = 0; index <= maxClusterIndex; index++) {
    const cluster = clusterNetwork(index);
    if (interfaceExists(cluster.bridge) || subnetInUse(cluster)) continue;
    try {
      ip(['link', 'add', 'name', cluster.bridge, 'type', 'bridge']);
    } catch {
      continue;
    }
    ip(['addr', 'add', `${cluster.hostAddress}/${cluster.prefixLength}`, 'dev', cluster.bridge]);
    ip(['link', 'set', cluster.bridge, 'up']);
    return cluster;
  }
  throw new Error(`no free cluster index: bridges fdk0…fdk${maxClusterIndex} all exist`);
}

/**
 * Creates node `number`'s network namespace, its veth pair into the bridge,
 * and its routing: on-link to the bridge's /24, the pod /24s of the nodes
 * `1..nodeCount` through their addresses, and the Service range onto eth0 so
 * that kube-proxy's rules can rewrite locally sent packets. There is no
 * default route: traffic to anything else fails inside the namespace.
 */
export function createNodeNetwork(cluster: ClusterNetwork, number: number, nodeCount: number): NodeNetwork {
  const node = nodeNetwork(cluster, number);
  ip(['netns', 'add', node.netns]);
  ip(['link', 'add', node.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.netns]);
  ip(['link', 'set', node.hostVeth, 'master', cluster.bridge, 'up']);
  const inNs = (args: readonly string[]): string => ip(['-n', node.netns, ...args]);
  inNs(['link', 'set', 'lo', 'up']);
  inNs(['addr', 'add', `${node.address}/${cluster.prefixLength}`, 'dev', 'eth0']);
  inNs(['link', 'set', 'eth0', 'up']);
  for (let other = 1; other <= nodeCount; other++) {
    if (other === number) continue;
    const peer = nodeNetwork(cluster, other);
    inNs(['route', 'add', peer.podSubnet, 'via', peer.address, 'dev', 'eth0']);
  }
  inNs(['route', 'add', serviceNetwork, 'dev', 'eth0']);
  // Sysctls under /proc/sys/net are per network namespace: these change the node only.
  inNode(node, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1']);
  // Pods reach the API server and CoreDNS on the bridge's address as the
  // node: the host has no routes to pod addresses (so that clusters can share
  // the pod range) and answers the node.
  inNode(node, 'iptables', [
    '-t', 'nat', '-A', 'POSTROUTING', '-s', podNetwork, '!', '-d', podNetwork, '-o', 'eth0',
    '-m', 'comment', '--comment', 'flightdeck: pods to the host bridge as the node', '-j', 'MASQUERADE',
  ]);
  return node;
}

/** Whether the named network namespace exists. */
export function netnsExists(netns: string): boolean {
  return existsSync(`/run/netns/${netns}`);
}

/**
 * Removes a node's namespace (and with it its veth pair, pod interfaces and
 * iptables rules). Missing pieces are skipped, so it also cleans up after a
 * half-finished start.
 */
export function deleteNodeNetwork(node: Pick<NodeNetwork, 'netns' | 'hostVeth'>): void {
  if (netnsExists(node.netns)) ip(['netns', 'delete', node.netns]);
  // Gone with the namespace's end of the pair (the kernel removes it a moment
  // later), unless the namespace never got it.
  if (interfaceExists(node.hostVeth)) {
    try {
      ip(['link', 'delete', node.hostVeth]);
    } catch (error) {
      if (interfaceExists(node.hostVeth)) throw error;
    }
  }
}

export function deleteClusterBridge(cluster: Pick<ClusterNetwork, 'bridge'>): void {
  if (interfaceExists(cluster.bridge)) ip(['link', 'delete', cluster.bridge]);
}
