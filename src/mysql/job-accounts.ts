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
 * non-transactional tables --single-transaction still locks. Nothing on
 * *.*: MariaDB tells every session the binary log position of its own
 * snapshot (Binlog_snapshot_file and _position), so `--master-data` with
 * `--single-transaction` records the position without FLUSH TABLES WITH
 * READ LOCK (RELOAD) or SHOW MASTER STATUS (BINLOG MONITOR), and
 * BINLOG_GTID_POS needs no privilege (measured on 10.11). A global grant
 * would also have to come from an account holding it with grant option,
 * which the manager account of a managed cluster must not.
 */
export function backupGrants(databases: readonly string[]): Grant[] {
  return databases.map((database) => ({
    database: validate(databaseName, database),
    table: '*',
    privileges: ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT', 'LOCK TABLES'],
    withGrantOption: false,
  }));
}

/** A load into `databases` (created, or dropped first under overwrite): every privilege on them, none elsewhere. */
export function restoreGrants(databases: readonly string[]): Grant[] {
  return databases.map((database) => ({ database: validate(databaseName, database), table: '*', privileges: ['ALL PRIVILEGES'], withGrantOption: false }));
}
