// A small real Kubernetes cluster on this machine: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, CoreDNS, the volume provisioner
// (storage.ts) and an S3-compatible object store (object-store.ts) as processes on the host, and N nodes, each a network namespace with containerd, kubelet and
// kube-proxy, joined by a bridge (addresses.ts has the plan). Pods run in real
// containers (runc) from locally built images (test/env/images).
//
// startLocalCluster records what it created in the returned object (plain
// JSON); stopLocalCluster removes exactly that — processes, containers,
// mounts, cgroups, namespaces, interfaces — and tolerates a half-started
// cluster.
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { startControlPlane, stopControlPlane, kubeBinaries, type ControlPlane } from '../controlplane.ts';
import { clusterImages, type LocalImage } from '../images/images.ts';
import { kubectlResult } from '../kubectl.ts';
import { unmountUnder } from '../mounts.ts';
import { isAlive, stopProcess, waitUntil, type StartedProcess } from '../processes.ts';
import type { ClusterNetwork, NodeNetwork } from './addresses.ts';
import { createNodeCgroup, removeNodeCgroup } from './cgroups.ts';
import { importImages, removeAllTasks, startContainerd, tagImage, type NodeContainerd } from './containerd.ts';
import { startControllerManager, startScheduler } from './controllers.ts';
import { startClusterDns } from './dns.ts';
import { startKubelet } from './kubelet.ts';
import { startKubeProxy } from './kubeproxy.ts';
import { createClusterBridge, createNodeNetwork, deleteClusterBridge, deleteNodeNetwork } from './network.ts';
import { provisionerBinary, startVolumeProvisioner } from './storage.ts';
import { objectStoreBinary, stopObjectStore, type ObjectStoreRecord } from '../object-store.ts';
import { startClusterObjectStore } from './object-store.ts';

export interface LocalClusterNode {
  readonly network: NodeNetwork;
  readonly dir: string;
  /** The kubelet's cgroupRoot, in every hierarchy. */
  readonly cgroup: string;
  containerd?: NodeContainerd;
  kubelet?: StartedProcess;
  kubeProxy?: StartedProcess;
}

/** What a cluster consists of; everything optional is absent until started. */
export interface LocalCluster {
  readonly dir: string;
  network?: ClusterNetwork;
  controlPlane?: ControlPlane;
  controllerManager?: StartedProcess;
  scheduler?: StartedProcess;
  dns?: StartedProcess;
  /** The dynamic volume provisioner of the default StorageClass (storage.ts). */
  provisioner?: StartedProcess;
  /** The S3-compatible store on the bridge's address, with the bucket `backups` (object-store.ts). */
  objectStore?: ObjectStoreRecord;
  readonly nodes: LocalClusterNode[];
  images?: LocalImage[];
  startedAt?: string;
}

/** A fully started cluster. */
export type RunningLocalCluster = LocalCluster & {
  network: ClusterNetwork;
  controlPlane: ControlPlane;
  controllerManager: StartedProcess;
  scheduler: StartedProcess;
  dns: StartedProcess;
  provisioner: StartedProcess;
  objectStore: ObjectStoreRecord;
  images: LocalImage[];
  startedAt: string;
};

/** The directory of the nodes' directories, each named like its node; the provisioner puts volumes in them. */
function nodesDir(clusterDir: string): string {
  return join(clusterDir, 'nodes');
}

/** Runs one named step of the start, for progress output; the dev CLI shows them. */
export type Step = <T>(label: string, work: () => Promise<T> | T) => Promise<T>;

const quietStep: Step = async (_label, work) => work();

export interface StartLocalClusterOptions {
  /** Directory for all state and logs; created, and removed by stopLocalCluster. */
  readonly dir: string;
  /** Number of nodes, at least 1. */
  readonly nodes: number;
  readonly step?: Step;
  /**
   * Called with the cluster record whenever something was created, so the
   * caller can persist it and tear down even after a crash of the start.
   */
  readonly onChange?: (cluster: LocalCluster) => void;
}

