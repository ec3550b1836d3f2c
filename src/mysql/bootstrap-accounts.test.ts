import assert from 'node:assert/strict';
import { test } from 'node:test';
import { operatorPrivileges } from './bootstrap-accounts.ts';
import { replicationControlPrivileges } from './replication.ts';

// MariaDB spells REPLICA and SLAVE as synonyms in privilege names (REPLICA MONITOR = SLAVE MONITOR).
const canonical = (privilege: string): string => privilege.replace('REPLICA ', 'SLAVE ');

test('the operator account created at initdb holds every privilege replication control needs', () => {
  const held = new Set(operatorPrivileges.map((p) => canonical(p.privilege)));
  const missing = replicationControlPrivileges.filter((p) => !held.has(canonical(p)));
  assert.deepEqual(missing, []);
});
