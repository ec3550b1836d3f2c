import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkDynamicVariable, dynamicVariables, InvalidServerVariableError, sameValue, type VariableKind } from './dynamic-variables.ts';
import { InvalidIdentifierError } from './identifiers.ts';

const kindOf = (name: string): VariableKind => {
  const kind = dynamicVariables.get(name);
  assert.ok(kind, name);
  return kind;
};

describe('sameValue: a wanted value against what information_schema.GLOBAL_VARIABLES reports', () => {
  const cases: [string, number | string, string, boolean][] = [
    ['max_connections', 300, '300', true],
    ['max_connections', 300, '151', false],
    ['max_allowed_packet', 64 * 1024 * 1024, '67108864', true],
    ['long_query_time', 0.5, '0.500000', true],
    ['long_query_time', 2, '10.000000', false],
    ['slow_query_log', 'ON', 'ON', true],
    ['slow_query_log', 'ON', '1', true],
    ['slow_query_log', 'OFF', 'ON', false],
    ['sql_mode', 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION', 'NO_ENGINE_SUBSTITUTION,STRICT_TRANS_TABLES', true],
    ['sql_mode', 'strict_trans_tables', 'STRICT_TRANS_TABLES', true],
    ['sql_mode', 'STRICT_TRANS_TABLES', 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION', false],
    ['sql_mode', '', '', true],
    ['character_set_server', 'utf8mb4', 'utf8mb4', true],
    ['collation_server', 'utf8mb4_unicode_ci', 'utf8mb4_general_ci', false],
    ['max_connections', 300, '', false],
  ];
  for (const [name, wanted, reported, same] of cases) {
    it(`${name}: ${JSON.stringify(wanted)} vs ${JSON.stringify(reported)} → ${same ? 'same' : 'differs'}`, () => {
      assert.equal(sameValue(kindOf(name), wanted, reported), same);
    });
  }
});

describe('checkDynamicVariable: what may reach SET GLOBAL', () => {
  it('accepts a variable of the allow-list with a value of its kind', () => {
    assert.equal(checkDynamicVariable('max_connections', 500).kind, 'integer');
    assert.equal(checkDynamicVariable('slow_query_log', 'OFF').kind, 'boolean');
    assert.equal(checkDynamicVariable('sql_mode', 'STRICT_TRANS_TABLES').kind, 'string');
  });

  it('refuses a variable outside the allow-list, even a real one', () => {
    assert.throws(() => checkDynamicVariable('read_only', 'OFF'), InvalidServerVariableError);
    assert.throws(() => checkDynamicVariable('gtid_strict_mode', 'OFF'), InvalidServerVariableError);
  });

  it('refuses a malformed name before looking it up', () => {
    assert.throws(() => checkDynamicVariable('max_connections = 1; DROP DATABASE x', 1), InvalidIdentifierError);
    assert.throws(() => checkDynamicVariable('`max_connections`', 1), InvalidIdentifierError);
  });

  it('refuses a value of the wrong kind', () => {
    assert.throws(() => checkDynamicVariable('max_connections', '500'), InvalidServerVariableError);
    assert.throws(() => checkDynamicVariable('max_connections', -1), InvalidServerVariableError);
    assert.throws(() => checkDynamicVariable('slow_query_log', 'yes please'), InvalidServerVariableError);
    assert.throws(() => checkDynamicVariable('sql_mode', "x'; SET GLOBAL read_only=0; --"), InvalidServerVariableError);
  });
});