/** Every process a cluster record names, nodes first. */
export function clusterProcesses(cluster: LocalCluster): StartedProcess[] {
  const nodeProcesses = cluster.nodes.flatMap((n) => [n.kubeProxy, n.kubelet, n.containerd?.process]);
  const plane = cluster.controlPlane === undefined ? [] : [cluster.controlPlane.apiserver, cluster.controlPlane.etcd];
  return [...nodeProcesses, cluster.objectStore?.process, cluster.provisioner, cluster.dns, cluster.scheduler, cluster.controllerManager, ...plane].filter((p): p is StartedProcess => p !== undefined);
}

export function isClusterRunning(cluster: LocalCluster): boolean {
  return cluster.startedAt !== undefined && clusterProcesses(cluster).every((p) => isAlive(p.pid));
}

/**
 * Awaits every promise, also after one failed, so that nothing still starts
 * processes when the caller cleans up; then throws the first failure.
 */
async function settleAll(promises: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  for (const result of results) {
    if (result.status === 'rejected') throw result.reason;
  }
}

/**
 * etcd and kube-apiserver, then kube-controller-manager, kube-scheduler,
 * CoreDNS, the volume provisioner (with the default StorageClass) and the
 * object store (with its bucket and Secret); each recorded as soon as it runs.
 */
async function startControlPlaneAndControllers(cluster: LocalCluster, network: ClusterNetwork, changed: () => void): Promise<void> {
  const plane = await startControlPlane({ dir: join(cluster.dir, 'controlplane'), address: network.hostAddress });
  cluster.controlPlane = plane;
  changed();
  const record = (key: 'controllerManager' | 'scheduler' | 'dns' | 'provisioner') => (p: StartedProcess): void => {
    cluster[key] = p;
    changed();
  };
  await settleAll([
    startControllerManager(plane, join(cluster.dir, 'kube-controller-manager'), record('controllerManager')),
    startScheduler(plane, join(cluster.dir, 'kube-scheduler'), record('scheduler')),
    startClusterDns(plane, network, join(cluster.dir, 'controlplane'), record('dns')),
    startVolumeProvisioner(plane, nodesDir(cluster.dir), join(cluster.dir, 'node-volumes'), record('provisioner')),
    startClusterObjectStore(plane, network, join(cluster.dir, 'object-store'), (store) => {
      cluster.objectStore = store;
      changed();
    }),
  ]);
}

/** The node's cgroup and containerd, with the images imported. */
async function startRuntime(node: LocalClusterNode, images: readonly LocalImage[], changed: () => void): Promise<void> {
  createNodeCgroup(node.cgroup);
  node.containerd = await startContainerd(node.network, join(node.dir, 'containerd'));
  changed();
  await importImages(node.containerd, images);
}

function startNodeAgents(plane: ControlPlane, node: LocalClusterNode, changed: () => void): void {
  const containerd = node.containerd;
  if (containerd === undefined) throw new Error(`containerd of ${node.network.name} is not running`);
  node.kubelet = startKubelet(plane, { node: node.network, dir: node.dir, containerdSocket: containerd.socket, cgroupRoot: `/${node.cgroup}` });
  changed();
  node.kubeProxy = startKubeProxy(plane, node.network, node.dir);
  changed();
}

/** Polls `kubectl get` until `check` accepts its JSON output. */
async function waitForObject(plane: ControlPlane, what: string, args: readonly string[], check: (json: unknown) => boolean, timeoutMs: number, processes: readonly StartedProcess[]): Promise<void> {
  await waitUntil(
    what,
    () => {
      for (const p of processes) {
        if (!isAlive(p.pid)) throw new Error(`${p.name} exited; see ${p.logFile}`);
      }
      const result = kubectlResult(plane, [...args, '-o', 'json']);
      return Promise.resolve(result.status === 0 && check(JSON.parse(result.stdout)));
    },
    { timeoutMs, intervalMs: 250 },
  );
}

