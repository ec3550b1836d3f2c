// The accounts every instance of a managed cluster starts with, besides root:
// the operator's replication-control account, its database-and-user account,
// and the replication account. Written as a SQL script that the MariaDB
// image's entrypoint runs once, on an empty data directory
// (/docker-entrypoint-initdb.d), before the server accepts connections.
//
// Why two operator accounts: replication control needs READ_ONLY ADMIN (it
// turns read_only on and off), and that privilege also lets its holder write
// on a read-only server. Databases and users are managed through the writer
// Service; a pooled connection, or one made between fencing the old writer and
// moving the Service, can land on a demoted writer, where a CREATE USER would
// become an errant transaction. The manager account has neither READ_ONLY
// ADMIN nor SUPER nor CONNECTION ADMIN, so read_only refuses its writes there
// (error 1290), and demotion kills its sessions (only the replication-control
// and replication accounts are spared).
//
// The script holds mysql_native_password hashes, never passwords (the same
// `IDENTIFIED BY PASSWORD '*…'` form users.ts sends as a parameter); it is
// kept in a Secret all the same, because a hash lets anyone who can read it
// attempt to crack it offline.
import { hostName, quoteAccount, quoteGrantDatabase, userName, validate } from './identifiers.ts';
import { databaseLevelPrivileges } from './privileges.ts';

/**
 * The accounts the operator creates on every instance of a managed cluster.
 * Host '%' because pods change addresses. No MySQLUser may name them: a
 * tenant who could set their password would own the cluster.
 */
export const systemAccounts = {
  /** Replication control: read_only, CHANGE MASTER, semi-sync, fencing, the replication account. */
  operator: { user: 'flightdeck_operator', host: '%' },
  /** Databases and users of MySQLDatabases and MySQLUsers; stopped by read_only. */
  manager: { user: 'flightdeck_manager', host: '%' },
  /** Replicas read the writer's binary log with it. */
  replication: { user: 'flightdeck_replication', host: '%' },
} as const;

/** User names reserved for systemAccounts. */
export const reservedUserNames: readonly string[] = Object.values(systemAccounts).map((account) => account.user);

export interface AccountPrivilege {
  readonly privilege: string;
  readonly why: string;
}

/**
 * What the replication-control account holds on *.*, WITH GRANT OPTION, and
 * why. Nothing more: no FILE or SHUTDOWN, and no database-level privilege on
 * *.* (it cannot create a database or touch a table). MariaDB keeps one grant
 * option per level, so it can pass on any of these; it is the operator.
 */
export const operatorPrivileges: readonly AccountPrivilege[] = [
  { privilege: 'PROCESS', why: 'lists other sessions, to close application connections on a writer being demoted' },
  { privilege: 'CONNECTION ADMIN', why: 'kills those sessions, and lets the operator in when max_connections is reached' },
  { privilege: 'READ_ONLY ADMIN', why: 'turns read_only on (fencing a writer) and off (promoting a reader); since 10.11 SUPER no longer includes it' },
  { privilege: 'RELOAD', why: 'RESET SLAVE ALL: a reader being promoted forgets its source (MariaDB 10.11 asks RELOAD for it)' },
  { privilege: 'REPLICATION SLAVE ADMIN', why: 'CHANGE MASTER, START/STOP SLAVE, RESET SLAVE: points readers at the writer and promotes one' },
  { privilege: 'REPLICATION MASTER ADMIN', why: 'sets the semi-synchronous master variables on the writer' },
  { privilege: 'BINLOG MONITOR', why: 'reads the binary log position (gtid_binlog_pos, SHOW BINLOG STATUS) to compare instances' },
  { privilege: 'SLAVE MONITOR', why: 'reads SHOW SLAVE STATUS: replication threads, errors and lag' },
  {
    privilege: 'SUPER',
    why: 'SET GLOBAL of the dynamic server options in spec.myCnf, which MariaDB guards with SUPER; and sql_log_off, which keeps CHANGE MASTER (with the replication password) out of the general log',
  },
  {
    privilege: 'REPLICATION SLAVE',
    why: 'held WITH GRANT OPTION so that ensureReplicationUser can grant it to the replication account (an account grants only what it holds with grant option)',
  },
  { privilege: 'CREATE USER', why: 'ensureReplicationUser creates the replication account on a writer that lacks it, and resets its password' },
];

