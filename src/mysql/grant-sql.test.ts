import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grantStatement, grantee, grantsFromRows, revokeStatement, type PrivilegeRow } from './grant-sql.ts';
import type { LevelGrant } from './grants.ts';
import { InvalidIdentifierError } from './identifiers.ts';

const row = (level: string, db: string, tbl: string, privilege: string, grantable = 'NO'): PrivilegeRow => ({ level, db, tbl, privilege, grantable });

function stored(database: string, table: string, privileges: readonly string[], grantOption = false, pattern = false): LevelGrant {
  const level = database === '*' ? 'global' : table === '*' ? 'database' : 'table';
  return { level, database, table, pattern, privileges: new Set(privileges), grantOption };
}

describe('grantee', () => {
  it('is the account as information_schema writes it, host in lower case', () => {
    assert.equal(grantee('app', 'WEB-1.Example.com'), "'app'@'web-1.example.com'");
    assert.throws(() => grantee("a'b", '%'), InvalidIdentifierError);
  });
});

describe('grantsFromRows', () => {
  it('groups rows per level, reads the grant option and ignores USAGE', () => {
    const grants = grantsFromRows([
      row('global', '*', '*', 'USAGE'),
      row('database', 'site\\_a', '*', 'SELECT', 'YES'),
      row('database', 'site\\_a', '*', 'INSERT', 'YES'),
      row('table', 'site_a', 't', 'UPDATE'),
    ]);
    assert.deepEqual(grants, [stored('site_a', '*', ['SELECT', 'INSERT'], true), stored('site_a', 't', ['UPDATE'])]);
  });

  it('keeps a global USAGE row with grant option (grant option alone)', () => {
    assert.deepEqual(grantsFromRows([row('global', '*', '*', 'USAGE', 'YES')]), [stored('*', '*', [], true)]);
  });

  it('tells exact names from wildcard patterns', () => {
    const grants = grantsFromRows([
      row('database', 'site\\_a', '*', 'SELECT'), // made by this client: exactly site_a
      row('database', 'site_a', '*', 'SELECT'), // hand-made: _ matches any character
      row('database', 'site-b', '*', 'SELECT'), // no wildcard characters: exact as it is
      row('database', 'site%', '*', 'SELECT'),
      row('database', 'a\\$b', '*', 'SELECT'), // an escape this client never writes
    ]);
    assert.deepEqual(
      grants.map((g) => [g.database, g.pattern]),
      [
        ['a\\$b', true],
        ['site%', true],
        ['site-b', false],
        ['site_a', false],
        ['site_a', true],
      ],
    );
  });
});

describe('GRANT and REVOKE statements', () => {
  const account = "'app'@'%'";

  it('escape wildcards in database-level targets only', () => {
    assert.equal(grantStatement(account, stored('site_a', '*', ['SELECT', 'INSERT'])), "GRANT SELECT, INSERT ON `site\\_a`.* TO 'app'@'%'");
    assert.equal(grantStatement(account, stored('site_a', 'posts', ['SELECT'])), "GRANT SELECT ON `site_a`.`posts` TO 'app'@'%'");
    assert.equal(grantStatement(account, stored('*', '*', ['PROCESS'], true)), "GRANT PROCESS ON *.* TO 'app'@'%' WITH GRANT OPTION");
  });

  it('grant the grant option alone with USAGE', () => {
    assert.equal(grantStatement(account, stored('a', '*', [], true)), "GRANT USAGE ON `a`.* TO 'app'@'%' WITH GRANT OPTION");
  });

  it('revoke privileges and the grant option together or alone', () => {
    assert.equal(revokeStatement(account, stored('a', '*', ['DELETE'], true)), "REVOKE DELETE, GRANT OPTION ON `a`.* FROM 'app'@'%'");
    assert.equal(revokeStatement(account, stored('a', '*', [], true)), "REVOKE GRANT OPTION ON `a`.* FROM 'app'@'%'");
    assert.throws(() => revokeStatement(account, stored('a', '*', [])), /at least one privilege/);
  });

  it('revoke a pattern exactly as stored, and never grant one', () => {
    assert.equal(revokeStatement(account, stored('site_a', '*', ['SELECT'], false, true)), "REVOKE SELECT ON `site_a`.* FROM 'app'@'%'");
    assert.equal(revokeStatement(account, stored('a\\$b', '*', ['SELECT'], false, true)), "REVOKE SELECT ON `a\\$b`.* FROM 'app'@'%'");
    assert.throws(() => grantStatement(account, stored('site_a', '*', ['SELECT'], false, true)), /wildcard pattern/);
    assert.throws(() => revokeStatement(account, stored('a`b', '*', ['SELECT'], false, true)), InvalidIdentifierError);
  });

  it('refuse privilege names read from the server that are not plain keywords', () => {
    assert.throws(() => revokeStatement(account, stored('a', '*', ['SELECT; DROP'])), /cannot write privilege/);
  });
});
