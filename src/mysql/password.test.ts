import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidPasswordError, hashForNewPassword, nativePasswordHash, passwordMatches } from './password.ts';

// Hashes MariaDB 10.11 stored for `CREATE USER … IDENTIFIED BY '<password>'`.
const fromServer = [
  ['pw', '*D821809F681A40A6E379B50D0463EFAE20BDD122'],
  ['secret-1', '*4B075F57ECBC1AC6609688202438BCE20EEECD62'],
] as const;

describe('mysql_native_password', () => {
  it('hashes as MariaDB does', () => {
    for (const [password, hash] of fromServer) assert.equal(nativePasswordHash(password), hash);
  });

  it('matches the stored hash of the same password only', () => {
    const user = { plugin: 'mysql_native_password', authenticationString: '*D821809F681A40A6E379B50D0463EFAE20BDD122' };
    assert.equal(passwordMatches(user, 'pw'), true);
    assert.equal(passwordMatches(user, 'pW'), false);
    assert.equal(passwordMatches(user, ''), false);
    assert.equal(passwordMatches({ ...user, authenticationString: user.authenticationString.toLowerCase() }, 'pw'), true);
  });

  it('never matches under another plugin, even with the same string stored', () => {
    assert.equal(passwordMatches({ plugin: 'ed25519', authenticationString: nativePasswordHash('pw') }, 'pw'), false);
    assert.equal(passwordMatches({ plugin: 'unix_socket', authenticationString: '' }, ''), false);
  });

  it('hashes non-ASCII passwords as UTF-8', () => {
    assert.match(nativePasswordHash('pässwörd-✓'), /^\*[0-9A-F]{40}$/);
    assert.notEqual(nativePasswordHash('pässwörd'), nativePasswordHash('passwort'));
  });

  it('refuses to set an empty password, without echoing anything', () => {
    assert.throws(() => hashForNewPassword(''), InvalidPasswordError);
    assert.equal(hashForNewPassword('pw'), fromServer[0][1]);
  });
});