/**
 * Read access to the grant tables (`mysql`.*, no grant option), for
 * ensureReplicationUser: it reads the replication account from
 * mysql.global_priv and its grants from mysql.db, mysql.tables_priv and
 * information_schema.USER_PRIVILEGES. Measured on 10.11: SELECT on those
 * tables alone is not enough, USER_PRIVILEGES shows another account's rows
 * only to who may SELECT the whole mysql schema; without them every pass
 * would re-grant (a write that waits for a semi-sync acknowledgement).
 */
export const operatorGrantTableAccess: { readonly database: string } & AccountPrivilege = {
  database: 'mysql',
  privilege: 'SELECT',
  why: 'ensureReplicationUser reads the replication account and its grants, to send no write when they are in place',
};

/**
 * What the manager account holds on *.*, WITH GRANT OPTION, and why: what
 * MySQLDatabases and MySQLUsers need, nothing more. No SUPER, READ_ONLY
 * ADMIN or CONNECTION ADMIN (read_only must stop it), no replication
 * privilege, no FILE.
 */
export const managerPrivileges: readonly AccountPrivilege[] = [
  ...databaseLevelPrivileges.map((privilege) => ({
    privilege,
    why: "granted to MySQLUsers on their databases (only what the granter holds WITH GRANT OPTION can be granted); CREATE and DROP also make MySQLDatabases and the operator's flightdeck_meta, where the other privileges keep its ownership records",
  })),
  { privilege: 'CREATE USER', why: 'creates, alters and drops the accounts of MySQLUsers' },
];

/**
 * The replication account only reads binary logs. Replication.ensureReplicationUser
 * grants exactly these on every new writer: a difference would be revoked
 * there, and that revoke is a write which, on a first writer whose semi-sync
 * waits with no replica connected yet, never commits.
 */
export const replicationPrivileges: readonly AccountPrivilege[] = [
  { privilege: 'REPLICATION SLAVE', why: 'a reader connects with it and reads the binary log, semi-sync acknowledgements included' },
];

export interface BootstrapAccount {
  readonly user: string;
  readonly host: string;
  /** mysql_native_password hash: `*` and 40 upper-case hex digits (password.ts nativePasswordHash). */
  readonly passwordHash: string;
}

const nativeHashPattern = /^\*[0-9A-F]{40}$/;

function checkedHash(account: BootstrapAccount): string {
  // Validated because it is written into the script as a literal.
  if (!nativeHashPattern.test(account.passwordHash)) {
    throw new Error(`the password hash of ${account.user}@${account.host} is not a mysql_native_password hash`);
  }
  return account.passwordHash;
}

function createAccount(account: BootstrapAccount, privileges: readonly AccountPrivilege[], withGrantOption: boolean): string[] {
  validate(userName, account.user);
  validate(hostName, account.host);
  const name = quoteAccount(account.user, account.host);
  return [
    `CREATE USER ${name} IDENTIFIED BY PASSWORD '${checkedHash(account)}';`,
    `GRANT ${privileges.map((p) => p.privilege).join(', ')} ON *.* TO ${name}${withGrantOption ? ' WITH GRANT OPTION' : ''};`,
  ];
}

export interface BootstrapAccounts {
  readonly operator: BootstrapAccount;
  readonly manager: BootstrapAccount;
  readonly replication: BootstrapAccount;
}

/**
 * The script that creates the three accounts on a new data directory.
 * `sql_log_bin = 0` first: every instance runs the same script when it
 * initialises, and none may own a local GTID before replication starts — a
 * replica with a transaction of its own would have an errant transaction the
 * writer lacks.
 */
export function bootstrapAccountsSql(accounts: BootstrapAccounts): string {
  const operator = quoteAccount(accounts.operator.user, accounts.operator.host);
  const statements = [
    'SET sql_log_bin = 0;',
    ...createAccount(accounts.operator, operatorPrivileges, true),
    `GRANT ${operatorGrantTableAccess.privilege} ON ${quoteGrantDatabase(operatorGrantTableAccess.database)}.* TO ${operator};`,
    ...createAccount(accounts.manager, managerPrivileges, true),
    ...createAccount(accounts.replication, replicationPrivileges, false),
  ];
  return ['-- Generated by the flightdeck operator: its own accounts and the replication account, created once on a new data directory.', ...statements, ''].join('\n');
}
