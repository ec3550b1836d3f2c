// The accounts every instance of a managed cluster starts with, besides root:
// the operator's own and the replication account. Written as a SQL script
// that the MariaDB image's entrypoint runs once, on an empty data directory
// (/docker-entrypoint-initdb.d), before the server accepts connections.
//
// The script holds mysql_native_password hashes, never passwords (the same
// `IDENTIFIED BY PASSWORD '*…'` form users.ts sends as a parameter); it is
// kept in a Secret all the same, because a hash lets anyone who can read it
// attempt to crack it offline.
import { hostName, quoteAccount, userName, validate } from './identifiers.ts';

/**
 * The accounts the operator creates on every instance of a managed cluster.
 * Host '%' because pods change addresses. No MySQLUser may name them: a
 * tenant who could set their password would own the cluster.
 */
export const systemAccounts = {
  operator: { user: 'flightdeck_operator', host: '%' },
  replication: { user: 'flightdeck_replication', host: '%' },
} as const;

/** User names reserved for systemAccounts. */
export const reservedUserNames: readonly string[] = [systemAccounts.operator.user, systemAccounts.replication.user];

/**
 * What the operator's account may do, and why each is needed. Nothing more:
 * no FILE, SHUTDOWN or RELOAD, no access to the mysql schema beyond what
 * CREATE USER and GRANT imply.
 */
export const operatorPrivileges: readonly { readonly privilege: string; readonly why: string }[] = [
  // Database-level privileges, globally and WITH GRANT OPTION: MySQLUsers
  // receive them on databases created at run time, and MariaDB lets an
  // account grant only what it holds with GRANT OPTION at that level or above.
  ...[
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
  ].map((privilege) => ({
    privilege,
    why: 'granted to MySQLUsers on their databases (only what the operator holds WITH GRANT OPTION can be granted); CREATE and DROP also make MySQLDatabases and the operator\'s flightdeck_meta',
  })),
  { privilege: 'CREATE USER', why: 'creates, alters and drops the accounts of MySQLUsers' },
  { privilege: 'PROCESS', why: 'lists other sessions, to close application connections on a writer being demoted' },
  { privilege: 'CONNECTION ADMIN', why: 'kills those sessions, and lets the operator in when max_connections is reached' },
  { privilege: 'READ_ONLY ADMIN', why: 'turns read_only on (fencing a writer) and off (promoting a reader); since 10.11 SUPER no longer includes it' },
  { privilege: 'RELOAD', why: 'RESET SLAVE ALL: a reader being promoted forgets its source (MariaDB 10.11 asks RELOAD for it)' },
  { privilege: 'REPLICATION SLAVE ADMIN', why: 'CHANGE MASTER, START/STOP SLAVE, RESET SLAVE: points readers at the writer and promotes one' },
  { privilege: 'REPLICATION MASTER ADMIN', why: 'sets the semi-synchronous master variables on the writer' },
  { privilege: 'BINLOG MONITOR', why: 'reads the binary log position (gtid_binlog_pos, SHOW BINLOG STATUS) to compare instances' },
  { privilege: 'SLAVE MONITOR', why: 'reads SHOW SLAVE STATUS: replication threads, errors and lag' },
  { privilege: 'SUPER', why: 'SET GLOBAL of the dynamic server options in spec.myCnf, which MariaDB guards with SUPER' },
];

/**
 * The replication account only reads binary logs. Replication.ensureReplicationUser
 * grants exactly these on every new writer: a difference would be revoked
 * there, and that revoke is a write which, on a first writer whose semi-sync
 * waits with no replica connected yet, never commits.
 */
export const replicationPrivileges: readonly { readonly privilege: string; readonly why: string }[] = [
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

function createAccount(account: BootstrapAccount, privileges: readonly { privilege: string }[], withGrantOption: boolean): string[] {
  validate(userName, account.user);
  validate(hostName, account.host);
  const name = quoteAccount(account.user, account.host);
  return [
    `CREATE USER ${name} IDENTIFIED BY PASSWORD '${checkedHash(account)}';`,
    `GRANT ${privileges.map((p) => p.privilege).join(', ')} ON *.* TO ${name}${withGrantOption ? ' WITH GRANT OPTION' : ''};`,
  ];
}

/**
 * The script that creates the operator's and the replication account on a
 * new data directory. `sql_log_bin = 0` first: every instance runs the same
 * script when it initialises, and none may own a local GTID before
 * replication starts — a replica with a transaction of its own would have an
 * errant transaction the writer lacks.
 */
export function bootstrapAccountsSql(accounts: { readonly operator: BootstrapAccount; readonly replication: BootstrapAccount }): string {
  const statements = [
    'SET sql_log_bin = 0;',
    ...createAccount(accounts.operator, operatorPrivileges, true),
    ...createAccount(accounts.replication, replicationPrivileges, false),
  ];
  return ['-- Generated by the flightdeck operator: its own and the replication account, created once on a new data directory.', ...statements, ''].join('\n');
}
