// The privilege names a MySQLUser may declare, split by the level at which
// MariaDB 10.11 grants them. The CRD builds its apply-time check from these
// lists; the SQL client accepts nothing else.

/** Privileges that make sense on `db.*` or `db.table`: what a site needs. */
export const databasePrivileges: readonly string[] = [
  'ALL',
  'ALL PRIVILEGES',
  'ALTER',
  'ALTER ROUTINE',
  'CREATE',
  'CREATE ROUTINE',
  'CREATE TEMPORARY TABLES',
  'CREATE VIEW',
  'DELETE',
  'DELETE HISTORY',
  'DROP',
  'EVENT',
  'EXECUTE',
  'INDEX',
  'INSERT',
  'LOCK TABLES',
  'REFERENCES',
  'SELECT',
  'SHOW VIEW',
  'TRIGGER',
  'UPDATE',
  'USAGE',
];

/**
 * Server-wide administrative privileges. They only mean something on `*.*`
 * and are refused for users outside the cluster's own namespace.
 */
export const administrativePrivileges: readonly string[] = [
  'BINLOG ADMIN',
  'BINLOG MONITOR',
  'BINLOG REPLAY',
  'CONNECTION ADMIN',
  'CREATE TABLESPACE',
  'CREATE USER',
  'FEDERATED ADMIN',
  'FILE',
  'GRANT OPTION',
  'PROCESS',
  'READ_ONLY ADMIN',
  'RELOAD',
  'REPLICATION CLIENT',
  'REPLICATION MASTER ADMIN',
  'REPLICATION SLAVE',
  'REPLICATION SLAVE ADMIN',
  'REPLICA MONITOR',
  'SET USER',
  'SHOW DATABASES',
  'SHUTDOWN',
  'SLAVE MONITOR',
  'SUPER',
];

export const allPrivileges: readonly string[] = [...databasePrivileges, ...administrativePrivileges];

/** Upper-cases and folds runs of spaces, so `all  privileges` reads as `ALL PRIVILEGES`. */
export function normalizePrivilege(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toUpperCase();
}

export function isKnownPrivilege(name: string): boolean {
  return allPrivileges.includes(normalizePrivilege(name));
}

/**
 * Where a grant applies: `*.*` (global), `db.*` (database) or `db.table`
 * (table). MariaDB keeps each level in its own table and accepts a different
 * set of privileges at each.
 */
export type GrantLevel = 'global' | 'database' | 'table';

/**
 * What `GRANT ALL PRIVILEGES ON *.*` stores on MariaDB 10.11, in the order
 * information_schema.USER_PRIVILEGES lists it. This order is the canonical
 * order in which the SQL client reports and sends privileges.
 */
export const globalLevelPrivileges: readonly string[] = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'RELOAD',
  'SHUTDOWN',
  'PROCESS',
  'FILE',
  'REFERENCES',
  'INDEX',
  'ALTER',
  'SHOW DATABASES',
  'SUPER',
  'CREATE TEMPORARY TABLES',
  'LOCK TABLES',
  'EXECUTE',
  'REPLICATION SLAVE',
  'BINLOG MONITOR',
  'CREATE VIEW',
  'SHOW VIEW',
  'CREATE ROUTINE',
  'ALTER ROUTINE',
  'CREATE USER',
  'EVENT',
  'TRIGGER',
  'CREATE TABLESPACE',
  'DELETE HISTORY',
  'SET USER',
  'FEDERATED ADMIN',
  'CONNECTION ADMIN',
  'READ_ONLY ADMIN',
  'REPLICATION SLAVE ADMIN',
  'REPLICATION MASTER ADMIN',
  'BINLOG ADMIN',
  'BINLOG REPLAY',
  'SLAVE MONITOR',
];

/** What `GRANT ALL PRIVILEGES ON db.*` stores on MariaDB 10.11 (information_schema.SCHEMA_PRIVILEGES). */
export const databaseLevelPrivileges: readonly string[] = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'REFERENCES',
  'INDEX',
  'ALTER',
  'CREATE TEMPORARY TABLES',
  'LOCK TABLES',
  'EXECUTE',
  'CREATE VIEW',
  'SHOW VIEW',
  'CREATE ROUTINE',
  'ALTER ROUTINE',
  'EVENT',
  'TRIGGER',
  'DELETE HISTORY',
];

