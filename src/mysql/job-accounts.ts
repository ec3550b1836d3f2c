// The accounts backup and restore Jobs log in as: one per MySQLBackup or
// MySQLRestore, made before its Job starts and dropped once it ended, with
// the least a logical dump or a load needs on exactly its databases.
import { databaseName, validate } from './identifiers.ts';
import type { Grant } from './grants.ts';

/** Prefix of every such account; no MySQLUser may take a name starting with it. */
export const jobAccountPrefix = 'fd_job_';

/**
 * The account name of a backup's or restore's Job: the prefix and a stable
 * hash of the object's uid (MariaDB allows 80 characters; this stays short).
 */
export function jobAccountName(uidHash: string): string {
  return `${jobAccountPrefix}${uidHash.slice(0, 16)}`;
}

/**
 * A consistent dump of `databases`, nothing more on them: SELECT for rows,
 * SHOW VIEW, TRIGGER and EVENT for their definitions, LOCK TABLES for the
 * non-transactional tables --single-transaction still locks. Globally only
 * what records the dump's position in the binary log: RELOAD (the brief
 * FLUSH TABLES WITH READ LOCK of --master-data) and BINLOG MONITOR (SHOW
 * MASTER STATUS, BINLOG_GTID_POS); neither reads or changes any data.
 */
export function backupGrants(databases: readonly string[]): Grant[] {
  return [
    ...databases.map((database) => ({
      database: validate(databaseName, database),
      table: '*',
      privileges: ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT', 'LOCK TABLES'],
      withGrantOption: false,
    })),
    { database: '*', table: '*', privileges: ['RELOAD', 'BINLOG MONITOR'], withGrantOption: false },
  ];
}

/** A load into `databases` (created, or dropped first under overwrite): every privilege on them, none elsewhere. */
export function restoreGrants(databases: readonly string[]): Grant[] {
  return databases.map((database) => ({ database: validate(databaseName, database), table: '*', privileges: ['ALL PRIVILEGES'], withGrantOption: false }));
}
