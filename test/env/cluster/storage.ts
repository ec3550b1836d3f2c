// Storage of the local cluster: node-volumes, a dynamic provisioner of
// node-local volumes built from Go modules (test/env/provisioner), and the
// default StorageClass that names it. A claim gets a directory under the
// directory of the node its pod was scheduled to, as a `local`
// PersistentVolume with node affinity to that node — node-local storage as on
// bare-metal clusters. The provisioner is a host process (like CoreDNS), so
// that draining or killing nodes never takes it away; the volumes live under
// the cluster's directory, so stopLocalCluster removes them with it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from '../controlplane.ts';
import { kubectl } from '../kubectl.ts';
import { repoRoot } from '../paths.ts';
import { startProcess, waitUntil, type StartedProcess } from '../processes.ts';
import { componentKubeconfig } from './credentials.ts';

/** The name StorageClasses give as `provisioner`. */
export const provisionerName = 'local-cluster.flightdeck.t7.io/node-volumes';
/** The default StorageClass: WaitForFirstConsumer, reclaim policy Delete, no expansion. */
export const defaultStorageClassName = 'node-local';
/** The provisioner's identity; RBAC below grants it what the provisioning library needs. */
const identity = 'system:flightdeck:node-volumes';

/** `<nodes dir>/<node>/volumes/<pv>`: where a node's volumes are (the provisioner's own layout). */
export function nodeVolumesDir(nodeDir: string): string {
  return join(nodeDir, 'volumes');
}

let built: string | undefined;

/** The provisioner's binary, built by test/env/provisioner/build.sh when the cache lacks it (progress on stderr). */
export function provisionerBinary(): string {
  built ??= join(execFileSync(join(repoRoot, 'test/env/provisioner/build.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim(), 'node-volumes');
  return built;
}

/** The ClusterRole and binding of the provisioner, and the default StorageClass. */
function storageManifests(): string {
  const labels = { 'app.kubernetes.io/part-of': 'flightdeck-local-cluster' };
  const role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'flightdeck:node-volumes', labels },
    rules: [
      // Creates volumes, deletes released ones, and manages its finalizer on them.
      { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'] },
      // Reads claims; removes the selected-node annotation to ask for another node.
      { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list', 'watch', 'update'] },
      { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'update', 'patch'] },
    ],
  };
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'flightdeck:node-volumes', labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: identity }],
  };
  const storageClass = {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: defaultStorageClassName, labels, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: provisionerName,
    reclaimPolicy: 'Delete',
    // The node is known only once a pod using the claim is scheduled.
    volumeBindingMode: 'WaitForFirstConsumer',
    // A directory has no size to grow: the capacity is what was asked, not enforced.
    allowVolumeExpansion: false,
  };
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [role, binding, storageClass] });
}

/**
 * Starts the provisioner under `dir` for the nodes whose directories are in
 * `nodesDir` (named like the nodes), with RBAC for its identity and the
 * default StorageClass applied first; returns once its informers have synced.
 * `started` learns the process as soon as it runs.
 */
export async function startVolumeProvisioner(plane: ControlPlane, nodesDir: string, dir: string, started: (p: StartedProcess) => void): Promise<StartedProcess> {
  const binary = provisionerBinary();
  mkdirSync(dir, { recursive: true });
  mkdirSync(nodesDir, { recursive: true });
  kubectl(plane, ['apply', '--server-side', '--field-manager=flightdeck-local-cluster', '-f', '-'], storageManifests());
  const kubeconfig = componentKubeconfig(plane, dir, 'node-volumes', `/CN=${identity}`);
  const proc = startProcess({
    name: 'node-volumes',
    command: binary,
    args: [`--kubeconfig=${kubeconfig}`, `--nodes-dir=${nodesDir}`, `--provisioner-name=${provisionerName}`],
    logFile: join(dir, 'node-volumes.log'),
    cwd: dir,
  });
  started(proc);
  // The library logs this once its informers of claims, volumes and classes have synced.
  await waitUntil(
    'the volume provisioner to start',
    () => Promise.resolve(existsSync(proc.logFile) && readFileSync(proc.logFile, 'utf8').includes('Started provisioner controller')),
    { timeoutMs: 60_000, process: proc, intervalMs: 200 },
  );
  return proc;
}
