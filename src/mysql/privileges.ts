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
