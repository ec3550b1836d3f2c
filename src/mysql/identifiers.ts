// The one place that decides which SQL identifiers are acceptable and how they
// are quoted. The CRD schemas take their patterns from here, so what the API
// server refuses at apply time and what the SQL client refuses are the same.
//
// The accepted sets are deliberately narrower than what MariaDB allows: no
// spaces, quotes, backslashes, backticks or control characters ever reach a
// statement, so quoting is a formality rather than the only line of defence.

export interface IdentifierRule {
  /** What the identifier is, as an error message names it. */
  readonly what: string;
  /** An anchored regular expression, valid in JavaScript, RE2 (CEL) and ECMA (OpenAPI). */
  readonly pattern: string;
  readonly maxLength: number;
  /** Human wording of the pattern, for error messages. */
  readonly explanation: string;
}

export const databaseName: IdentifierRule = {
  what: 'database name',
  pattern: '^[A-Za-z0-9_][A-Za-z0-9_$-]*$',
  maxLength: 64,
  explanation: 'letters, digits, "_", "$" and "-", not starting with "$" or "-", at most 64 characters',
};

export const tableName: IdentifierRule = {
  what: 'table name',
  pattern: '^([*]|[A-Za-z0-9_][A-Za-z0-9_$-]*)$',
  maxLength: 64,
  explanation: '"*" for every table, or letters, digits, "_", "$" and "-", at most 64 characters',
};

export const userName: IdentifierRule = {
  what: 'user name',
  pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$',
  maxLength: 80,
  explanation: 'letters, digits, "_", "." and "-", not starting with "." or "-", at most 80 characters',
};

export const hostName: IdentifierRule = {
  what: 'host',
  // Host names, IPv4/IPv6 addresses, netmasks (a.b.c.d/e.f.g.h) and the
  // wildcards % and _.
  pattern: '^[A-Za-z0-9%_.:/-]+$',
  maxLength: 255,
  explanation: 'a host name, an IP address, a netmask or a pattern with "%" and "_", at most 255 characters',
};

/**
 * The server a replica replicates from (CHANGE MASTER TO MASTER_HOST): a DNS
 * name or an IP address. Narrower than an account host: it names one server,
 * so no wildcards, netmasks or `_`.
 */
export const replicationSourceHost: IdentifierRule = {
  what: 'replication source host',
  pattern: '^[A-Za-z0-9:][A-Za-z0-9.:-]*$',
  maxLength: 255,
  explanation: 'a host name or IP address: letters, digits, ".", ":" and "-", not starting with "." or "-", at most 255 characters',
};

export const charsetName: IdentifierRule = {
  what: 'character set',
  pattern: '^[a-z0-9]+$',
  maxLength: 32,
  explanation: 'lower-case letters and digits, such as utf8mb4',
};

export const collationName: IdentifierRule = {
  what: 'collation',
  pattern: '^[a-z0-9_]+$',
  maxLength: 64,
  explanation: 'lower-case letters, digits and "_", such as utf8mb4_unicode_ci',
};

/**
 * The name of a server system variable in SET GLOBAL: lower-case letters,
 * digits and "_" (dynamic-variables.ts narrows it to an allow-list).
 */
export const systemVariableName: IdentifierRule = {
  what: 'server variable name',
  pattern: '^[a-z][a-z0-9_]*$',
  maxLength: 64,
  explanation: 'lower-case letters, digits and "_", starting with a letter, at most 64 characters',
};

/** The operator's own bookkeeping on each server: who owns which database and user. */
export const operatorDatabase = 'flightdeck_meta';

/** Databases MariaDB or the operator itself owns; no MySQLDatabase may create, adopt or drop them. */
export const systemDatabases: readonly string[] = ['mysql', 'information_schema', 'performance_schema', 'sys', operatorDatabase];

export class InvalidIdentifierError extends Error {
  constructor(rule: IdentifierRule, value: string) {
    super(`invalid ${rule.what} ${JSON.stringify(value)}: use ${rule.explanation}`);
    this.name = 'InvalidIdentifierError';
  }
}

const compiled = new Map<IdentifierRule, RegExp>();

export function isValid(rule: IdentifierRule, value: string): boolean {
  let re = compiled.get(rule);
  if (re === undefined) {
    re = new RegExp(rule.pattern);
    compiled.set(rule, re);
  }
  return value.length > 0 && value.length <= rule.maxLength && re.test(value);
}

/** Returns `value` when it satisfies `rule`, or throws InvalidIdentifierError. */
export function validate(rule: IdentifierRule, value: string): string {
  if (!isValid(rule, value)) throw new InvalidIdentifierError(rule, value);
  return value;
}

/** `name` as a backquoted identifier: `` `name` ``. */
export function quoteIdentifier(rule: IdentifierRule, name: string): string {
  return '`' + validate(rule, name).replaceAll('`', '``') + '`';
}

/** `value` as a single-quoted string literal, for user names and hosts. */
export function quoteAccountPart(rule: IdentifierRule, value: string): string {
  return "'" + validate(rule, value).replaceAll('\\', '\\\\').replaceAll("'", "''") + "'";
}

/** `'user'@'host'`, the account name as MariaDB writes it. */
export function quoteAccount(user: string, host: string): string {
  return `${quoteAccountPart(userName, user)}@${quoteAccountPart(hostName, host)}`;
}

/**
 * A database name in the `ON db.table` part of GRANT and REVOKE. There `_` and
 * `%` are wildcards, so an unescaped `site_a` would also grant on `siteXa` —
 * another tenant's database. Escaping them makes the grant match one database.
 */
export function quoteGrantDatabase(name: string): string {
  return '`' + escapeGrantDatabase(name) + '`';
}

/**
 * `name` with its wildcards escaped, as MariaDB stores a database-level grant
 * made with quoteGrantDatabase (information_schema.SCHEMA_PRIVILEGES.TABLE_SCHEMA
 * holds `site\_a` for `site_a`).
 */
export function escapeGrantDatabase(name: string): string {
  return validate(databaseName, name).replaceAll('_', '\\_').replaceAll('%', '\\%');
}

/**
 * The one database a stored database-level grant pattern matches, or
 * undefined when the pattern is not exactly the escaped form of a valid
 * database name: a hand-made grant on `site_a`.* (where `_` matches any
 * character), on `site%`.*, or with other escapes. Such a grant reaches more
 * than one database and can never have been made by this client.
 */
export function databaseOfGrantPattern(pattern: string): string | undefined {
  const name = pattern.replaceAll('\\_', '_').replaceAll('\\%', '%');
  return isValid(databaseName, name) && escapeGrantDatabase(name) === pattern ? name : undefined;
}

/**
 * A stored database-level grant pattern as read back from the server, which
 * may hold the wildcards `%` and `_` and the escape `\`. Only accepted for
 * revoking such a grant; patterns are never granted.
 */
export const databasePattern: IdentifierRule = {
  what: 'database grant pattern',
  pattern: '^[A-Za-z0-9_$%\\\\-]+$',
  maxLength: 64,
  explanation: 'letters, digits, "_", "$", "-", "%" and "\\", at most 64 characters',
};

/**
 * A stored database-level grant pattern in the `ON pattern.*` part of REVOKE,
 * exactly as stored, so the REVOKE matches the grant row it was read from.
 * Inside backquotes a backslash is an ordinary character, so `\_` reaches
 * the server unchanged.
 */
export function quoteGrantPattern(pattern: string): string {
  return '`' + validate(databasePattern, pattern) + '`';
}
