import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import {
  bootstrapAccountsSql,
  managerPrivileges,
  operatorGrantTableAccess,
  operatorPrivileges,
  replicationPrivileges,
  reservedUserNames,
  systemAccounts,
} from './bootstrap-accounts.ts';
import { nativePasswordHash } from './password.ts';
import { databaseLevelPrivileges } from './privileges.ts';
import { replicationControlPrivileges } from './replication.ts';

// MariaDB spells REPLICA and SLAVE as synonyms in privilege names (REPLICA MONITOR = SLAVE MONITOR).
const canonical = (privilege: string): string => privilege.replace('REPLICA ', 'SLAVE ');
const names = (list: readonly { privilege: string }[]): string[] => list.map((p) => canonical(p.privilege));

test('the operator account created at initdb holds every privilege replication control needs', () => {
  const held = new Set(names(operatorPrivileges));
  const missing = replicationControlPrivileges.filter((p) => !held.has(canonical(p)));
  assert.deepEqual(missing, []);
});

test('the operator account holds what it grants the replication account, and no database-level privilege on *.*', () => {
  const held = new Set(names(operatorPrivileges));
  for (const p of names(replicationPrivileges)) assert.ok(held.has(p), p);
  assert.deepEqual(names(operatorPrivileges).filter((p) => databaseLevelPrivileges.includes(p)), []);
  assert.deepEqual({ database: operatorGrantTableAccess.database, privilege: operatorGrantTableAccess.privilege }, { database: 'mysql', privilege: 'SELECT' });
});

test('the manager account holds the database-level privileges and CREATE USER: nothing that passes read_only or touches replication', () => {
  assert.deepEqual(names(managerPrivileges).sort(), [...databaseLevelPrivileges, 'CREATE USER'].sort());
  for (const forbidden of ['SUPER', 'READ_ONLY ADMIN', 'CONNECTION ADMIN', 'FILE', 'REPLICATION SLAVE', 'REPLICATION SLAVE ADMIN', 'BINLOG ADMIN']) {
    assert.ok(!names(managerPrivileges).includes(forbidden), forbidden);
  }
});

test('every system account name is reserved', () => {
  assert.deepEqual([...reservedUserNames].sort(), ['flightdeck_manager', 'flightdeck_operator', 'flightdeck_replication']);
});

const operator = { ...systemAccounts.operator, passwordHash: nativePasswordHash('a') };
const manager = { ...systemAccounts.manager, passwordHash: nativePasswordHash('c') };
const replication = { ...systemAccounts.replication, passwordHash: nativePasswordHash('b') };

describe('bootstrapAccountsSql', () => {
  it('turns the binary log off first, then creates each account with its privileges', () => {
    const lines = bootstrapAccountsSql({ operator, manager, replication }).split('\n').filter((l) => l !== '' && !l.startsWith('--'));
    assert.deepEqual(lines, [
      'SET sql_log_bin = 0;',
      `CREATE USER 'flightdeck_operator'@'%' IDENTIFIED BY PASSWORD '${operator.passwordHash}';`,
      `GRANT ${operatorPrivileges.map((p) => p.privilege).join(', ')} ON *.* TO 'flightdeck_operator'@'%' WITH GRANT OPTION;`,
      "GRANT SELECT ON `mysql`.* TO 'flightdeck_operator'@'%';",
      `CREATE USER 'flightdeck_manager'@'%' IDENTIFIED BY PASSWORD '${manager.passwordHash}';`,
      `GRANT ${managerPrivileges.map((p) => p.privilege).join(', ')} ON *.* TO 'flightdeck_manager'@'%' WITH GRANT OPTION;`,
      `CREATE USER 'flightdeck_replication'@'%' IDENTIFIED BY PASSWORD '${replication.passwordHash}';`,
      `GRANT ${replicationPrivileges.map((p) => p.privilege).join(', ')} ON *.* TO 'flightdeck_replication'@'%';`,
    ]);
  });

  it('writes only a well-formed native hash into the script, never anything that could close the quote', () => {
    for (const passwordHash of ["*'; DROP USER root; --", 'plain-password', nativePasswordHash('a').toLowerCase(), '']) {
      assert.throws(() => bootstrapAccountsSql({ operator: { ...operator, passwordHash }, manager, replication }), /not a mysql_native_password hash/);
      assert.throws(() => bootstrapAccountsSql({ operator, manager: { ...manager, passwordHash }, replication }), /not a mysql_native_password hash/);
    }
    assert.throws(() => bootstrapAccountsSql({ operator: { ...operator, user: "x'@'%" }, manager, replication }), /invalid user name/);
  });

  it('says why each account holds each privilege, and holds none twice', () => {
    for (const list of [operatorPrivileges, managerPrivileges, replicationPrivileges, [operatorGrantTableAccess]]) {
      for (const p of list) assert.ok(p.why.length > 10, p.privilege);
      assert.equal(new Set(list.map((p) => p.privilege)).size, list.length);
    }
  });
});
