import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MySQLDatabase } from '../../api/mysqldatabase.ts';
import { databasesOwnedBy, scopeRefusal } from './scope.ts';

const cluster = { namespace: 'db', name: 'shared' };

function database(name: string, namespace: string, clusterName = 'shared'): MySQLDatabase {
  return { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLDatabase', metadata: { name, namespace }, spec: { cluster: { name: clusterName, namespace: 'db' } } };
}

describe('backup scope', () => {
  const owned = databasesOwnedBy([database('site-a', 'site-a'), database('site-a-shop', 'site-a', 'another')], cluster);

  it('counts only MySQLDatabases on the same cluster', () => {
    assert.deepEqual([...owned], ['site_a']);
  });

  it('lets a tenant name what its namespace owns, nothing else', () => {
    assert.equal(scopeRefusal({ what: 'back up', databases: ['site_a'], namespace: 'site-a', cluster, owned }), undefined);
    const refusal = scopeRefusal({ what: 'back up', databases: ['site_a', 'site_b'], namespace: 'site-a', cluster, owned });
    assert.ok(refusal !== undefined);
    assert.equal(refusal.reason, 'DatabaseNotOwned');
    assert.match(refusal.message, /database site_b is not owned by a MySQLDatabase in namespace site-a/);
    assert.doesNotMatch(refusal.message, /site_a is not owned/);
  });

  it('keeps whole-cluster backups to the cluster’s namespace', () => {
    assert.equal(scopeRefusal({ what: 'back up', databases: undefined, namespace: 'site-a', cluster, owned })?.reason, 'WholeClusterNotAllowed');
    assert.equal(scopeRefusal({ what: 'back up', databases: undefined, namespace: 'db', cluster, owned: new Set() }), undefined);
    assert.equal(scopeRefusal({ what: 'restore into', databases: ['anything'], namespace: 'db', cluster, owned: new Set() }), undefined);
  });
});
