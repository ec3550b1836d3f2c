import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidPrivilegeError,
  administrativePrivileges,
  databaseLevelPrivileges,
  databasePrivileges,
  expandPrivileges,
  globalLevelPrivileges,
  privilegeKeyword,
  sortPrivileges,
  tableLevelPrivileges,
} from './privileges.ts';

describe('privilege levels', () => {
  it('nest: table ⊂ database ⊂ global, and every declarable privilege is grantable on *.*', () => {
    for (const p of tableLevelPrivileges) assert.ok(databaseLevelPrivileges.includes(p), p);
    for (const p of databaseLevelPrivileges) assert.ok(globalLevelPrivileges.includes(p), p);
    for (const p of [...databasePrivileges, ...administrativePrivileges]) {
      assert.doesNotThrow(() => expandPrivileges('global', [p]), p);
    }
  });

  it('every site privilege but ALL/USAGE is grantable on db.*', () => {
    for (const p of databasePrivileges) assert.doesNotThrow(() => expandPrivileges('database', [p]), p);
  });
});

describe('expandPrivileges', () => {
  it('expands ALL to the full set of the level', () => {
    assert.deepEqual(expandPrivileges('database', ['ALL']).privileges, databaseLevelPrivileges);
    assert.deepEqual(expandPrivileges('table', ['all privileges']).privileges, tableLevelPrivileges);
    assert.deepEqual(expandPrivileges('global', ['All']).privileges, globalLevelPrivileges);
    assert.equal(databaseLevelPrivileges.length, 19);
    assert.equal(tableLevelPrivileges.length, 13);
  });

  it('normalises case and spaces, drops USAGE and duplicates, keeps canonical order', () => {
    assert.deepEqual(expandPrivileges('database', ['insert', 'USAGE', 'select', 'Insert', 'create  temporary   tables']).privileges, [
      'SELECT',
      'INSERT',
      'CREATE TEMPORARY TABLES',
    ]);
    assert.deepEqual(expandPrivileges('database', ['USAGE']).privileges, []);
    assert.deepEqual(expandPrivileges('database', []).privileges, []);
  });

  it('reads GRANT OPTION as the grant option, not a privilege', () => {
    assert.deepEqual(expandPrivileges('database', ['SELECT', 'grant option']), { privileges: ['SELECT'], grantOption: true });
    assert.equal(expandPrivileges('database', ['SELECT']).grantOption, false);
  });

  it('maps old names to the names MariaDB stores', () => {
    assert.deepEqual(expandPrivileges('global', ['REPLICATION CLIENT', 'REPLICA MONITOR']).privileges, ['BINLOG MONITOR', 'SLAVE MONITOR']);
  });

  it('refuses unknown privileges and privileges MariaDB refuses at the level', () => {
    assert.throws(() => expandPrivileges('database', ['SELEKT']), InvalidPrivilegeError);
    assert.throws(() => expandPrivileges('database', ['SUPER']), /SUPER cannot be granted on a database \(db\.\*\); it is server-wide/);
    assert.throws(() => expandPrivileges('table', ['EXECUTE']), /EXECUTE cannot be granted on a table \(db\.table\); grant it on the database/);
    assert.throws(() => expandPrivileges('table', ['PROCESS']), InvalidPrivilegeError);
  });
});

describe('privilege keywords', () => {
  it('writes upper-case words only', () => {
    assert.equal(privilegeKeyword('READ_ONLY ADMIN'), 'READ_ONLY ADMIN');
    for (const bad of ['select', 'SELECT;DROP', "SELECT'", 'SELECT ', '', 'A  B', 'SHOW CREATE ROUTINE)']) {
      assert.throws(() => privilegeKeyword(bad), InvalidPrivilegeError, bad);
    }
  });

  it('sorts names outside the known list last', () => {
    assert.deepEqual(sortPrivileges(['SHOW CREATE ROUTINE', 'INSERT', 'SELECT']), ['SELECT', 'INSERT', 'SHOW CREATE ROUTINE']);
  });
});
