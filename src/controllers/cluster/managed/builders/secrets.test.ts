import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nativePasswordHash } from '../../../../mysql/password.ts';
import { credentialsSecret, passwordsFromSecret } from './secrets.ts';

const owner = { name: 'db', namespace: 'shop', uid: 'u-1' };
const passwords = { root: 'root-secret-1', replication: 'repl-secret-2', operator: 'op-secret-3', manager: 'mgr-secret-4' };

describe('credentialsSecret', () => {
  const secret = credentialsSecret(owner, 'db-credentials', passwords);

  it('holds each password and its native hash', () => {
    assert.equal(secret.metadata.name, 'db-credentials');
    assert.equal(secret.metadata.namespace, 'shop');
    // Kept when the cluster is deleted, like the volumes initialised with these passwords.
    assert.equal('ownerReferences' in secret.metadata, false);
    assert.equal(secret.metadata.labels['flightdeck.t7.io/cluster'], 'db');
    assert.equal(secret.metadata.labels['app.kubernetes.io/managed-by'], 'flightdeck-operator');
    assert.equal(secret.stringData['root-password'], 'root-secret-1');
    assert.equal(secret.stringData['root-password-hash'], nativePasswordHash('root-secret-1'));
    assert.equal(secret.stringData['replication-password-hash'], nativePasswordHash('repl-secret-2'));
    assert.equal(secret.stringData['operator-password-hash'], nativePasswordHash('op-secret-3'));
    assert.equal(secret.stringData['manager-password'], 'mgr-secret-4');
    assert.equal(secret.stringData['manager-password-hash'], nativePasswordHash('mgr-secret-4'));
  });

  it('creates the accounts from hashes, never from the passwords, without writing binary logs', () => {
    const sql = secret.stringData['initdb.sql'];
    assert.ok(sql !== undefined);
    for (const password of Object.values(passwords)) assert.ok(!sql.includes(password), 'a password is in the initdb SQL');
    assert.match(sql, /^SET sql_log_bin = 0;$/m);
    assert.ok(sql.indexOf('SET sql_log_bin = 0;') < sql.indexOf('CREATE USER'));
    assert.ok(sql.includes(`CREATE USER 'flightdeck_operator'@'%' IDENTIFIED BY PASSWORD '${nativePasswordHash('op-secret-3')}';`));
    assert.ok(sql.includes(`CREATE USER 'flightdeck_replication'@'%' IDENTIFIED BY PASSWORD '${nativePasswordHash('repl-secret-2')}';`));
    assert.match(sql, /GRANT REPLICATION SLAVE ON \*\.\* TO 'flightdeck_replication'@'%';/);
    assert.ok(sql.includes(`CREATE USER 'flightdeck_manager'@'%' IDENTIFIED BY PASSWORD '${nativePasswordHash('mgr-secret-4')}';`));
    assert.match(sql, /GRANT PROCESS, .*READ_ONLY ADMIN.* ON \*\.\* TO 'flightdeck_operator'@'%' WITH GRANT OPTION;/);
    assert.match(sql, /GRANT SELECT, .*CREATE USER ON \*\.\* TO 'flightdeck_manager'@'%' WITH GRANT OPTION;/);
    assert.doesNotMatch(sql, /GRANT [^;]*(READ_ONLY ADMIN|SUPER|CONNECTION ADMIN|REPLICATION)[^;]* TO 'flightdeck_manager'/);
    assert.doesNotMatch(sql, /ALL PRIVILEGES|\bFILE\b|SHUTDOWN/);
  });

  it('is the same for the same passwords (nothing random inside)', () => {
    assert.deepEqual(credentialsSecret(owner, 'db-credentials', passwords), secret);
  });

  it('refuses an empty password without echoing the others', () => {
    assert.throws(
      () => credentialsSecret(owner, 'db-credentials', { ...passwords, operator: '' }),
      (error: Error) => /empty password/.test(error.message) && !error.message.includes('root-secret-1'),
    );
  });
});

describe('passwordsFromSecret', () => {
  const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64');

  const data = { 'root-password': encode('r'), 'replication-password': encode('p'), 'operator-password': encode('o'), 'manager-password': encode('m') };

  it('reads the four passwords back from base64 data', () => {
    assert.deepEqual(passwordsFromSecret(data), { root: 'r', replication: 'p', operator: 'o', manager: 'm' });
  });

  it('says undefined when one is missing or empty, so the caller generates them', () => {
    assert.equal(passwordsFromSecret(undefined), undefined);
    assert.equal(passwordsFromSecret({ 'root-password': encode('r'), 'replication-password': encode('p') }), undefined);
    assert.equal(passwordsFromSecret({ ...data, 'operator-password': '' }), undefined);
    // A Secret written before the manager account existed: the instances lack it, so it is reported, not invented.
    const withoutManager: Record<string, string> = { ...data };
    delete withoutManager['manager-password'];
    assert.equal(passwordsFromSecret(withoutManager), undefined);
  });
});