/** What `GRANT ALL PRIVILEGES ON db.table` stores on MariaDB 10.11 (information_schema.TABLE_PRIVILEGES). */
export const tableLevelPrivileges: readonly string[] = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'REFERENCES',
  'INDEX',
  'ALTER',
  'CREATE VIEW',
  'SHOW VIEW',
  'TRIGGER',
  'DELETE HISTORY',
];

/** The full set `ALL PRIVILEGES` stands for at `level`. */
export function levelPrivileges(level: GrantLevel): readonly string[] {
  switch (level) {
    case 'global':
      return globalLevelPrivileges;
    case 'database':
      return databaseLevelPrivileges;
    case 'table':
      return tableLevelPrivileges;
  }
}

/**
 * Older names MariaDB still accepts but stores under the new one; a declared
 * `REPLICATION CLIENT` must compare equal to the stored `BINLOG MONITOR`, or
 * every pass would grant it again.
 */
const storedNames: ReadonlyMap<string, string> = new Map([
  ['REPLICATION CLIENT', 'BINLOG MONITOR'],
  ['REPLICA MONITOR', 'SLAVE MONITOR'],
]);

/** Thrown, before any statement is sent, for a privilege that is unknown or not grantable at the level it is declared for. */
export class InvalidPrivilegeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPrivilegeError';
  }
}

export interface ExpandedPrivileges {
  /** Privileges as MariaDB stores them at that level, without duplicates, in canonical order. */
  readonly privileges: readonly string[];
  /** `GRANT OPTION` was among the names. */
  readonly grantOption: boolean;
}

/**
 * Turns declared privilege names into what MariaDB stores for them at
 * `level`: `ALL`/`ALL PRIVILEGES` become the level's full set, `USAGE`
 * (no privilege) disappears, `GRANT OPTION` is reported apart, and old
 * names become their stored names. Throws InvalidPrivilegeError for a name
 * MariaDB would refuse at that level, e.g. `EXECUTE` on a table or `SUPER`
 * on a database.
 */
export function expandPrivileges(level: GrantLevel, names: readonly string[]): ExpandedPrivileges {
  const full = levelPrivileges(level);
  const wanted = new Set<string>();
  let grantOption = false;
  for (const raw of names) {
    const name = normalizePrivilege(raw);
    if (!isKnownPrivilege(name)) throw new InvalidPrivilegeError(`unknown privilege ${JSON.stringify(raw)}`);
    if (name === 'USAGE') continue;
    if (name === 'GRANT OPTION') {
      grantOption = true;
      continue;
    }
    if (name === 'ALL' || name === 'ALL PRIVILEGES') {
      for (const p of full) wanted.add(p);
      continue;
    }
    const stored = storedNames.get(name) ?? name;
    if (!full.includes(stored)) {
      const hint = databaseLevelPrivileges.includes(stored) ? 'grant it on the database (db.*)' : 'it is server-wide: grant it on *.*';
      throw new InvalidPrivilegeError(`privilege ${name} cannot be granted on ${levelWording[level]}; ${hint}`);
    }
    wanted.add(stored);
  }
  return { privileges: sortPrivileges(wanted), grantOption };
}

const levelWording: Readonly<Record<GrantLevel, string>> = {
  global: 'all databases (*.*)',
  database: 'a database (db.*)',
  table: 'a table (db.table)',
};

/** `names` in canonical order (globalLevelPrivileges); names outside it (a newer server's) last, alphabetically. */
export function sortPrivileges(names: Iterable<string>): string[] {
  const rank = (name: string): number => {
    const i = globalLevelPrivileges.indexOf(name);
    return i === -1 ? globalLevelPrivileges.length : i;
  };
  // Code-unit order, not localeCompare: privilege names are ASCII, and a
  // collator would page in ICU's collation data (megabytes of memory) for nothing.
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** True when `names` hold every privilege of `level`, i.e. they amount to ALL PRIVILEGES there. */
export function isFullSet(level: GrantLevel, names: ReadonlySet<string>): boolean {
  return levelPrivileges(level).every((p) => names.has(p));
}

/**
 * `name` as a privilege keyword in GRANT/REVOKE. Privileges are keywords and
 * cannot be quoted, so a name read back from the server is only written into
 * a statement when it is upper-case words (`_` allowed), as every MariaDB
 * privilege is; anything else throws InvalidPrivilegeError.
 */
export function privilegeKeyword(name: string): string {
  if (!/^[A-Z]+(?:[ _][A-Z]+)*$/.test(name)) throw new InvalidPrivilegeError(`cannot write privilege ${JSON.stringify(name)} into a statement`);
  return name;
}
