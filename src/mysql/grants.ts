// The grant model of the SQL client and the difference between what a user
// has and what it should have. Pure: no I/O, so the rules that decide what is
// granted and revoked are tested without a server.
//
// Both sides are compared in MariaDB's own terms — one entry per level
// (`*.*`, `db.*`, `db.table`), privileges under their stored names, ALL
// expanded — so that a declared `ALL` equals the individual privileges the
// server lists, and a resync where nothing changed finds nothing to do.
import { databaseName, tableName, validate } from './identifiers.ts';
import { expandPrivileges, isFullSet, levelPrivileges, sortPrivileges, type GrantLevel } from './privileges.ts';

/** Privileges of one user on one database, one table, or everything. */
export interface Grant {
  /** A database name, or '*' for all databases. With `pattern`, the stored wildcard pattern. */
  database: string;
  /** A table name, or '*' for every table of the database. */
  table: string;
  /**
   * Privilege names, upper case, e.g. ['SELECT','INSERT'] or ['ALL PRIVILEGES'].
   * [] or ['USAGE'] means none. Declared names may be any case and include
   * ALL, old aliases (REPLICATION CLIENT) and GRANT OPTION; reported names
   * are the stored ones in canonical order, with a level's full set reported
   * as ['ALL PRIVILEGES'].
   */
  privileges: string[];
  withGrantOption: boolean;
  /**
   * Only on grants read from the server: `database` is a stored database-level
   * pattern that is not exactly one database (a hand-made `GRANT … ON
   * \`site_a\`.*`, where `_` matches any character). Such a grant cannot be
   * declared; setGrants revokes it.
   */
  pattern?: boolean;
}

/** One level's grant as MariaDB stores it. */
export interface LevelGrant {
  readonly level: GrantLevel;
  /** '*' at global level; the stored pattern when `pattern`. */
  readonly database: string;
  /** '*' unless at table level. */
  readonly table: string;
  readonly pattern: boolean;
  /** Stored names, ALL expanded, without USAGE and GRANT OPTION. */
  readonly privileges: ReadonlySet<string>;
  readonly grantOption: boolean;
}

/** Thrown, before any statement is sent, for a declared grant whose shape MariaDB (or this client) does not accept. */
export class InvalidGrantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidGrantError';
  }
}

export function levelOf(database: string, table: string): GrantLevel {
  if (database === '*') return 'global';
  return table === '*' ? 'database' : 'table';
}

const levelRank: Readonly<Record<GrantLevel, number>> = { global: 0, database: 1, table: 2 };

function keyOf(g: Pick<LevelGrant, 'level' | 'pattern' | 'database' | 'table'>): string {
  return [g.level, g.pattern ? 'pattern' : 'name', g.database, g.table].join('\u0000');
}

// Locale-independent, so the order is the same on every machine.
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Global first, then by database, table, and exact names before patterns: the order grants are reported and sent in. */
export function compareGrants(a: LevelGrant, b: LevelGrant): number {
  return (
    levelRank[a.level] - levelRank[b.level] ||
    byCodePoint(a.database, b.database) ||
    byCodePoint(a.table, b.table) ||
    Number(a.pattern) - Number(b.pattern)
  );
}

/**
 * Validates declared grants and puts them in stored form: one entry per
 * level (entries for the same database and table are merged), ALL expanded
 * for that level, entries that give nothing (only USAGE, no grant option)
 * dropped.
 *
 * Throws InvalidIdentifierError for a bad database or table name,
 * InvalidPrivilegeError for a privilege unknown or not grantable at its level
 * (e.g. SUPER on `db.*`), and InvalidGrantError for `*.table` or a declared
 * pattern.
 */
