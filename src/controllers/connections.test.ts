import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { MySQLCluster } from '../api/mysqlcluster.ts';
import { ClusterConnections, type SecretsCache } from './connections.ts';
import type { SecretObject } from './context.ts';

const encode = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

function secrets(objects: readonly SecretObject[]): SecretsCache {
  return { secrets: { get: (namespace, name) => objects.find((s) => s.metadata.namespace === namespace && s.metadata.name === name) } };
}

function credentials(data: Record<string, string>): SecretObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-credentials', namespace: 'shop' }, data };
}

/** A status whose Ready condition is `status` for `reason`, as the cluster reconciler writes it. */
function readyCondition(status: 'True' | 'False', reason: string, message: string): MySQLCluster['status'] {
  return { conditions: [{ type: 'Ready', status, reason, message, lastTransitionTime: '2026-12-02T08:00:00Z' }] };
}

const managed: MySQLCluster = {
  apiVersion: 'flightdeck.t7.io/v1',
  kind: 'MySQLCluster',
  metadata: { name: 'db', namespace: 'shop' },
  spec: { readerCount: 1, service: { name: 'db-writer', port: 3307 } },
  status: readyCondition('True', 'Running', 'writer db-0; 2 of 2 instances ready'),
};

describe('ClusterConnections.connect, managed clusters', () => {
  const connections = new ClusterConnections({ observer: () => undefined, logger: pino({ level: 'silent' }) });
  after(() => connections.closeAll());

  it('waits for the credentials Secret the cluster reconciler creates', () => {
    const result = connections.connect(managed, secrets([]));
    assert.ok('problem' in result);
    assert.equal(result.problem.reason, 'CredentialsNotReady');
    assert.match(result.problem.message, /has not created its credentials yet \(Secret shop\/db-credentials\)/);
  });

  it('reports a credentials Secret without the manager password, and never invents one', () => {
    const withoutManager: readonly Record<string, string>[] = [{ 'operator-password': encode('operator-secret-7') }, { 'manager-password': '' }];
    for (const data of withoutManager) {
      const result = connections.connect(managed, secrets([credentials(data)]));
      assert.ok('problem' in result);
      assert.equal(result.problem.reason, 'CredentialsInvalid');
      assert.match(result.problem.message, /Secret shop\/db-credentials has no key "manager-password"/);
      assert.doesNotMatch(result.problem.message, /operator-secret-7/);
    }
  });

  it("reaches the writer Service's DNS name and port, one pool per cluster, rebuilt when the password changes", () => {
    const first = connections.connect(managed, secrets([credentials({ 'manager-password': encode('m1'), 'operator-password': encode('o1') })]));
    assert.ok('client' in first);
    assert.deepEqual(first.endpoint, { host: 'db-writer.shop.svc.cluster.local', port: 3307 });
    // Another key of the Secret changing (the operator's password) does not matter to this pool.
    const again = connections.connect(managed, secrets([credentials({ 'manager-password': encode('m1'), 'operator-password': encode('o2') })]));
    assert.ok('client' in again);
    assert.equal(again.client, first.client);
    const rotated = connections.connect(managed, secrets([credentials({ 'manager-password': encode('m2') })]));
    assert.ok('client' in rotated);
    assert.notEqual(rotated.client, first.client);
  });

  it('sends nothing while no write could complete: before the cluster reports, with no writer yet, and while no reader could acknowledge', () => {
    const secret = credentials({ 'manager-password': encode('m1') });
    const states: readonly [MySQLCluster['status'], string, RegExp][] = [
      [undefined, 'Initializing', /has not reported its state yet/],
      [readyCondition('False', 'Initializing', 'no writer yet: 0 of 2 instances ready'), 'Initializing', /no writer yet/],
      [
        readyCondition('False', 'NoReaderConnected', 'writer db-0 waits for a reader to acknowledge every write (…) and no reader is connected yet'),
        'NoReaderConnected',
        /no reader is connected yet/,
      ],
    ];
    for (const [status, reason, message] of states) {
      const result = connections.connect({ ...managed, status }, secrets([secret]));
      assert.ok('problem' in result, reason);
      assert.equal(result.problem.reason, reason);
      assert.match(result.problem.message, message);
    }
  });

  it('still connects during a switchover or while the writer is away: the statement finds out, and a rest state needs no write', () => {
    const secret = credentials({ 'manager-password': encode('m1') });
    for (const reason of ['SwitchingOver', 'FailingOver', 'WriterUnavailable', 'WriterReadOnly']) {
      const result = connections.connect({ ...managed, status: readyCondition('False', reason, 'moving') }, secrets([secret]));
      assert.ok('client' in result, reason);
    }
  });

  it('defaults to the cluster name and port 3306 for the writer Service', () => {
    const plain: MySQLCluster = { ...managed, metadata: { name: 'site', namespace: 'shop' }, spec: {} };
    const secret: SecretObject = { ...credentials({ 'manager-password': encode('m') }), metadata: { name: 'site-credentials', namespace: 'shop' } };
    const result = connections.connect(plain, secrets([secret]));
    assert.ok('client' in result);
    assert.deepEqual(result.endpoint, { host: 'site.shop.svc.cluster.local', port: 3306 });
  });
});

describe('ClusterConnections.connect, external clusters', () => {
  const connections = new ClusterConnections({ observer: () => undefined, logger: pino({ level: 'silent' }) });
  after(() => connections.closeAll());
  const external: MySQLCluster = {
    apiVersion: 'flightdeck.t7.io/v1',
    kind: 'MySQLCluster',
    metadata: { name: 'legacy', namespace: 'shop' },
    spec: { external: { host: 'mariadb.example', adminSecretRef: { name: 'admin' } } },
  };

  it('still uses the admin Secret it names', () => {
    assert.equal((connections.connect(external, secrets([])) as { problem: { reason: string } }).problem.reason, 'AdminSecretMissing');
    const admin: SecretObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'admin', namespace: 'shop' }, data: { username: encode('root'), password: encode('pw') } };
    const result = connections.connect(external, secrets([admin]));
    assert.ok('client' in result);
    assert.deepEqual(result.endpoint, { host: 'mariadb.example', port: 3306 });
  });
});