interface NodeList {
  items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}

/**
 * Starts a cluster with `options.nodes` nodes and returns once every node is
 * Ready, the `default` service account exists (pods can be created), CoreDNS
 * and the volume provisioner have synced and the default StorageClass exists. Builds binaries and images first when the cache lacks them. On
 * failure, removes what it created and rethrows.
 */
export async function startLocalCluster(options: StartLocalClusterOptions): Promise<RunningLocalCluster> {
  if (options.nodes < 1) throw new Error(`a local cluster needs at least one node, not ${options.nodes}`);
  if (process.getuid?.() !== 0) throw new Error('a local cluster needs root: it creates network namespaces, mounts and cgroups');
  const step = options.step ?? quietStep;
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const cluster: LocalCluster = { dir, nodes: [] };
  const changed = (): void => options.onChange?.(cluster);
  try {
    const binDir = await step('building or finding Kubernetes binaries, the volume provisioner and the object store', () => {
      provisionerBinary();
      objectStoreBinary();
      return kubeBinaries();
    });
    cluster.images = await step('building or finding images (pause, MariaDB)', () => clusterImages(binDir));
    const network = await step('creating the cluster bridge and the nodes\' network namespaces', () => {
      const created = createClusterBridge();
      cluster.network = created;
      changed();
      for (let number = 1; number <= options.nodes; number++) {
        const nodeNet = createNodeNetwork(created, number, options.nodes);
        cluster.nodes.push({ network: nodeNet, dir: join(nodesDir(dir), nodeNet.name), cgroup: nodeNet.netns });
        changed();
      }
      return created;
    });
    const images = cluster.images;
    // The control plane and the nodes' runtimes do not depend on each other:
    // the image imports (disk-bound) overlap the API server's start (CPU-bound).
    const plane = await step(
      `starting the control plane on ${network.hostAddress}; containerd with the images on ${options.nodes} node(s)`,
      async () => {
        await settleAll([startControlPlaneAndControllers(cluster, network, changed), ...cluster.nodes.map((node) => startRuntime(node, images, changed))]);
        if (cluster.controlPlane === undefined) throw new Error('the control plane did not start');
        return cluster.controlPlane;
      },
    );
    await step('starting kubelet and kube-proxy on each node', () => {
      for (const node of cluster.nodes) startNodeAgents(plane, node, changed);
    });
    await step('waiting for the nodes to become Ready', () =>
      waitForObject(
        plane,
        'every node to be Ready',
        ['get', 'nodes'],
        (json) => {
          const ready = (json as NodeList).items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
          return ready.length === options.nodes;
        },
        120_000,
        clusterProcesses(cluster),
      ),
    );
    await step('waiting for the default service account', () =>
      waitForObject(plane, 'the default service account', ['get', 'serviceaccount', 'default', '-n', 'default'], () => true, 60_000, clusterProcesses(cluster)),
    );
    cluster.startedAt = new Date().toISOString();
    changed();
    return cluster as RunningLocalCluster;
  } catch (error) {
    await stopLocalCluster(cluster).catch((cleanupError: unknown) => {
      process.stderr.write(`cleanup after the failed start failed too: ${String(cleanupError)}\n`);
    });
    throw error;
  }
}

/** Processes whose command line names `needle` (a containerd socket path), for shims that outlive containerd. */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.split('\0').includes(needle)) pids.push(Number(entry));
    } catch {
      // Exited while listing.
    }
  }
  return pids;
}

/** The kubelet's links in /var/log/containers (a fixed path) that point into `dir`. */
function removeContainerLogLinks(dir: string): void {
  const linkDir = '/var/log/containers';
  if (!existsSync(linkDir)) return;
  for (const name of readdirSync(linkDir)) {
    const path = join(linkDir, name);
    try {
      if (readlinkSync(path).startsWith(dir + sep)) unlinkSync(path);
    } catch {
      // Not a link, or gone.
    }
  }
}

