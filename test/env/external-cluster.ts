// The manifests that put a test MariaDB server under the operator: its admin
// account in a Secret and an external MySQLCluster that admits every
// namespace (tests of tenancy add clusters of their own).
import { apiVersion } from '../../src/api/common.ts';
import type { MariaDBInstance } from './mariadb.ts';

export interface ExternalClusterManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  [field: string]: unknown;
}

export function externalClusterManifests(
  server: Pick<MariaDBInstance, 'host' | 'port' | 'adminUser' | 'adminPassword'>,
  cluster: { namespace: string; name: string },
  adminSecret = 'mariadb-admin',
): ExternalClusterManifest[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: adminSecret, namespace: cluster.namespace },
      stringData: { username: server.adminUser, password: server.adminPassword },
    },
    {
      apiVersion,
      kind: 'MySQLCluster',
      metadata: { name: cluster.name, namespace: cluster.namespace },
      spec: { external: { host: server.host, port: server.port, adminSecretRef: { name: adminSecret } }, allowedNamespaces: { from: 'All' } },
    },
  ];
}
