import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionSecret, secretDataEqual, soleDatabase } from './connection-secret.ts';

const owner = { apiVersion: 'flightdeck.t7.io/v1', kind: 'MySQLUser', name: 'u', uid: 'uid-1', controller: true, blockOwnerDeletion: true };
const decode = (data: Record<string, string> | undefined, key: string) => Buffer.from(data?.[key] ?? '', 'base64').toString();

describe('connection Secret', () => {
  it('holds host, port, username, password, the sole database and a URI with escaped parts', () => {
    const secret = connectionSecret({
      name: 'u-connection',
      namespace: 'site-a',
      owner,
      labels: {},
      host: 'db.example',
      port: 3306,
      username: 'my_user',
      password: 'p@ss:/word',
      privileges: [{ database: 'my_database', table: '*', privileges: ['ALL PRIVILEGES'], withGrantOption: false }],
    });
    assert.equal(decode(secret.data, 'database'), 'my_database');
    assert.equal(decode(secret.data, 'uri'), 'mysql://my_user:p%40ss%3A%2Fword@db.example:3306/my_database');
    assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ['database', 'host', 'password', 'port', 'uri', 'username']);
    assert.deepEqual(secret.metadata.ownerReferences, [owner]);
  });

  it('names no database when the user has privileges on several or on all', () => {
    const p = (database: string) => ({ database, table: '*', privileges: ['SELECT'], withGrantOption: false });
    assert.equal(soleDatabase([p('a'), p('b')]), undefined);
    assert.equal(soleDatabase([p('a'), p('*')]), undefined);
    assert.equal(soleDatabase([p('a'), { ...p('a'), table: 't' }]), 'a');
    assert.equal(soleDatabase([]), undefined);
  });

  it('compares data by keys and values', () => {
    assert.equal(secretDataEqual({ a: '1' }, { a: '1' }), true);
    assert.equal(secretDataEqual({ a: '1' }, { a: '1', b: '2' }), false);
    assert.equal(secretDataEqual(undefined, {}), true);
  });
});
