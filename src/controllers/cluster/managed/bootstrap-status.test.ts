import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterIntent } from '../../../api/normalize.ts';
import { bootstrapFailure } from './bootstrap-status.ts';
import type { PodObject } from './pods.ts';

const spec = {
  readerCount: 1,
  bootstrapFrom: { backup: { target: { s3: { endpoint: 'http://s3.local', bucket: 'backups', credentialsSecret: { name: 's3' } } }, path: 'db/nightly/20261201T020000Z' } },
};
const managed = clusterIntent({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: 'db', namespace: 'db' }, spec }).managed;
assert.ok(managed);

function pod(seed: NonNullable<NonNullable<PodObject['status']>['initContainerStatuses']>[number] | undefined): PodObject {
  return { metadata: { name: 'db-0', namespace: 'db' }, status: seed === undefined ? {} : { initContainerStatuses: [seed] } };
}

const refused = {
  name: 'seed',
  restartCount: 2,
  state: { waiting: { reason: 'CrashLoopBackOff' } },
  lastState: { terminated: { exitCode: 2, message: '{"result":"Failed","reason":"ChecksumMismatch","message":"data.xbstream.gz has sha256 ab, the manifest says cd"}' } },
};

describe('bootstrap failure condition', () => {
  it("tells the seed init container's refusal, from its termination message", () => {
    const ready = bootstrapFailure(managed, undefined, pod(refused));
    assert.ok(ready !== undefined);
    assert.equal(ready.reason, 'BootstrapFailed');
    assert.match(ready.message, /^db-0 could not be bootstrapped from the backup at db\/nightly\/20261201T020000Z: ChecksumMismatch: data\.xbstream\.gz has sha256 ab, the manifest says cd\. Nothing was started/);
  });

  it('says nothing while the seed runs, once a writer was recorded, or without bootstrapFrom', () => {
    assert.equal(bootstrapFailure(managed, undefined, pod({ name: 'seed', restartCount: 0, state: { running: {} } })), undefined);
    assert.equal(bootstrapFailure(managed, 'db-0', pod(refused)), undefined);
    const plain = clusterIntent({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: 'db', namespace: 'db' }, spec: { readerCount: 1 } }).managed;
    assert.ok(plain);
    assert.equal(bootstrapFailure(plain, undefined, pod(refused)), undefined);
    assert.equal(bootstrapFailure(managed, undefined, undefined), undefined);
  });

  it('shows a message that is no result line as it is', () => {
    const ready = bootstrapFailure(managed, undefined, pod({ name: 'seed', restartCount: 1, state: { terminated: { exitCode: 1, message: 'preparing the copy failed' } as { exitCode: number } } }));
    assert.match(ready?.message ?? '', /: preparing the copy failed\. Nothing was started/);
  });
});
