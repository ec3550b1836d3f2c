import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition } from '../../../api/common.ts';
import { clusterIntent } from '../../../api/normalize.ts';
import { restartChecksumAnnotation } from './builders/statefulset.ts';
import type { PodObject } from './pods.ts';
import { desiredRestartChecksum, outdatedPods, rollingRestartCondition } from './server-updates.ts';

const progress = { restarted: 1, total: 3 };
const rolling = (status: 'True' | 'False'): Condition[] => [
  { type: 'RollingRestart', status, reason: 'x', message: 'x', lastTransitionTime: '2026-01-01T00:00:00Z' },
];

describe('rollingRestartCondition', () => {
  it('says how far along and what comes next', () => {
    assert.deepEqual(rollingRestartCondition({ kind: 'restart', instance: 'db-1', reason: 'r', progress }, undefined), {
      type: 'RollingRestart',
      status: 'True',
      reason: 'Restarting',
      message: '1 of 3 restarted; next: db-1',
    });
    assert.match(rollingRestartCondition({ kind: 'wait', reason: 'waiting for db-2 is not ready', progress }, undefined).message, /^1 of 3 restarted; waiting for db-2/);
    assert.equal(rollingRestartCondition({ kind: 'switchover', from: 'db-0', to: 'db-1', reason: 'r', progress: { restarted: 2, total: 3 } }, undefined).reason, 'SwitchingOver');
  });

  it('stays True while the last restarted instance settles after a roll, and is False (UpToDate) otherwise', () => {
    const settling = { kind: 'upToDate', settling: ['db-0'], progress: { restarted: 3, total: 3 } } as const;
    assert.equal(rollingRestartCondition(settling, rolling('True')).status, 'True');
    assert.equal(rollingRestartCondition(settling, rolling('False')).status, 'False');
    assert.equal(rollingRestartCondition(settling, undefined).reason, 'UpToDate');
    assert.deepEqual(rollingRestartCondition({ kind: 'upToDate', settling: [], progress: { restarted: 3, total: 3 } }, rolling('True')), {
      type: 'RollingRestart',
      status: 'False',
      reason: 'UpToDate',
      message: 'all 3 instances run the current pod template',
    });
  });
});

describe('outdatedPods and desiredRestartChecksum', () => {
  const owner = { name: 'db', namespace: 'shop', uid: 'u' };
  const passwords = { root: 'a', replication: 'b', operator: 'c', manager: 'd' };
  const managed = (myCnf: string, image?: string) => {
    const intent = clusterIntent({ apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLCluster', metadata: { name: 'db', namespace: 'shop' }, spec: { readerCount: 2, size: '1Gi', myCnf, ...(image === undefined ? {} : { image }) } });
    assert.ok(intent.managed !== undefined);
    return intent.managed;
  };
  const pod = (name: string, checksum: string | undefined): PodObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(checksum === undefined ? {} : { annotations: { [restartChecksumAnnotation]: checksum } }) },
  });

  it('a live option leaves the pod template alone; a restart-only option or the image changes it', () => {
    const base = desiredRestartChecksum(owner, managed('max_connections = 100'), passwords);
    assert.equal(desiredRestartChecksum(owner, managed('max_connections = 500'), passwords), base);
    assert.notEqual(desiredRestartChecksum(owner, managed('max_connections = 100\ninnodb_log_buffer_size = 32M'), passwords), base);
    assert.notEqual(desiredRestartChecksum(owner, managed('max_connections = 100', 'example.org/mariadb:11.4'), passwords), base);
  });

  it('pods with another checksum, or none, are outdated', () => {
    assert.deepEqual([...outdatedPods([pod('db-0', 'new'), pod('db-1', 'old'), pod('db-2', undefined)], 'new')], ['db-1', 'db-2']);
  });
});
