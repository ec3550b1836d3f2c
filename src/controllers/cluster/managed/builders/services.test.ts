import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterNames } from './names.ts';
import { instancesService, readerService, writerService } from './services.ts';

const owner = { name: 'db', namespace: 'shop', uid: 'u' };
const names = clusterNames('db', { serviceName: 'db' });

describe('services', () => {
  it('headless: every pod of the cluster, published before it is ready', () => {
    const s = instancesService(owner, names);
    assert.equal(s.metadata.name, 'db-instances');
    assert.equal(s.spec.clusterIP, 'None');
    assert.equal(s.spec.publishNotReadyAddresses, true);
    assert.deepEqual(s.spec.selector, { 'app.kubernetes.io/name': 'mariadb', 'app.kubernetes.io/instance': 'db', 'flightdeck.t7.io/cluster': 'db' });
    assert.deepEqual(s.spec.ports, [{ name: 'mysql', port: 3306, targetPort: 'mysql', protocol: 'TCP' }]);
  });

  it('writer: named by spec.service, on its port, selecting the writer role only', () => {
    const s = writerService(owner, clusterNames('db', { serviceName: 'fdo-mysqlcluster' }), 3307);
    assert.equal(s.metadata.name, 'fdo-mysqlcluster');
    assert.equal(s.spec.clusterIP, undefined);
    assert.equal(s.spec.publishNotReadyAddresses, undefined);
    assert.equal(s.spec.selector['flightdeck.t7.io/role'], 'writer');
    assert.equal(s.spec.selector['flightdeck.t7.io/cluster'], 'db');
    assert.deepEqual(s.spec.ports, [{ name: 'mysql', port: 3307, targetPort: 'mysql', protocol: 'TCP' }]);
  });

  it('reader: <cluster>-readers, selecting the pods marked to serve reads', () => {
    const s = readerService(owner, names, 3306);
    assert.equal(s.metadata.name, 'db-readers');
    assert.equal(s.spec.selector['flightdeck.t7.io/serves-reads'], 'true');
    assert.equal(s.spec.selector['flightdeck.t7.io/role'], undefined);
  });

  it('all owned by the cluster and labelled as managed', () => {
    for (const s of [instancesService(owner, names), writerService(owner, names, 3306), readerService(owner, names, 3306)]) {
      assert.equal(s.metadata.namespace, 'shop');
      assert.equal(s.metadata.ownerReferences[0]?.controller, true);
      assert.equal(s.metadata.labels['app.kubernetes.io/managed-by'], 'flightdeck-operator');
    }
  });
});
