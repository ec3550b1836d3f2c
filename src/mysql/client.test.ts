// Everything the client can refuse by looking at its arguments, it refuses
// before it opens a connection: a listening socket that counts connections
// proves that none was attempted.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MySQLClient, type StatementKind } from './client.ts';
import { ReservedDatabaseError } from './errors.ts';
import { InvalidGrantError } from './grants.ts';
import { InvalidIdentifierError } from './identifiers.ts';
import { InvalidOwnerError } from './owners.ts';
import { InvalidPasswordError } from './password.ts';
import { InvalidPrivilegeError } from './privileges.ts';

let server: Server;
let connections = 0;
let client: MySQLClient;
const statements: StatementKind[] = [];

before(async () => {
  server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  client = MySQLClient.create({ host: '127.0.0.1', port: address.port, user: 'admin', password: 'admin-password' }, (kind) => {
    statements.push(kind);
  });
});

after(async () => {
  await client.close();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
});

describe('MySQLClient validates before any I/O', () => {
  it('creates without connecting', () => {
    assert.equal(connections, 0);
  });

  it('refuses bad identifiers', async () => {
    const refusals: [string, () => Promise<unknown>][] = [
      ['getDatabase', () => client.getDatabase('a`b')],
      ['createDatabase', () => client.createDatabase('a;b', {})],
      ['createDatabase charset', () => client.createDatabase('ok', { charset: 'utf8; DROP' })],
      ['alterDatabase collation', () => client.alterDatabase('ok', { collation: "x'" })],
      ['dropDatabase', () => client.dropDatabase('')],
      ['getUser', () => client.getUser("a'b", '%')],
      ['createUser host', () => client.createUser('app', "%' OR 1", 'pw')],
      ['setPassword', () => client.setPassword('a b', '%', 'pw')],
      ['setMaxUserConnections', () => client.setMaxUserConnections('a@b', '%', 1)],
      ['dropUser', () => client.dropUser('x'.repeat(81), '%')],
      ['getGrants', () => client.getGrants('app', 'a b')],
      ['setGrants database', () => client.setGrants('app', '%', [{ database: 'site%', table: '*', privileges: ['SELECT'], withGrantOption: false }])],
      ['setGrants table', () => client.setGrants('app', '%', [{ database: 'a', table: 'b`c', privileges: ['SELECT'], withGrantOption: false }])],
      ['getOwner', () => client.getOwner('database', 'a b')],
      ['claimOwner user key', () => client.claimOwner('user', "app@%'", { namespace: 'n', name: 'x', uid: 'u' })],
    ];
    for (const [what, call] of refusals) await assert.rejects(call(), InvalidIdentifierError, what);
  });

  it('refuses privileges, grant shapes, passwords, owners and reserved databases', async () => {
    await assert.rejects(client.setGrants('app', '%', [{ database: 'a', table: '*', privileges: ['SUPER'], withGrantOption: false }]), InvalidPrivilegeError);
    await assert.rejects(client.setGrants('app', '%', [{ database: 'a', table: '*', privileges: ['DROP TABLE'], withGrantOption: false }]), InvalidPrivilegeError);
    await assert.rejects(client.setGrants('app', '%', [{ database: '*', table: 't', privileges: ['SELECT'], withGrantOption: false }]), InvalidGrantError);
    await assert.rejects(client.createUser('app', '%', ''), InvalidPasswordError);
    await assert.rejects(client.setPassword('app', '%', ''), InvalidPasswordError);
    await assert.rejects(client.createUser('app', '%', 'pw', { maxUserConnections: -1 }), RangeError);
    await assert.rejects(client.claimOwner('user', 'no-host', { namespace: 'n', name: 'x', uid: 'u' }), InvalidOwnerError);
    await assert.rejects(client.claimOwner('database', 'db', { namespace: '', name: 'x', uid: 'u' }), InvalidOwnerError);
    for (const name of ['mysql', 'information_schema', 'performance_schema', 'sys', 'flightdeck_meta', 'MySQL']) {
      await assert.rejects(client.createDatabase(name, {}), ReservedDatabaseError, name);
      await assert.rejects(client.dropDatabase(name), ReservedDatabaseError, name);
    }
  });

  it('sent nothing', () => {
    assert.equal(connections, 0);
    assert.deepEqual(statements, []);
  });

  it('refuses malformed connection options at once', () => {
    assert.throws(() => MySQLClient.create({ host: '127.0.0.1', port: 0, user: 'a', password: 'b' }), /not a TCP port/);
    assert.throws(() => MySQLClient.create({ host: '', port: 3306, user: 'a', password: 'b' }), /host/);
    assert.throws(() => MySQLClient.create({ host: 'h', port: 3306, user: 'a', password: 'b', poolSize: 0 }), /poolSize/);
  });
});
