// The MariaDB test servers, and the quoting rules of src/mysql/identifiers.ts
// tried against a real server: what they produce is accepted, and a grant on
// one database does not reach a look-alike.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as mariadb from 'mariadb';
import { databaseName, quoteAccount, quoteGrantDatabase, quoteIdentifier } from '../../src/mysql/identifiers.ts';
import type { MariaDBInstance } from '../env/mariadb.ts';
import { testEnvironment } from '../env/shared.ts';

// At the top level, so that an environment of this file's own lives as long as the file.
const servers: readonly MariaDBInstance[] = (await testEnvironment()).mariadb;

function admin(server: MariaDBInstance): Promise<mariadb.Connection> {
  return mariadb.createConnection({
    host: server.host,
    port: server.port,
    user: server.adminUser,
    password: server.adminPassword,
  });
}

describe('MariaDB test servers', () => {
  it('are independent servers of MariaDB 10.11 reached over loopback TCP', async () => {
    assert.ok(servers.length >= 2);
    assert.notEqual(servers[0]?.port, servers[1]?.port);
    const [a, b] = await Promise.all(servers.slice(0, 2).map((s) => admin(s)));
    assert.ok(a && b);
    try {
      const rows = await a.query<{ v: string }[]>('SELECT VERSION() AS v');
      assert.match(rows[0]?.v ?? '', /^10\.11\.\d+-MariaDB/);
      const name = `only_on_a_${process.pid}`;
      await a.query(`CREATE DATABASE ${quoteIdentifier(databaseName, name)}`);
      const onB = await b.query<unknown[]>('SHOW DATABASES LIKE ?', [name]);
      assert.equal(onB.length, 0, 'a database made on one server must not appear on the other');
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('refuse the admin account with a wrong password', async () => {
    const server = servers[0];
    assert.ok(server);
    await assert.rejects(
      mariadb.createConnection({ host: server.host, port: server.port, user: server.adminUser, password: 'wrong' }),
      /Access denied/,
    );
  });
});

describe('identifier quoting against a real server', () => {
  it('creates databases whose names use every allowed character class', async () => {
    const server = servers[0];
    assert.ok(server);
    const conn = await admin(server);
    try {
      for (const name of [`site-two-${process.pid}`, `a$b_${process.pid}`, `Drupal8_${process.pid}`]) {
        await conn.query(`CREATE DATABASE ${quoteIdentifier(databaseName, name)}`);
        const found = await conn.query<unknown[]>('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
        assert.equal(found.length, 1, name);
      }
    } finally {
      await conn.end();
    }
  });

  it('a grant on site_a does not reach siteXa (the _ wildcard is escaped)', async () => {
    const server = servers[0];
    assert.ok(server);
    const conn = await admin(server);
    const suffix = String(process.pid);
    const mine = `site_a${suffix}`;
    const other = `siteXa${suffix}`;
    const user = `tenant_${suffix}`;
    const password = 'tenant-password-1';
    try {
      for (const db of [mine, other]) {
        await conn.query(`CREATE DATABASE ${quoteIdentifier(databaseName, db)}`);
        await conn.query(`CREATE TABLE ${quoteIdentifier(databaseName, db)}.t (x INT)`);
      }
      await conn.query(`CREATE USER ${quoteAccount(user, '%')} IDENTIFIED BY ?`, [password]);
      await conn.query(`GRANT ALL ON ${quoteGrantDatabase(mine)}.* TO ${quoteAccount(user, '%')}`);

      const tenant = await mariadb.createConnection({ host: server.host, port: server.port, user, password });
      try {
        await tenant.query(`INSERT INTO ${quoteIdentifier(databaseName, mine)}.t VALUES (1)`);
        await assert.rejects(tenant.query(`SELECT * FROM ${quoteIdentifier(databaseName, other)}.t`), /denied/);
      } finally {
        await tenant.end();
      }
    } finally {
      await conn.end();
    }
  });
});
