import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidIdentifierError } from './identifiers.ts';
import { InvalidGrantError, desiredGrants, diffGrants, reportGrant, type Grant, type LevelGrant } from './grants.ts';
import { InvalidPrivilegeError, databaseLevelPrivileges, tableLevelPrivileges } from './privileges.ts';

function stored(database: string, table: string, privileges: readonly string[], grantOption = false, pattern = false): LevelGrant {
  const level = database === '*' ? 'global' : table === '*' ? 'database' : 'table';
  return { level, database, table, pattern, privileges: new Set(privileges), grantOption };
}

const grant = (database: string, privileges: string[], extra: Partial<Grant> = {}): Grant => ({
  database,
  table: '*',
  privileges,
  withGrantOption: false,
  ...extra,
});

describe('desiredGrants', () => {
  it('expands ALL for the level and merges entries for the same database', () => {
    const [db, table] = desiredGrants([
      grant('site_a', ['SELECT']),
      grant('site_a', ['insert'], { withGrantOption: true }),
      grant('site_a', ['ALL'], { table: 'posts' }),
    ]);
    assert.deepEqual(db, stored('site_a', '*', ['SELECT', 'INSERT'], true));
    assert.deepEqual(table, stored('site_a', 'posts', tableLevelPrivileges));
  });

  it('drops entries that give nothing (USAGE, no grant option)', () => {
    assert.deepEqual(desiredGrants([grant('a', ['USAGE']), grant('b', [])]), []);
    assert.deepEqual(desiredGrants([grant('a', ['USAGE'], { withGrantOption: true })]), [stored('a', '*', [], true)]);
  });

  it('orders global, then databases, then tables', () => {
    const order = desiredGrants([grant('b', ['SELECT'], { table: 't' }), grant('b', ['SELECT']), grant('*', ['PROCESS']), grant('a', ['SELECT'])]).map(
      (g) => `${g.database}.${g.table}`,
    );
    assert.deepEqual(order, ['*.*', 'a.*', 'b.*', 'b.t']);
  });

  it('refuses bad names, bad privileges, *.table and declared patterns', () => {
    assert.throws(() => desiredGrants([grant('a`b', ['SELECT'])]), InvalidIdentifierError);
    assert.throws(() => desiredGrants([grant('site%', ['SELECT'])]), InvalidIdentifierError);
    assert.throws(() => desiredGrants([grant('a', ['SELECT'], { table: 't;x' })]), InvalidIdentifierError);
    assert.throws(() => desiredGrants([grant('a', ['SUPER'])]), InvalidPrivilegeError);
    assert.throws(() => desiredGrants([grant('a', ['EXECUTE'], { table: 't' })]), InvalidPrivilegeError);
    assert.throws(() => desiredGrants([grant('*', ['SELECT'], { table: 't' })]), InvalidGrantError);
    assert.throws(() => desiredGrants([grant('site_a', ['SELECT'], { pattern: true })]), InvalidGrantError);
  });
});

describe('diffGrants', () => {
  it('finds nothing to do when a declared ALL meets the stored individual privileges', () => {
    const actual = [stored('site_a', '*', databaseLevelPrivileges)];
    assert.deepEqual(diffGrants(actual, desiredGrants([grant('site_a', ['ALL PRIVILEGES'])])), { grant: [], revoke: [] });
  });

  it('grants only what is missing and revokes only what is no longer declared', () => {
    const actual = [stored('site_a', '*', ['SELECT', 'INSERT', 'DELETE'])];
    const changes = diffGrants(actual, desiredGrants([grant('site_a', ['SELECT', 'INSERT', 'UPDATE'])]));
    assert.deepEqual(changes.grant, [stored('site_a', '*', ['UPDATE'])]);
    assert.deepEqual(changes.revoke, [stored('site_a', '*', ['DELETE'])]);
  });

  it('adds and removes the grant option on its own', () => {
    const add = diffGrants([stored('a', '*', ['SELECT'])], desiredGrants([grant('a', ['SELECT'], { withGrantOption: true })]));
    assert.deepEqual(add, { grant: [stored('a', '*', [], true)], revoke: [] });
    const remove = diffGrants([stored('a', '*', ['SELECT'], true)], desiredGrants([grant('a', ['SELECT'])]));
    assert.deepEqual(remove, { grant: [], revoke: [stored('a', '*', [], true)] });
  });

  it('revokes whole levels that are not declared, grant option included', () => {
    const actual = [stored('*', '*', ['PROCESS']), stored('other', '*', ['SELECT'], true), stored('a', 't', ['SELECT'])];
    const changes = diffGrants(actual, []);
    assert.deepEqual(changes.grant, []);
    assert.deepEqual(changes.revoke, actual);
  });

  it('revokes a wildcard pattern even when the one database it resembles is declared', () => {
    const pattern = stored('site_a', '*', ['SELECT'], false, true);
    const changes = diffGrants([pattern], desiredGrants([grant('site_a', ['SELECT'])]));
    assert.deepEqual(changes.revoke, [pattern]);
    assert.deepEqual(changes.grant, [stored('site_a', '*', ['SELECT'])]);
  });

  it('keeps levels apart: a table grant does not satisfy a database grant', () => {
    const changes = diffGrants([stored('a', 't', ['SELECT'])], desiredGrants([grant('a', ['SELECT'])]));
    assert.deepEqual(changes.grant, [stored('a', '*', ['SELECT'])]);
    assert.deepEqual(changes.revoke, [stored('a', 't', ['SELECT'])]);
  });
});

describe('reportGrant', () => {
  it('reports a full set as ALL PRIVILEGES and anything else privilege by privilege', () => {
    assert.deepEqual(reportGrant(stored('a', '*', databaseLevelPrivileges, true)), grant('a', ['ALL PRIVILEGES'], { withGrantOption: true }));
    assert.deepEqual(reportGrant(stored('a', 't', tableLevelPrivileges)), grant('a', ['ALL PRIVILEGES'], { table: 't' }));
    assert.deepEqual(reportGrant(stored('a', '*', ['INSERT', 'SELECT'])), grant('a', ['SELECT', 'INSERT']));
    assert.deepEqual(reportGrant(stored('a_b', '*', ['SELECT'], false, true)), grant('a_b', ['SELECT'], { pattern: true }));
  });

  it('round-trips: what is reported, declared again, changes nothing', () => {
    const actual = [stored('*', '*', ['PROCESS', 'BINLOG MONITOR']), stored('a', '*', databaseLevelPrivileges, true), stored('a', 't', ['SELECT'])];
    assert.deepEqual(diffGrants(actual, desiredGrants(actual.map(reportGrant))), { grant: [], revoke: [] });
  });
});
