import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attemptLabel, backupJob, backupJobName } from './job.ts';

const input = {
  owner: { kind: 'MySQLBackup' as const, name: 'nightly', namespace: 'site-a', uid: 'u-1' },
  image: 'mariadb:11',
  credentials: { host: 'db', port: 3306, secretName: 'acct' },
  target: { s3: { endpoint: 'http://s3:8333', bucket: 'backups', credentialsSecret: { name: 's3' } } },
  runPath: 'site-a/nightly/20261202T030000Z',
  activeDeadlineSeconds: 600,
  runId: '20261202T030000Z',
  databases: ['site_a'],
  compression: 'gzip' as const,
};

describe('backup Jobs of retried attempts', () => {
  it('names the first attempt by its run, and each retry by its run and number', () => {
    assert.equal(backupJobName('nightly', '20261202T030000Z'), 'nightly-20261202t030000z');
    assert.equal(backupJobName('nightly', '20261202T030000Z', 1), 'nightly-20261202t030000z');
    assert.equal(backupJobName('nightly', '20261202T030000Z', 3), 'nightly-20261202t030000z-3');
    const long = backupJobName('a'.repeat(63), '20261202T030000Z', 2);
    assert.ok(long.length <= 63 && long.endsWith('-20261202t030000z-2'), long);
  });

  it('runs one pod per attempt and labels the attempt', () => {
    const first = backupJob(input);
    assert.equal(first.metadata.name, 'nightly-20261202t030000z');
    assert.equal(first.metadata.labels[attemptLabel], '1');
    assert.equal(first.spec.backoffLimit, 0);
    const retry = backupJob({ ...input, attempt: 2 });
    assert.equal(retry.metadata.name, 'nightly-20261202t030000z-2');
    assert.equal(retry.metadata.labels[attemptLabel], '2');
    assert.equal(retry.spec.template.metadata.labels[attemptLabel], '2');
  });
});
