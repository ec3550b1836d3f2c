// containerd for one node of the local cluster: Debian's containerd with
// runc and the CNI plugins, with its own config, root, state and socket
// under the node's directory (never the system's /var/lib/containerd or
// /run/containerd), running in the node's network namespace so that the CNI
// plugins put the pods' bridge and iptables rules there.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pauseImageName, type LocalImage } from '../images/images.ts';
import { startProcess, stopProcess, waitUntil, type StartedProcess } from '../processes.ts';
import { netnsPath } from './network.ts';
import type { NodeNetwork } from './addresses.ts';

export interface NodeContainerd {
  readonly process: StartedProcess;
  /** The gRPC socket; kubelet's container runtime endpoint is `unix://<socket>`. */
  readonly socket: string;
  readonly dir: string;
}

/** Where Debian's containernetworking-plugins package puts bridge, host-local, portmap, loopback. */
const cniBinDir = '/usr/lib/cni';
/**
 * Containers inherit containerd's open-files limit, and runc may not raise a
 * limit above what the machine allows without CAP_SYS_RESOURCE (missing in
 * this kind of VM); 16384 is below the hard limit seen here and ample.
 */
const openFilesLimit = 16384;

const toml = (value: string): string => JSON.stringify(value);

function configToml(dir: string, cniConfDir: string): string {
  return `# containerd of one local-cluster node (test/env/cluster/containerd.ts).
version = 2
root = ${toml(join(dir, 'root'))}
state = ${toml(join(dir, 'state'))}
# Snapshotters this machine cannot use; disabled so they do not log errors.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = ${toml(join(dir, 'containerd.sock'))}

[plugins."io.containerd.internal.v1.opt"]
  path = ${toml(join(dir, 'opt'))}

[plugins."io.containerd.grpc.v1.cri"]
  # Built and imported locally (test/env/images); never pulled.
  sandbox_image = ${toml(pauseImageName)}
  # Without CAP_SYS_RESOURCE containerd may not lower a container's OOM score below its own.
  restrict_oom_score_adj = true
  # Pod network namespaces under the state directory, not /run/netns, so teardown finds them.
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  enable_selinux = false

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # No systemd here: the cgroupfs driver, as the kubelet is told too.
        SystemdCgroup = false
        Root = ${toml(join(dir, 'state', 'runc'))}

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${toml(cniBinDir)}
    conf_dir = ${toml(cniConfDir)}

  [plugins."io.containerd.grpc.v1.cri".registry]
    # An empty hosts directory: no mirrors, no credentials.
    config_path = ${toml(join(dir, 'certs.d'))}
`;
}

/**
 * The CNI network of a node: a `cni0` bridge in the node's namespace, pod
 * addresses from the node's /24 by host-local (its state under the node's
 * directory), hairpin mode so a pod reaches itself through a Service, and
 * portmap for hostPort.
 */
function cniConfig(node: NodeNetwork, ipamDir: string): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: 'flightdeck',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: ipamDir,
            ranges: [[{ subnet: node.podSubnet }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

function ctr(socket: string, args: readonly string[]): string {
  try {
    return execFileSync('ctr', ['--address', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`ctr ${args.join(' ')} failed: ${stderr.trim()}`, { cause: error });
  }
}

/** Starts containerd for `node` under `dir` and returns once it answers on its socket. */
export async function startContainerd(node: NodeNetwork, dir: string): Promise<NodeContainerd> {
  const cniConfDir = join(dir, 'cni', 'net.d');
  mkdirSync(cniConfDir, { recursive: true });
  mkdirSync(join(dir, 'certs.d'), { recursive: true });
  writeFileSync(join(cniConfDir, '10-flightdeck.conflist'), cniConfig(node, join(dir, 'cni', 'ipam')));
  const config = join(dir, 'config.toml');
  writeFileSync(config, configToml(dir, cniConfDir));
  const socket = join(dir, 'containerd.sock');
  const proc = startProcess({
    name: `containerd ${node.name}`,
    command: 'nsenter',
    // nsenter and prlimit exec the next program: the recorded pid is containerd's.
    args: [`--net=${netnsPath(node)}`, '--', 'prlimit', `--nofile=${openFilesLimit}:${openFilesLimit}`, '--', 'containerd', '--config', config],
    logFile: join(dir, 'containerd.log'),
  });
  try {
    await waitUntil(
      `containerd of ${node.name} to answer`,
      () => Promise.resolve(existsSync(socket) && ctr(socket, ['version']).includes('Server:')),
      { timeoutMs: 30_000, process: proc, intervalMs: 100 },
    );
  } catch (error) {
    await stopProcess(proc.pid);
    throw error;
  }
  return { process: proc, socket, dir };
}

const execFileAsync = promisify(execFile);

/**
 * Imports image archives into the node's `k8s.io` namespace, where the
 * kubelet's CRI finds them. Asynchronous, because an import takes seconds
 * and the control plane starts meanwhile.
 */
export async function importImages(containerd: Pick<NodeContainerd, 'socket'>, images: readonly LocalImage[]): Promise<void> {
  for (const image of images) {
    const args = ['--address', containerd.socket, '--namespace', 'k8s.io', 'images', 'import', image.archive];
    try {
      await execFileAsync('ctr', args);
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`ctr ${args.join(' ')} failed: ${stderr.trim()}`, { cause: error });
    }
  }
}

/**
 * Gives image `source` of the node's `k8s.io` namespace a second name,
 * `target` (replacing any image of that name): the same content under a new
 * tag, which is what a user changing a cluster's image to a new release does
 * as far as the cluster can tell.
 */
export function tagImage(containerd: Pick<NodeContainerd, 'socket'>, source: string, target: string): void {
  ctr(containerd.socket, ['--namespace', 'k8s.io', 'images', 'tag', '--force', source, target]);
}

/** Names of the images in the node's `k8s.io` namespace. */
export function listImages(containerd: Pick<NodeContainerd, 'socket'>): string[] {
  return ctr(containerd.socket, ['--namespace', 'k8s.io', 'images', 'list', '--quiet']).split('\n').filter((l) => l !== '');
}

/**
 * Kills and deletes every task (running container) of the node, so that
 * their shims exit and unmount the containers' root file systems. Errors of
 * single tasks are ignored: teardown continues with what it can stop, and the
 * caller kills what is left by cgroup.
 */
export function removeAllTasks(containerd: Pick<NodeContainerd, 'socket'>): void {
  let ids: string[];
  try {
    ids = ctr(containerd.socket, ['--namespace', 'k8s.io', 'tasks', 'list', '--quiet']).split('\n').filter((l) => l !== '');
  } catch {
    return;
  }
  for (const id of ids) {
    try {
      ctr(containerd.socket, ['--namespace', 'k8s.io', 'tasks', 'kill', '--signal', 'SIGKILL', id]);
    } catch {
      // Already exited.
    }
  }
  for (const id of ids) {
    try {
      ctr(containerd.socket, ['--namespace', 'k8s.io', 'tasks', 'delete', '--force', id]);
    } catch {
      // Gone already; the shim is killed below by the caller if not.
    }
  }
}
