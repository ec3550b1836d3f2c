import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MySQLCluster } from '../../api/mysqlcluster.ts';
import { clusterIntent } from '../../api/normalize.ts';
import { MySQLClient } from '../../mysql/client.ts';
import type { ClusterAccess } from '../cluster-access.ts';
import { runSourceAnnotation } from './job.ts';
import { physicalRun } from './physical-start.ts';

const cluster: MySQLCluster = {
  apiVersion: 'flightdeck.t7.io/v1',
  kind: 'MySQLCluster',
  metadata: { name: 'db', namespace: 'shop' },
  spec: { readerCount: 1, size: '1Gi' },
  status: {
    currentPrimary: 'db-0',
    instanceStatuses: [
      { name: 'db-0', index: 0, role: 'Writer', ready: true, gtidPosition: '0-1-10' },
      { name: 'db-1', index: 1, role: 'Reader', ready: true, gtidPosition: '0-1-10', ioThreadRunning: true, sqlThreadRunning: true },
    ],
  },
};

describe('physicalRun', () => {
  it('names the instance it copies on its Job, so a reconcile that finds the Job before its own status write still records the source', (t) => {
    // physicalRun reads the cluster and its intent only: the client (it connects lazily) never sends a statement.
    const client = MySQLClient.create({ host: 'db.shop.svc', port: 3306, user: 'flightdeck_manager', password: 'unused' });
    t.after(() => client.close());
    const access: ClusterAccess = { cluster, intent: clusterIntent(cluster), client, endpoint: { host: 'db.shop.svc', port: 3306 } };
    const spec = { cluster: { name: 'db' }, method: 'physical' as const, target: { s3: { endpoint: 'https://s3.example', bucket: 'b', credentialsSecret: { name: 'c' } } } };
    const run = physicalRun({ owner: { kind: 'MySQLBackup', namespace: 'shop', name: 'full', uid: 'u-1' }, access, spec, runId: '20261202T030000Z', attempt: 1, runPath: 'shop/full/20261202T030000Z' });
    assert.equal(run.donor.instance, 'db-1');
    assert.match(run.job.metadata.annotations?.[runSourceAnnotation] ?? '', /^db-1 \(reader\): /);
  });
});
