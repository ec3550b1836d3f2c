import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseBackup } from './chosen-backup.ts';

const listed = [{ id: '20261202T030000Z', path: 'a' }, { id: '20261201T030000Z', path: 'b' }];

describe('chooseBackup', () => {
  it('takes the named backup, or the newest', () => {
    assert.equal(chooseBackup('MySQLBackup ns/x', '20261201T030000Z', listed), listed[1]);
    assert.equal(chooseBackup('MySQLBackup ns/x', undefined, listed), listed[0]);
  });

  it('says which is missing', () => {
    assert.deepEqual(chooseBackup('MySQLBackup ns/x', '20261130T030000Z', listed), { ready: false, reason: 'BackupNotFound', message: 'MySQLBackup ns/x has no complete backup 20261130T030000Z' });
    assert.deepEqual(chooseBackup('VolumeBackup ns/y', undefined, undefined), { ready: false, reason: 'BackupNotFound', message: 'VolumeBackup ns/y has no complete backup yet' });
  });
});
