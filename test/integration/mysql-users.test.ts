// The SQL client's user methods against a real MariaDB 10.11: the accounts it
// makes let their owner in with the password and nobody else, and passwords
// never leave the client — not in errors, not in the server's logs.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { passwordMatches } from '../../src/mysql/client.ts';
import { MySQLError, describeSqlError, isAccessDenied, isConnectionError } from '../../src/mysql/errors.ts';
import { quoteAccount } from '../../src/mysql/identifiers.ts';
import { nativePasswordHash } from '../../src/mysql/password.ts';
import { RecordingClient, adminConnection, adminOptions, asUser, connectAs, uniqueName, recordingFixture } from './mysql-support.ts';

const { server, recording } = await recordingFixture();

/** Everything about an error a log line or a condition could show. */
function everythingShown(error: unknown): string {
  return [String(error), inspect(error, { depth: 10 }), JSON.stringify(error), error instanceof Error ? String(error.stack) : '', describeSqlError(error)].join('\n');
}

describe('MySQLClient users', () => {
  it('creates a user that connects with its password and is refused with another', async () => {
    const user = uniqueName('app');
    const password = `pw-${user}-Ünïcode'"\\;`;
    assert.equal(await recording.client.getUser(user, '%'), undefined);
    await recording.client.createUser(user, '%', password);

    const info = await recording.client.getUser(user, '%');
    assert.deepEqual(info, { user, host: '%', plugin: 'mysql_native_password', authenticationString: nativePasswordHash(password), maxUserConnections: 0 });
    assert.equal(passwordMatches(info, password), true);
    assert.equal(passwordMatches(info, 'something else'), false);

    const seen = await asUser(server, user, password, async (c) => c.query<{ who: string }[]>('SELECT CURRENT_USER() AS who'));
    assert.equal(seen[0]?.who, `${user}@%`);
    await assert.rejects(connectAs(server, user, 'wrong'), /Access denied/);
  });

  it('gives a new user no access to any database', async () => {
    const user = uniqueName('bare');
    await recording.client.createUser(user, '%', 'bare-password');
    await asUser(server, user, 'bare-password', async (c) => {
      const dbs = await c.query<{ Database: string }[]>('SHOW DATABASES');
      assert.deepEqual(dbs.map((d) => d.Database), ['information_schema']);
      await assert.rejects(c.query('SELECT * FROM mysql.global_priv'), /denied/);
      await assert.rejects(c.query('CREATE DATABASE nope'), /denied/);
    });
  });

  it('changes the password: the old one stops working, the new one works', async () => {
    const user = uniqueName('rotate');
    await recording.client.createUser(user, '%', 'old-password');
    await recording.client.setPassword(user, '%', 'new-password');
    await assert.rejects(connectAs(server, user, 'old-password'), /Access denied/);
    await asUser(server, user, 'new-password', async (c) => c.query<unknown>('SELECT 1'));
    const info = await recording.client.getUser(user, '%');
    assert.ok(info);
    assert.equal(passwordMatches(info, 'new-password'), true);
  });

  it('moves an account with another plugin to mysql_native_password on setPassword', async () => {
    const user = uniqueName('socket');
    const conn = await adminConnection(server);
    try {
      await conn.query(`CREATE USER ${quoteAccount(user, 'localhost')} IDENTIFIED VIA unix_socket`);
    } finally {
      await conn.end();
    }
    const before = await recording.client.getUser(user, 'localhost');
    assert.equal(before?.plugin, 'unix_socket');
    assert.equal(passwordMatches(before, 'pw-x'), false);
    await recording.client.setPassword(user, 'localhost', 'pw-x');
    const after = await recording.client.getUser(user, 'localhost');
    assert.ok(after);
    assert.equal(after.plugin, 'mysql_native_password');
    assert.equal(passwordMatches(after, 'pw-x'), true);
  });

  it('limits simultaneous connections, and 0 lifts the limit', async () => {
    const user = uniqueName('limited');
    await recording.client.createUser(user, '%', 'limited-pw', { maxUserConnections: 1 });
    assert.equal((await recording.client.getUser(user, '%'))?.maxUserConnections, 1);
    const first = await connectAs(server, user, 'limited-pw');
    try {
      await assert.rejects(connectAs(server, user, 'limited-pw'), /max_user_connections/);
      await recording.client.setMaxUserConnections(user, '%', 0);
      assert.equal((await recording.client.getUser(user, '%'))?.maxUserConnections, 0);
      const second = await connectAs(server, user, 'limited-pw');
      await second.end();
    } finally {
      await first.end();
    }
  });

  it('stores hosts in lower case and finds them in any case', async () => {
    const user = uniqueName('hosted');
    await recording.client.createUser(user, 'App-Server.Example.COM', 'host-pw');
    const info = await recording.client.getUser(user, 'app-server.example.com');
    assert.equal(info?.host, 'app-server.example.com');
    assert.ok(await recording.client.getUser(user, 'APP-SERVER.example.com'));
    assert.equal(await recording.client.getUser(user, '%'), undefined);
  });

  it('drops a user: it can no longer connect; dropping again is fine', async () => {
    const user = uniqueName('gone');
    await recording.client.createUser(user, '%', 'gone-pw');
    await recording.client.dropUser(user, '%');
    assert.equal(await recording.client.getUser(user, '%'), undefined);
    await assert.rejects(connectAs(server, user, 'gone-pw'), /Access denied/);
    await recording.client.dropUser(user, '%');
  });

  it('keeps the password out of the error when createUser fails', async () => {
    const user = uniqueName('twice');
    const password = `Secret-${process.pid}-createUser`;
    await recording.client.createUser(user, '%', password);
    const error: unknown = await recording.client.createUser(user, '%', password).then(
      () => assert.fail('creating an existing user must fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof MySQLError);
    assert.equal(error.code, 'ER_CANNOT_USER');
    assert.equal(isConnectionError(error), false);
    assert.match(error.message, /^CREATE USER failed on 127\.0\.0\.1:\d+: Operation CREATE USER failed for/);
    const shown = everythingShown(error);
    assert.ok(!shown.includes(password), 'the password must not appear');
    assert.ok(!shown.includes(nativePasswordHash(password)), 'nor its hash');
    assert.ok(!shown.includes(server.adminPassword), 'nor the admin password');
    assert.ok(!/IDENTIFIED/i.test(shown), 'nor the SQL text');
  });

  it('keeps the password out of the error when setPassword fails', async () => {
    const password = `Secret-${process.pid}-setPassword`;
    const error: unknown = await recording.client.setPassword(uniqueName('missing'), '%', password).then(
      () => assert.fail('setting the password of a missing user must fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof MySQLError);
    assert.equal(error.verb, 'ALTER USER');
    const shown = everythingShown(error);
    assert.ok(!shown.includes(password));
    assert.ok(!shown.includes(nativePasswordHash(password)));
  });

  it('keeps the password out of the error when the admin may not create users', async () => {
    // A client logged in as an account without CREATE USER: the server refuses.
    const weak = uniqueName('weak');
    await recording.client.createUser(weak, '%', 'weak-admin-pw');
    const limited = new RecordingClient({ ...adminOptions(server), user: weak, password: 'weak-admin-pw' });
    try {
      const password = `Secret-${process.pid}-denied`;
      const error: unknown = await limited.client.createUser(uniqueName('x'), '%', password).then(
        () => assert.fail('must be refused'),
        (e: unknown) => e,
      );
      assert.equal(isAccessDenied(error), true);
      assert.equal(isConnectionError(error), false);
      const shown = everythingShown(error);
      assert.ok(!shown.includes(password));
      assert.ok(!shown.includes('weak-admin-pw'));
    } finally {
      await limited.close();
    }
  });

  it('never sends the password itself: the server’s general log holds only its hash', async () => {
    const logFile = join(tmpdir(), `flightdeck-general-${process.pid}.log`);
    const conn = await adminConnection(server);
    const user = uniqueName('logged');
    const password = `Plain-${process.pid}-never-logged`;
    try {
      await conn.query('SET GLOBAL general_log_file = ?', [logFile]);
      await conn.query('SET GLOBAL general_log = 1');
      await recording.client.createUser(user, '%', password);
      await recording.client.setPassword(user, '%', `${password}-2`);
    } finally {
      await conn.query('SET GLOBAL general_log = 0');
      await conn.end();
    }
    try {
      const log = readFileSync(logFile, 'utf8');
      assert.match(log, new RegExp(`CREATE USER '${user}'@'%' IDENTIFIED BY PASSWORD '\\*[0-9A-F]{40}'`));
      assert.match(log, new RegExp(`ALTER USER '${user}'@'%' IDENTIFIED BY PASSWORD '\\*[0-9A-F]{40}'`));
      assert.ok(!log.includes(password));
    } finally {
      rmSync(logFile, { force: true });
    }
    await asUser(server, user, `${password}-2`, async (c) => c.query<unknown>('SELECT 1'));
  });
});