/**
 * containerd 1.6 puts its shims' sockets under /run/containerd/s whatever its
 * state directory; the shims remove their sockets, the directories stay.
 * Removed when empty — a system containerd would keep them busy.
 */
function removeEmptyShimSocketDirs(): void {
  for (const dir of ['/run/containerd/s', '/run/containerd']) {
    try {
      rmdirSync(dir);
    } catch {
      // Not empty (in use by another containerd) or absent.
    }
  }
}

/**
 * Stops and removes everything `cluster` records: node components and their
 * containers (killed; this is a throw-away cluster), the control plane,
 * mounts under its directory, the nodes' cgroups, network namespaces and
 * interfaces, the kubelets' log links, and the directory itself — with the
 * nodes' directories, which hold the provisioned volumes.
 */
export async function stopLocalCluster(cluster: LocalCluster): Promise<void> {
  const errors: unknown[] = [];
  const attempt = async (work: () => Promise<void> | void): Promise<void> => {
    try {
      await work();
    } catch (error) {
      errors.push(error);
    }
  };
  // The kubelets first, so that nothing restarts containers being removed.
  await Promise.all(cluster.nodes.map((node) => attempt(async () => {
    if (node.kubelet !== undefined) await stopProcess(node.kubelet.pid);
    if (node.kubeProxy !== undefined) await stopProcess(node.kubeProxy.pid);
  })));
  for (const node of cluster.nodes) {
    const containerd = node.containerd;
    if (containerd === undefined) continue;
    await attempt(async () => {
      if (isAlive(containerd.process.pid)) removeAllTasks(containerd);
      await stopProcess(containerd.process.pid);
      for (const pid of processesMentioning(containerd.socket)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Exited meanwhile.
        }
      }
    });
  }
  for (const node of cluster.nodes) {
    await attempt(async () => {
      await removeNodeCgroup(node.cgroup);
    });
  }
  for (const proc of [cluster.provisioner, cluster.dns, cluster.scheduler, cluster.controllerManager]) {
    if (proc !== undefined) await attempt(() => stopProcess(proc.pid));
  }
  const objectStore = cluster.objectStore;
  if (objectStore !== undefined) await attempt(() => stopObjectStore(objectStore));
  const plane = cluster.controlPlane;
  if (plane !== undefined) await attempt(() => stopControlPlane(plane));
  await attempt(() => {
    unmountUnder(cluster.dir);
  });
  for (const node of cluster.nodes) {
    await attempt(() => {
      deleteNodeNetwork(node.network);
    });
  }
  const network = cluster.network;
  if (network !== undefined) await attempt(() => {
    deleteClusterBridge(network);
  });
  await attempt(() => {
    removeContainerLogLinks(cluster.dir);
    removeEmptyShimSocketDirs();
  });
  if (errors.length > 0) throw new AggregateError(errors, `the local cluster in ${cluster.dir} was not removed completely`);
  rmSync(cluster.dir, { recursive: true, force: true });
}

/** Tags image `source` as `target` on every node of a running cluster (containerd.ts tagImage). */
export function tagImageInNodes(cluster: LocalCluster, source: string, target: string): void {
  for (const node of cluster.nodes) {
    if (node.containerd === undefined) throw new Error(`containerd of ${node.network.name} is not running`);
    tagImage(node.containerd, source, target);
  }
}

/**
 * Imports further images — such as operatorImage() from ../images/images.ts —
 * into every node of a running cluster, so pods can use them with
 * `imagePullPolicy: IfNotPresent`. An image of the same name is replaced.
 */
export async function importIntoNodes(cluster: LocalCluster, images: readonly LocalImage[]): Promise<void> {
  for (const node of cluster.nodes) {
    if (node.containerd === undefined) throw new Error(`containerd of ${node.network.name} is not running`);
    await importImages(node.containerd, images);
  }
}
