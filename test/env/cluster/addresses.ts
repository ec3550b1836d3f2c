// The address plan of a local cluster. Everything lives on this machine:
//
//   bridge fdk<i>, 10.201.<i>.1/24     in the host's namespace: the API server and
//                                       CoreDNS listen on 10.201.<i>.1
//   node n: netns fdk<i>-node-<n>      eth0 10.201.<i>.<10+n>, a veth into the bridge;
//           pods on its cni0 bridge     10.244.<n>.0/24
//   Services                           10.96.0.0/16 (cluster DNS 10.96.0.10), only
//                                       inside the nodes' namespaces (kube-proxy)
//
// The index <i> lets several clusters (a developer's and a test run's) run
// side by side: only the bridge and its /24 exist in the host's namespace,
// and each cluster takes the first index whose bridge name is free. The pod
// and Service ranges are the same in every cluster because they exist only
// inside that cluster's node namespaces, which have no default route: nothing
// they send can leave the machine.

/** Pod addresses of all nodes; each node's pods get the /24 of its number. */
export const podNetwork = '10.244.0.0/16';
/** Must match kube-apiserver's --service-cluster-ip-range (test/env/controlplane.ts). */
export const serviceNetwork = '10.96.0.0/16';
export const clusterDnsAddress = '10.96.0.10';
export const clusterDomain = 'cluster.local';
/** The highest cluster index; 10.201.0.0/24 … 10.201.199.0/24. */
export const maxClusterIndex = 199;
export const maxNodes = 200;

export interface ClusterNetwork {
  readonly index: number;
  /** Name of the bridge in the host's network namespace. */
  readonly bridge: string;
  /** The bridge's address: the API server's and CoreDNS's. */
  readonly hostAddress: string;
  /** `10.201.<i>.0/24`. */
  readonly subnet: string;
  readonly prefixLength: number;
}

export interface NodeNetwork {
  /** 1-based. */
  readonly number: number;
  /** The Kubernetes node name, `node-<n>`. */
  readonly name: string;
  /** Name of the network namespace (`ip netns`), unique on the machine. */
  readonly netns: string;
  /** The host end of the node's veth pair, enslaved to the bridge. */
  readonly hostVeth: string;
  /** The node's address on the bridge (its eth0). */
  readonly address: string;
  /** This node's pod /24. */
  readonly podSubnet: string;
}

export function clusterNetwork(index: number): ClusterNetwork {
  if (!Number.isInteger(index) || index < 0 || index > maxClusterIndex) throw new Error(`cluster index ${index} is not in 0..${maxClusterIndex}`);
  return { index, bridge: `fdk${index}`, hostAddress: `10.201.${index}.1`, subnet: `10.201.${index}.0/24`, prefixLength: 24 };
}

export function nodeNetwork(cluster: ClusterNetwork, number: number): NodeNetwork {
  if (!Number.isInteger(number) || number < 1 || number > maxNodes) throw new Error(`node number ${number} is not in 1..${maxNodes}`);
  return {
    number,
    name: `node-${number}`,
    netns: `fdk${cluster.index}-node-${number}`,
    // Interface names have at most 15 characters: fdk199v200 has 10.
    hostVeth: `fdk${cluster.index}v${number}`,
    address: `10.201.${cluster.index}.${10 + number}`,
    podSubnet: `10.244.${number}.0/24`,
  };
}
