// The local cluster's object store: SeaweedFS (../object-store.ts) as a host
// process on the bridge's address, like CoreDNS and the volume provisioner,
// so that pods reach it and draining or killing nodes never takes it away.
// A bucket `backups` is created, and the Secret flightdeck-system/object-store
// tells a user (or a test) the endpoint, bucket, region and keys — under the
// key names a MySQLBackup's credentialsSecret expects by default.
import type { ControlPlane } from '../controlplane.ts';
import { kubectl } from '../kubectl.ts';
import { startObjectStore, type ObjectStoreRecord } from '../object-store.ts';
import type { ClusterNetwork } from './addresses.ts';

/** Where the local cluster's store is described, and its bucket. */
export const objectStoreSecret = { namespace: 'flightdeck-system', name: 'object-store' } as const;
export const objectStoreBucket = 'backups';

function secretManifests(store: ObjectStoreRecord): string {
  const labels = { 'app.kubernetes.io/part-of': 'flightdeck-local-cluster' };
  const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: objectStoreSecret.namespace, labels } };
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: objectStoreSecret.name, namespace: objectStoreSecret.namespace, labels },
    type: 'Opaque',
    stringData: {
      endpoint: store.endpoint,
      bucket: objectStoreBucket,
      region: store.region,
      AWS_ACCESS_KEY_ID: store.accessKeyId,
      AWS_SECRET_ACCESS_KEY: store.secretAccessKey,
    },
  };
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [namespace, secret] });
}

/**
 * Starts the store under `dir` on the bridge's address with the bucket
 * `backups`, and writes the Secret describing it. `started` learns the store
 * as soon as its process runs (also when a later step fails).
 */
export async function startClusterObjectStore(plane: ControlPlane, network: ClusterNetwork, dir: string, started: (store: ObjectStoreRecord) => void): Promise<ObjectStoreRecord> {
  const store = await startObjectStore({ host: network.hostAddress, dir, buckets: [objectStoreBucket], onStarted: started });
  kubectl(plane, ['apply', '--server-side', '--field-manager=flightdeck-local-cluster', '-f', '-'], secretManifests(store));
  return store;
}
