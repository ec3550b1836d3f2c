// The SQL client's database methods against a real MariaDB 10.11: what they
// create is what information_schema shows, and re-running them changes
// nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReservedDatabaseError } from '../../src/mysql/errors.ts';
import { databaseName, quoteIdentifier } from '../../src/mysql/identifiers.ts';
import { adminConnection, uniqueName, recordingFixture } from './mysql-support.ts';

const { server, recording } = await recordingFixture();

async function schema(name: string): Promise<{ charset: string; collation: string } | undefined> {
  const conn = await adminConnection(server);
  try {
    const rows = await conn.query<{ charset: string; collation: string }[]>(
      'SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [name],
    );
    return rows[0];
  } finally {
    await conn.end();
  }
}

describe('MySQLClient databases', () => {
  it('reports the server version', async () => {
    assert.match(await recording.client.serverVersion(), /^10\.11\.\d+-MariaDB/);
  });

  it('creates a database with the declared character set and collation', async () => {
    const name = uniqueName('db_latin');
    await recording.client.createDatabase(name, { charset: 'latin1', collation: 'latin1_swedish_ci' });
    assert.deepEqual(await schema(name), { charset: 'latin1', collation: 'latin1_swedish_ci' });
    assert.deepEqual(await recording.client.getDatabase(name), { name, charset: 'latin1', collation: 'latin1_swedish_ci' });
  });

  it('derives the collation from a charset alone, and uses server defaults without options', async () => {
    const withCharset = uniqueName('db_charset');
    await recording.client.createDatabase(withCharset, { charset: 'utf8mb3' });
    assert.deepEqual(await schema(withCharset), { charset: 'utf8mb3', collation: 'utf8mb3_general_ci' });
    const plain = `plain-db$${process.pid}`; // `-` and `$` are allowed and need quoting
    await recording.client.createDatabase(plain, {});
    assert.deepEqual(await schema(plain), { charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' });
  });

  it('leaves an existing database as it is on create (IF NOT EXISTS) and keeps its tables', async () => {
    const name = uniqueName('db_keep');
    await recording.client.createDatabase(name, { charset: 'utf8mb4', collation: 'utf8mb4_bin' });
    const conn = await adminConnection(server);
    try {
      await conn.query(`CREATE TABLE ${quoteIdentifier(databaseName, name)}.t (x INT)`);
      await conn.query(`INSERT INTO ${quoteIdentifier(databaseName, name)}.t VALUES (42)`);
      await recording.client.createDatabase(name, { charset: 'latin1' });
      assert.deepEqual(await schema(name), { charset: 'utf8mb4', collation: 'utf8mb4_bin' });
      const rows = await conn.query<{ x: number }[]>(`SELECT x FROM ${quoteIdentifier(databaseName, name)}.t`);
      assert.deepEqual(rows.map((r) => r.x), [42]);
    } finally {
      await conn.end();
    }
  });

  it('alters the character set and collation, and sends nothing when given neither', async () => {
    const name = uniqueName('db_alter');
    await recording.client.createDatabase(name, { charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' });
    await recording.client.alterDatabase(name, { collation: 'utf8mb4_bin' });
    assert.deepEqual(await schema(name), { charset: 'utf8mb4', collation: 'utf8mb4_bin' });
    await recording.client.alterDatabase(name, { charset: 'latin1', collation: 'latin1_general_ci' });
    assert.deepEqual(await schema(name), { charset: 'latin1', collation: 'latin1_general_ci' });
    const mark = recording.statements.length;
    await recording.client.alterDatabase(name, {});
    assert.deepEqual(recording.statements.slice(mark), []);
  });

  it('tells a database that does not exist apart, including one differing only in letter case', async () => {
    const name = uniqueName('Db_Case');
    await recording.client.createDatabase(name, {});
    assert.equal(await recording.client.getDatabase(name.toLowerCase()), undefined);
    assert.equal(await recording.client.getDatabase(uniqueName('db_absent')), undefined);
  });

  it('drops a database with its tables, and dropping it again is fine', async () => {
    const name = uniqueName('db_drop');
    await recording.client.createDatabase(name, {});
    const conn = await adminConnection(server);
    try {
      await conn.query(`CREATE TABLE ${quoteIdentifier(databaseName, name)}.t (x INT)`);
    } finally {
      await conn.end();
    }
    await recording.client.dropDatabase(name);
    assert.equal(await schema(name), undefined);
    await recording.client.dropDatabase(name);
  });

  it('refuses to touch MariaDB’s and the operator’s own databases', async () => {
    await assert.rejects(recording.client.dropDatabase('mysql'), ReservedDatabaseError);
    await assert.rejects(recording.client.alterDatabase('flightdeck_meta', { charset: 'latin1' }), ReservedDatabaseError);
    assert.ok(await schema('mysql'));
  });

  it('names each statement for the observer', () => {
    const verbs = new Set(recording.statements.map((s) => `${s.kind} ${s.verb}`));
    for (const v of ['read SELECT', 'write CREATE DATABASE', 'write ALTER DATABASE', 'write DROP DATABASE']) assert.ok(verbs.has(v), v);
    assert.ok(recording.statements.every((s) => !s.failed));
  });
});
