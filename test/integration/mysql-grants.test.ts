// setGrants against a real MariaDB 10.11, judged by what the user can and
// cannot do when it connects: privileges are added and taken away exactly,
// hand-made grants and wildcard patterns disappear, and a second pass with
// the same declaration sends no write at all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Grant } from '../../src/mysql/client.ts';
import { databaseName, quoteAccount, quoteIdentifier } from '../../src/mysql/identifiers.ts';
import { adminConnection, asUser, uniqueName, recordingFixture } from './mysql-support.ts';

const { server, recording } = await recordingFixture();

const q = (name: string): string => quoteIdentifier(databaseName, name);

/** Runs statements as the server's admin, as a human would by hand. */
async function asAdmin(...statements: string[]): Promise<void> {
  const conn = await adminConnection(server);
  try {
    for (const sql of statements) await conn.query(sql);
  } finally {
    await conn.end();
  }
}

/** A database with a table `t (x INT)` holding one row. */
async function databaseWithTable(base: string): Promise<string> {
  const name = uniqueName(base);
  await recording.client.createDatabase(name, {});
  await asAdmin(`CREATE TABLE ${q(name)}.t (x INT)`, `INSERT INTO ${q(name)}.t VALUES (1)`);
  return name;
}

async function userWithPassword(base: string): Promise<{ user: string; password: string }> {
  const user = uniqueName(base);
  const password = `${user}-pw`;
  await recording.client.createUser(user, '%', password);
  return { user, password };
}

const on = (database: string, privileges: string[], extra: Partial<Grant> = {}): Grant => ({
  database,
  table: '*',
  privileges,
  withGrantOption: false,
  ...extra,
});

