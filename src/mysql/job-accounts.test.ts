import assert from 'node:assert/strict';
import { test } from 'node:test';
import { managerPrivileges } from './bootstrap-accounts.ts';
import { backupGrants, restoreGrants } from './job-accounts.ts';
import { databaseLevelPrivileges } from './privileges.ts';

// On a managed cluster the operator makes a Job's account through the manager
// account, which can grant only what it holds WITH GRANT OPTION: database-level
// privileges (held on *.*, so on every database) and nothing global.
const grantable = new Set(managerPrivileges.map((p) => p.privilege));

test("a backup Job's account: read-only privileges on exactly its databases, nothing on *.*, all grantable by the manager account", () => {
  const grants = backupGrants(['shop', 'blog']);
  assert.deepEqual(
    grants.map((g) => g.database),
    ['shop', 'blog'],
  );
  for (const grant of grants) {
    assert.equal(grant.table, '*');
    assert.equal(grant.withGrantOption, false);
    assert.deepEqual([...grant.privileges].sort(), ['EVENT', 'LOCK TABLES', 'SELECT', 'SHOW VIEW', 'TRIGGER']);
    for (const privilege of grant.privileges) assert.ok(grantable.has(privilege), `${privilege} is not grantable by the manager account`);
  }
});

test("a restore Job's account: every privilege on exactly its databases, nothing on *.*, all grantable by the manager account", () => {
  const grants = restoreGrants(['shop_restored']);
  assert.deepEqual(grants, [{ database: 'shop_restored', table: '*', privileges: ['ALL PRIVILEGES'], withGrantOption: false }]);
  // ALL PRIVILEGES on a database is every database-level privilege, which the manager holds on *.*.
  for (const privilege of databaseLevelPrivileges) assert.ok(grantable.has(privilege), privilege);
});

test('names that are not database names are refused before any grant is built', () => {
  assert.throws(() => backupGrants(['shop`; DROP DATABASE x; --']));
  assert.throws(() => restoreGrants(['']));
});
