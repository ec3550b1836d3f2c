// The SQL side of grants: grouping the stored privilege rows (read by
// grant-tables.ts) into grants, and the GRANT/REVOKE statements that change
// them. Pure string building, tested on its own; the client runs what this
// returns.
import {
  databaseName,
  databaseOfGrantPattern,
  hostName,
  quoteGrantDatabase,
  quoteGrantPattern,
  quoteIdentifier,
  tableName,
  userName,
  validate,
} from './identifiers.ts';
import { privilegeKeyword, sortPrivileges, type GrantLevel } from './privileges.ts';
import { compareGrants, type LevelGrant } from './grants.ts';

/**
 * The account as information_schema writes it in GRANTEE (`'user'@'host'`),
 * for comparing as a value. Hosts are stored in lower case.
 */
export function grantee(user: string, host: string): string {
  return `'${validate(userName, user)}'@'${validate(hostName, host).toLowerCase()}'`;
}

/** One stored privilege at one level, as grant-tables.ts reads it (information_schema's shape). */
export interface PrivilegeRow {
  readonly level: string;
  readonly db: string;
  readonly tbl: string;
  readonly privilege: string;
  readonly grantable: string;
}

/**
 * Groups privilege rows into one stored-form grant per level. A database-level
 * row whose TABLE_SCHEMA is not exactly the escaped form of one database name
 * becomes a `pattern` grant; levels that hold nothing (only USAGE without
 * grant option) are left out.
 */
export function grantsFromRows(rows: readonly PrivilegeRow[]): LevelGrant[] {
  const byLevel = new Map<string, { level: GrantLevel; database: string; table: string; pattern: boolean; privileges: Set<string>; grantOption: boolean }>();
  for (const row of rows) {
    const level = parseLevel(row.level);
    let database = row.db;
    let pattern = false;
    if (level === 'database') {
      const exact = databaseOfGrantPattern(row.db);
      if (exact === undefined) pattern = true;
      else database = exact;
    }
    const key = [level, pattern, database, row.tbl].join('\u0000');
    const entry = byLevel.get(key) ?? { level, database, table: row.tbl, pattern, privileges: new Set<string>(), grantOption: false };
    const privilege = row.privilege.toUpperCase();
    if (privilege !== 'USAGE') entry.privileges.add(privilege);
    if (row.grantable.toUpperCase() === 'YES') entry.grantOption = true;
    byLevel.set(key, entry);
  }
  return [...byLevel.values()]
    .filter((g) => g.privileges.size > 0 || g.grantOption)
    .map((g) => ({ ...g, privileges: new Set(sortPrivileges(g.privileges)) }))
    .sort(compareGrants);
}

function parseLevel(level: string): GrantLevel {
  if (level === 'global' || level === 'database' || level === 'table') return level;
  throw new Error(`unexpected grant level ${JSON.stringify(level)} in the grants query`);
}

/**
 * The `ON …` part. Database level: the name with `_`/`%` escaped (or, to
 * revoke a hand-made pattern, the pattern as stored). Table level: the plain
 * name, since MariaDB reads no wildcards there and would look for a database
 * literally called `site\_a`.
 */
export function grantTarget(g: Pick<LevelGrant, 'level' | 'database' | 'table' | 'pattern'>): string {
  switch (g.level) {
    case 'global':
      return '*.*';
    case 'database':
      return `${g.pattern ? quoteGrantPattern(g.database) : quoteGrantDatabase(g.database)}.*`;
    case 'table':
      return `${quoteIdentifier(databaseName, g.database)}.${quoteIdentifier(tableName, g.table)}`;
  }
}

/**
 * `GRANT p, … ON target TO account [WITH GRANT OPTION]`; `GRANT USAGE …
 * WITH GRANT OPTION` when only the grant option is added. `account` is a
 * quoteAccount result.
 */
export function grantStatement(account: string, g: LevelGrant): string {
  if (g.pattern) throw new Error('refusing to grant on a wildcard pattern');
  const names = sortPrivileges(g.privileges).map(privilegeKeyword);
  const list = names.length > 0 ? names.join(', ') : 'USAGE';
  return `GRANT ${list} ON ${grantTarget(g)} TO ${account}${g.grantOption ? ' WITH GRANT OPTION' : ''}`;
}

/** `REVOKE p, …[, GRANT OPTION] ON target FROM account`. */
export function revokeStatement(account: string, g: LevelGrant): string {
  const names = sortPrivileges(g.privileges).map(privilegeKeyword);
  if (g.grantOption) names.push('GRANT OPTION');
  if (names.length === 0) throw new Error('a REVOKE needs at least one privilege');
  return `REVOKE ${names.join(', ')} ON ${grantTarget(g)} FROM ${account}`;
}
