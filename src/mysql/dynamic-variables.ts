// MariaDB 10.11 global variables the operator changes on running servers
// (SET GLOBAL, no restart), how each one's value is typed, and how a value
// MariaDB reports compares with one we asked for. Pure: the allow-list that
// the builders sort spec.myCnf with, and that the SQL client checks before it
// sends a SET GLOBAL (server-variables.ts), is this one.
import { validate, systemVariableName } from './identifiers.ts';

/** How the value of a dynamic variable is written and compared. */
export type VariableKind =
  | { readonly kind: 'size' } // bytes; my.cnf may add a K, M, G or T suffix
  | { readonly kind: 'integer' }
  | { readonly kind: 'decimal' }
  | { readonly kind: 'boolean' }
  /** One word or a comma-separated list; `set`: the order of the items does not matter (sql_mode). */
  | { readonly kind: 'string'; readonly pattern: RegExp; readonly set?: boolean };

/**
 * Global variables that MariaDB 10.11 changes at run time with SET GLOBAL and
 * that take effect without a restart. Picked conservatively: commonly tuned,
 * plainly typed, no file paths, nothing whose new value only applies to some
 * future event the user would not expect (an option not listed here rolls
 * the cluster, which is always correct, just slower).
 */
export const dynamicVariables: ReadonlyMap<string, VariableKind> = new Map<string, VariableKind>([
  ...(
    [
      'max_allowed_packet',
      'innodb_buffer_pool_size',
      'tmp_table_size',
      'max_heap_table_size',
      'sort_buffer_size',
      'join_buffer_size',
      'read_buffer_size',
      'read_rnd_buffer_size',
      'key_buffer_size',
      'binlog_cache_size',
      'max_binlog_size',
      'group_concat_max_len',
    ] as const
  ).map((name): [string, VariableKind] => [name, { kind: 'size' }]),
  ...(
    [
      'max_connections',
      'max_user_connections',
      'max_connect_errors',
      'wait_timeout',
      'interactive_timeout',
      'connect_timeout',
      'net_read_timeout',
      'net_write_timeout',
      'thread_cache_size',
      'table_open_cache',
      'table_definition_cache',
      'innodb_io_capacity',
      'innodb_io_capacity_max',
      'innodb_lock_wait_timeout',
      'lock_wait_timeout',
      'innodb_flush_log_at_trx_commit',
      'sync_binlog',
      'binlog_expire_logs_seconds',
      'log_warnings',
      'slave_net_timeout',
      'optimizer_search_depth',
      'min_examined_row_limit',
    ] as const
  ).map((name): [string, VariableKind] => [name, { kind: 'integer' }]),
  ...(['long_query_time', 'max_statement_time', 'expire_logs_days', 'innodb_max_dirty_pages_pct'] as const).map(
    (name): [string, VariableKind] => [name, { kind: 'decimal' }],
  ),
  ...(
    [
      'slow_query_log',
      'log_queries_not_using_indexes',
      'log_slow_admin_statements',
      'general_log',
      'innodb_print_all_deadlocks',
      'innodb_stats_on_metadata',
      'innodb_adaptive_hash_index',
    ] as const
  ).map((name): [string, VariableKind] => [name, { kind: 'boolean' }]),
  ['sql_mode', { kind: 'string', pattern: /^[A-Za-z_]*(,[A-Za-z_]+)*$/, set: true }],
  ['optimizer_switch', { kind: 'string', pattern: /^[a-z_]+=(on|off|default)(,[a-z_]+=(on|off|default))*$/ }],
  ['character_set_server', { kind: 'string', pattern: /^[a-z0-9]+$/ }],
  ['collation_server', { kind: 'string', pattern: /^[a-z0-9_]+$/ }],
]);

/** A value for SET GLOBAL: a number for sizes, integers and decimals, text for the rest (booleans as 'ON' or 'OFF'). */
export type VariableValue = number | string;

/** A variable name or value the SQL client will not send; thrown before any I/O. */
export class InvalidServerVariableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidServerVariableError';
  }
}

/**
 * The kind of `name` when it is a dynamic variable of the allow-list and
 * `value` fits that kind; throws InvalidServerVariableError (or
 * InvalidIdentifierError for a malformed name) otherwise.
 */
export function checkDynamicVariable(name: string, value: VariableValue): VariableKind {
  validate(systemVariableName, name);
  const kind = dynamicVariables.get(name);
  if (kind === undefined) throw new InvalidServerVariableError(`${name} is not a server variable the operator changes at run time`);
  const fits = (() => {
    switch (kind.kind) {
      case 'size':
      case 'integer':
        return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
      case 'decimal':
        return typeof value === 'number' && Number.isFinite(value) && value >= 0;
      case 'boolean':
        return value === 'ON' || value === 'OFF';
      case 'string':
        return typeof value === 'string' && kind.pattern.test(value);
    }
  })();
  if (!fits) throw new InvalidServerVariableError(`${JSON.stringify(value)} is not a valid value of ${name} (${kind.kind})`);
  return kind;
}

/**
 * Whether `reported` (the text information_schema.GLOBAL_VARIABLES shows)
 * is the value `wanted` that a SET GLOBAL of `kind` would give: numbers by
 * value (decimals are shown with six places), booleans whatever their
 * spelling, names case-insensitively, sql_mode in any order. A value MariaDB
 * rounds (a buffer size to its block size) differs here; the caller remembers
 * what a SET gave and compares with that next time.
 */
export function sameValue(kind: VariableKind, wanted: VariableValue, reported: string): boolean {
  switch (kind.kind) {
    case 'size':
    case 'integer':
    case 'decimal': {
      const number = Number(reported.trim());
      return reported.trim() !== '' && Number.isFinite(number) && Math.abs(number - Number(wanted)) < 1e-9;
    }
    case 'boolean':
      return booleanOf(String(wanted)) !== undefined && booleanOf(String(wanted)) === booleanOf(reported);
    case 'string': {
      if (kind.set === true) return setOf(String(wanted)) === setOf(reported);
      return String(wanted).toLowerCase() === reported.trim().toLowerCase();
    }
  }
}

function booleanOf(text: string): boolean | undefined {
  const upper = text.trim().toUpperCase();
  if (['ON', '1', 'TRUE', 'YES'].includes(upper)) return true;
  if (['OFF', '0', 'FALSE', 'NO'].includes(upper)) return false;
  return undefined;
}

/** A comma-separated list as a canonical string: upper case, sorted, without empty items or duplicates. */
function setOf(text: string): string {
  return [...new Set(text.split(',').map((item) => item.trim().toUpperCase()).filter((item) => item !== ''))].sort().join(',');
}