describe('MySQLClient grants', () => {
  it('grants what is declared; the user can use it and nothing more', async () => {
    const db = await databaseWithTable('g_site');
    const other = await databaseWithTable('g_other');
    const { user, password } = await userWithPassword('g_app');

    const change = await recording.client.setGrants(user, '%', [on(db, ['SELECT', 'INSERT'])]);
    assert.deepEqual(change, { granted: [on(db, ['SELECT', 'INSERT'])], revoked: [] });
    assert.deepEqual(await recording.client.getGrants(user, '%'), [on(db, ['SELECT', 'INSERT'])]);

    await asUser(server, user, password, async (c) => {
      await c.query(`INSERT INTO ${q(db)}.t VALUES (2)`);
      const rows = await c.query<{ n: bigint }[]>(`SELECT COUNT(*) AS n FROM ${q(db)}.t`);
      assert.equal(Number(rows[0]?.n), 2);
      await assert.rejects(c.query(`DELETE FROM ${q(db)}.t`), /DELETE command denied/);
      await assert.rejects(c.query(`SELECT * FROM ${q(other)}.t`), /denied/);
    });
  });

  it('revokes a privilege that is no longer declared, and only that one', async () => {
    const db = await databaseWithTable('g_revoke');
    const { user, password } = await userWithPassword('g_revoker');
    await recording.client.setGrants(user, '%', [on(db, ['SELECT', 'INSERT', 'UPDATE'])]);

    const mark = recording.statements.length;
    const change = await recording.client.setGrants(user, '%', [on(db, ['SELECT', 'UPDATE'])]);
    assert.deepEqual(change, { granted: [], revoked: [on(db, ['INSERT'])] });
    assert.deepEqual(recording.writesSince(mark), ['REVOKE']);

    await asUser(server, user, password, async (c) => {
      await assert.rejects(c.query(`INSERT INTO ${q(db)}.t VALUES (3)`), /INSERT command denied/);
      await c.query(`UPDATE ${q(db)}.t SET x = 5`);
      const rows = await c.query<{ x: number }[]>(`SELECT x FROM ${q(db)}.t`);
      assert.deepEqual(rows.map((r) => r.x), [5]);
    });
  });

  it('sends no write at all when the declaration has not changed', async () => {
    const db = await databaseWithTable('g-same$'); // `-` and `$` are stored as they are, `_` escaped
    const { user } = await userWithPassword('g_same');
    const desired = [
      on(db, ['all']),
      on(db, ['SELECT', 'UPDATE'], { table: 't' }),
      on('*', ['PROCESS', 'REPLICATION CLIENT']),
    ];
    const first = await recording.client.setGrants(user, '%', desired);
    assert.equal(first.granted.length, 3);

    const mark = recording.statements.length;
    const second = await recording.client.setGrants(user, '%', desired);
    assert.deepEqual(second, { granted: [], revoked: [] });
    assert.deepEqual(recording.writesSince(mark), []);
    // Keyed reads of the grant tables only: mysql.global_priv, mysql.db,
    // mysql.tables_priv, and information_schema's global list since this user
    // has global privileges.
    assert.deepEqual(
      recording.statements.slice(mark).map((s) => `${s.kind} ${s.verb}`),
      ['read SELECT', 'read SELECT', 'read SELECT', 'read SELECT'],
    );
  });

  it('treats a declared ALL as the stored individual privileges, and reports ALL PRIVILEGES', async () => {
    const db = await databaseWithTable('g_all');
    const { user, password } = await userWithPassword('g_all');
    await asAdmin(`GRANT ALL PRIVILEGES ON \`${db.replaceAll('_', '\\_')}\`.* TO ${quoteAccount(user, '%')}`);
    assert.deepEqual(await recording.client.getGrants(user, '%'), [on(db, ['ALL PRIVILEGES'])]);

    const mark = recording.statements.length;
    assert.deepEqual(await recording.client.setGrants(user, '%', [on(db, ['ALL'])]), { granted: [], revoked: [] });
    assert.deepEqual(recording.writesSince(mark), []);

    await asUser(server, user, password, async (c) => {
      await c.query(`CREATE TABLE ${q(db)}.made_by_user (y INT)`);
      await c.query(`DROP TABLE ${q(db)}.made_by_user`);
    });
  });

  it('revokes a grant someone added by hand', async () => {
    const db = await databaseWithTable('g_hand');
    const { user, password } = await userWithPassword('g_hand');
    await recording.client.setGrants(user, '%', [on(db, ['SELECT'])]);
    await asAdmin(
      `GRANT DELETE ON \`${db.replaceAll('_', '\\_')}\`.* TO ${quoteAccount(user, '%')}`,
      `GRANT UPDATE ON ${q(db)}.t TO ${quoteAccount(user, '%')}`,
      `GRANT PROCESS ON *.* TO ${quoteAccount(user, '%')}`,
    );

    const change = await recording.client.setGrants(user, '%', [on(db, ['SELECT'])]);
    assert.deepEqual(change.granted, []);
    assert.deepEqual(change.revoked, [on('*', ['PROCESS']), on(db, ['DELETE']), on(db, ['UPDATE'], { table: 't' })]);
    assert.deepEqual(await recording.client.getGrants(user, '%'), [on(db, ['SELECT'])]);

    await asUser(server, user, password, async (c) => {
      await assert.rejects(c.query(`DELETE FROM ${q(db)}.t`), /DELETE command denied/);
      await assert.rejects(c.query(`UPDATE ${q(db)}.t SET x = 9`), /UPDATE command denied/);
      // Without PROCESS a user sees only its own threads; the admin's are there too.
      const threads = await c.query<{ User: string }[]>('SHOW FULL PROCESSLIST');
      assert.deepEqual([...new Set(threads.map((t) => t.User))], [user]);
    });
  });

  it('revokes a hand-made wildcard grant: site_a.* no longer reaches siteXa', async () => {
    const suffix = `${process.pid}`;
    const mine = `wild_a${suffix}`;
    const lookalike = `wildXa${suffix}`;
    for (const db of [mine, lookalike]) {
      await recording.client.createDatabase(db, {});
      await asAdmin(`CREATE TABLE ${q(db)}.t (x INT)`);
    }
    const { user, password } = await userWithPassword('g_wild');
    // By hand, unescaped: `_` matches any character, so this reaches both databases.
    await asAdmin(`GRANT SELECT ON \`${mine}\`.* TO ${quoteAccount(user, '%')}`);
    await asUser(server, user, password, async (c) => c.query<unknown>(`SELECT * FROM ${q(lookalike)}.t`));

    assert.deepEqual(await recording.client.getGrants(user, '%'), [on(mine, ['SELECT'], { pattern: true })]);
    const change = await recording.client.setGrants(user, '%', [on(mine, ['SELECT'])]);
    assert.deepEqual(change, { granted: [on(mine, ['SELECT'])], revoked: [on(mine, ['SELECT'], { pattern: true })] });
    assert.deepEqual(await recording.client.getGrants(user, '%'), [on(mine, ['SELECT'])]);

    await asUser(server, user, password, async (c) => {
      await c.query(`SELECT * FROM ${q(mine)}.t`);
      await assert.rejects(c.query(`SELECT * FROM ${q(lookalike)}.t`), /denied/);
    });
  });

  it('revokes everything when nothing is declared; the user keeps only USAGE', async () => {
    const db = await databaseWithTable('g_none');
    const { user, password } = await userWithPassword('g_none');
    await recording.client.setGrants(user, '%', [on(db, ['ALL'], { withGrantOption: true }), on(db, ['SELECT'], { table: 't' })]);
    const change = await recording.client.setGrants(user, '%', []);
    assert.deepEqual(change.revoked, [on(db, ['ALL PRIVILEGES'], { withGrantOption: true }), on(db, ['SELECT'], { table: 't' })]);
    assert.deepEqual(await recording.client.getGrants(user, '%'), []);
    await asUser(server, user, password, async (c) => {
      await assert.rejects(c.query(`SELECT * FROM ${q(db)}.t`), /denied/);
    });
  });

  it('adds and removes the grant option on its own, without touching the privileges', async () => {
    const db = await databaseWithTable('g_option');
    const { user, password } = await userWithPassword('g_option');
    const helper = await userWithPassword('g_helper');
    await recording.client.setGrants(user, '%', [on(db, ['SELECT'])]);

    let mark = recording.statements.length;
    const add = await recording.client.setGrants(user, '%', [on(db, ['SELECT'], { withGrantOption: true })]);
    assert.deepEqual(add, { granted: [on(db, [], { withGrantOption: true })], revoked: [] });
    assert.deepEqual(recording.writesSince(mark), ['GRANT']);
    await asUser(server, user, password, async (c) => c.query<unknown>(`GRANT SELECT ON ${q(db)}.t TO ${quoteAccount(helper.user, '%')}`));

    mark = recording.statements.length;
    const remove = await recording.client.setGrants(user, '%', [on(db, ['SELECT'])]);
    assert.deepEqual(remove, { granted: [], revoked: [on(db, [], { withGrantOption: true })] });
    assert.deepEqual(recording.writesSince(mark), ['REVOKE']);
    await asUser(server, user, password, async (c) => {
      await c.query(`SELECT * FROM ${q(db)}.t`);
      await assert.rejects(c.query(`GRANT SELECT ON ${q(db)}.t TO ${quoteAccount(helper.user, '%')}`), /denied/);
    });
  });

  it('grants on one table only', async () => {
    const db = await databaseWithTable('g_table');
    await asAdmin(`CREATE TABLE ${q(db)}.secret (s INT)`);
    const { user, password } = await userWithPassword('g_table');
    await recording.client.setGrants(user, '%', [on(db, ['SELECT'], { table: 't' })]);
    await asUser(server, user, password, async (c) => {
      await c.query(`SELECT * FROM ${q(db)}.t`);
      await assert.rejects(c.query(`SELECT * FROM ${q(db)}.secret`), /denied/);
    });
  });

  it('grants and revokes global privileges', async () => {
    const { user, password } = await userWithPassword('g_global');
    await recording.client.setGrants(user, '%', [on('*', ['SHOW DATABASES'])]);
    await asUser(server, user, password, async (c) => {
      const dbs = await c.query<unknown[]>('SHOW DATABASES');
      assert.ok(dbs.length > 2, 'SHOW DATABASES lists every database');
    });
    await recording.client.setGrants(user, '%', []);
    await asUser(server, user, password, async (c) => {
      const dbs = await c.query<{ Database: string }[]>('SHOW DATABASES');
      assert.deepEqual(dbs.map((d) => d.Database), ['information_schema']);
    });
  });

  it('fails with the server’s reason when a table does not exist, and changes nothing else', async () => {
    const db = await databaseWithTable('g_missing');
    const { user } = await userWithPassword('g_missing');
    await assert.rejects(recording.client.setGrants(user, '%', [on(db, ['SELECT'], { table: 'nope' })]), /GRANT failed on .*doesn't exist \(ER_NO_SUCH_TABLE\)/);
    assert.deepEqual(await recording.client.getGrants(user, '%'), []);
  });
});