export function desiredGrants(declared: readonly Grant[]): LevelGrant[] {
  const merged = new Map<string, { level: GrantLevel; database: string; table: string; privileges: Set<string>; grantOption: boolean }>();
  for (const grant of declared) {
    if (grant.pattern === true) {
      throw new InvalidGrantError(`grant on ${grant.database}.${grant.table}: wildcard patterns cannot be declared`);
    }
    const level = levelOf(grant.database, grant.table);
    if (level === 'global' && grant.table !== '*') {
      throw new InvalidGrantError(`grant on *.${grant.table}: a table needs a database; use *.* or db.${grant.table}`);
    }
    if (level !== 'global') validate(databaseName, grant.database);
    validate(tableName, grant.table);
    const expanded = expandPrivileges(level, grant.privileges);
    const entry = { level, database: grant.database, table: grant.table, pattern: false };
    const key = keyOf(entry);
    const existing = merged.get(key) ?? { ...entry, privileges: new Set<string>(), grantOption: false };
    for (const p of expanded.privileges) existing.privileges.add(p);
    existing.grantOption ||= grant.withGrantOption || expanded.grantOption;
    merged.set(key, existing);
  }
  return [...merged.values()]
    .filter((g) => g.privileges.size > 0 || g.grantOption)
    .map((g) => ({ ...g, pattern: false, privileges: new Set(sortPrivileges(g.privileges)) }))
    .sort(compareGrants);
}

/** What setGrants sends: per level, what to add and what to take away. */
export interface GrantChanges {
  /** Privileges to GRANT (and `grantOption`: add WITH GRANT OPTION). */
  readonly grant: LevelGrant[];
  /** Privileges to REVOKE (and `grantOption`: revoke GRANT OPTION). */
  readonly revoke: LevelGrant[];
}

const noPrivileges: ReadonlySet<string> = new Set();

/**
 * Exactly what must change to turn `actual` into `desired`, level by level:
 * only the privileges (and grant option) that differ, never a revoke of
 * everything followed by a re-grant. Both sides must be in stored form
 * (desiredGrants, or read from the server). Empty lists when nothing differs.
 */
export function diffGrants(actual: readonly LevelGrant[], desired: readonly LevelGrant[]): GrantChanges {
  const have = new Map(actual.map((g) => [keyOf(g), g]));
  const want = new Map(desired.map((g) => [keyOf(g), g]));
  const grant: LevelGrant[] = [];
  const revoke: LevelGrant[] = [];
  for (const key of new Set([...have.keys(), ...want.keys()])) {
    const h = have.get(key);
    const w = want.get(key);
    const base = w ?? h;
    if (base === undefined) continue;
    const hp = h?.privileges ?? noPrivileges;
    const wp = w?.privileges ?? noPrivileges;
    const hg = h?.grantOption ?? false;
    const wg = w?.grantOption ?? false;
    const add = [...wp].filter((p) => !hp.has(p));
    const remove = [...hp].filter((p) => !wp.has(p));
    const level = { level: base.level, database: base.database, table: base.table, pattern: base.pattern };
    if (add.length > 0 || (wg && !hg)) grant.push({ ...level, privileges: new Set(sortPrivileges(add)), grantOption: wg && !hg });
    if (remove.length > 0 || (hg && !wg)) revoke.push({ ...level, privileges: new Set(sortPrivileges(remove)), grantOption: hg && !wg });
  }
  return { grant: grant.sort(compareGrants), revoke: revoke.sort(compareGrants) };
}

/**
 * A stored-form grant as the client reports it: privileges in canonical
 * order, except that a level's full set is reported as ['ALL PRIVILEGES']
 * (followed by any privilege outside that set), as SHOW GRANTS does.
 */
export function reportGrant(g: LevelGrant): Grant {
  const names = sortPrivileges(g.privileges);
  const full = levelPrivileges(g.level);
  const privileges = isFullSet(g.level, g.privileges) ? ['ALL PRIVILEGES', ...names.filter((p) => !full.includes(p))] : names;
  const grant: Grant = { database: g.database, table: g.table, privileges, withGrantOption: g.grantOption };
  if (g.pattern) grant.pattern = true;
  return grant;
}
