import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootstrapAccountsSql, operatorPrivileges, replicationPrivileges, systemAccounts } from './bootstrap-accounts.ts';
import { nativePasswordHash } from './password.ts';

const operator = { ...systemAccounts.operator, passwordHash: nativePasswordHash('a') };
const replication = { ...systemAccounts.replication, passwordHash: nativePasswordHash('b') };

describe('bootstrapAccountsSql', () => {
  it('turns the binary log off first, then creates each account with its privileges', () => {
    const lines = bootstrapAccountsSql({ operator, replication }).split('\n').filter((l) => l !== '' && !l.startsWith('--'));
    assert.equal(lines[0], 'SET sql_log_bin = 0;');
    assert.equal(lines.length, 5);
    assert.ok(lines[2]?.endsWith("TO 'flightdeck_operator'@'%' WITH GRANT OPTION;"));
    assert.equal(lines[4], "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'flightdeck_replication'@'%';");
  });

  it('writes only a well-formed native hash into the script, never anything that could close the quote', () => {
    for (const passwordHash of ["*'; DROP USER root; --", 'plain-password', nativePasswordHash('a').toLowerCase(), '']) {
      assert.throws(() => bootstrapAccountsSql({ operator: { ...operator, passwordHash }, replication }), /not a mysql_native_password hash/);
    }
    assert.throws(() => bootstrapAccountsSql({ operator: { ...operator, user: "x'@'%" }, replication }), /invalid user name/);
  });

  it('says why the operator holds each privilege, and holds no privilege twice', () => {
    for (const list of [operatorPrivileges, replicationPrivileges]) {
      for (const p of list) assert.ok(p.why.length > 10, p.privilege);
      assert.equal(new Set(list.map((p) => p.privilege)).size, list.length);
    }
  });
});
