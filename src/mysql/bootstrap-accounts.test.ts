import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { bootstrapAccountsSql, operatorPrivileges, replicationPrivileges, systemAccounts } from './bootstrap-accounts.ts';
import { nativePasswordHash } from './password.ts';
import { replicationControlPrivileges } from './replication.ts';

// MariaDB spells REPLICA and SLAVE as synonyms in privilege names (REPLICA MONITOR = SLAVE MONITOR).
const canonical = (privilege: string): string => privilege.replace('REPLICA ', 'SLAVE ');

test('the operator account created at initdb holds every privilege replication control needs', () => {
  const held = new Set(operatorPrivileges.map((p) => canonical(p.privilege)));
  const missing = replicationControlPrivileges.filter((p) => !held.has(canonical(p)));
  assert.deepEqual(missing, []);
});

const operator = { ...systemAccounts.operator, passwordHash: nativePasswordHash('a') };
const replication = { ...systemAccounts.replication, passwordHash: nativePasswordHash('b') };

describe('bootstrapAccountsSql', () => {
  it('turns the binary log off first, then creates each account with its privileges', () => {
    const lines = bootstrapAccountsSql({ operator, replication }).split('\n').filter((l) => l !== '' && !l.startsWith('--'));
    assert.equal(lines[0], 'SET sql_log_bin = 0;');
    assert.equal(lines.length, 5);
    assert.ok(lines[2]?.endsWith("TO 'flightdeck_operator'@'%' WITH GRANT OPTION;"));
    assert.equal(lines[4], `GRANT ${replicationPrivileges.map((p) => p.privilege).join(', ')} ON *.* TO 'flightdeck_replication'@'%';`);
  });

  it('writes only a well-formed native hash into the script, never anything that could close the quote', () => {
    for (const passwordHash of ["*'; DROP USER root; --", 'plain-password', nativePasswordHash('a').toLowerCase(), '']) {
      assert.throws(() => bootstrapAccountsSql({ operator: { ...operator, passwordHash }, replication }), /not a mysql_native_password hash/);
    }
    assert.throws(() => bootstrapAccountsSql({ operator: { ...operator, user: "x'@'%" }, replication }), /invalid user name/);
  });

  it('says why each account holds each privilege, and holds none twice', () => {
    for (const list of [operatorPrivileges, replicationPrivileges]) {
      for (const p of list) assert.ok(p.why.length > 10, p.privilege);
      assert.equal(new Set(list.map((p) => p.privilege)).size, list.length);
    }
  });
});
