// The SQL client: typed methods for databases, users, grants and ownership
// records on one MariaDB server. It knows nothing of Kubernetes.
//
// Every method validates its identifiers and privileges before it opens a
// connection (InvalidIdentifierError, InvalidPrivilegeError, InvalidGrantError,
// InvalidPasswordError, InvalidOwnerError, ReservedDatabaseError, and
// RangeError for a connection limit, are thrown before any I/O). Everything that goes wrong on the server or on the way to
// it is a MySQLError whose message is safe to show: no SQL text, no values,
// no password; isConnectionError and isAccessDenied classify it.
//
// Reading methods only read, and methods that converge (setGrants,
// claimOwner, alterDatabase without options) send no write when nothing
// differs, so a resync of an unchanged object sends zero writes.
import type { Connection, ConnectionConfig } from 'mariadb';
import { MySQLError, ReservedDatabaseError, toMySQLError } from './errors.ts';
import { grantStatement, grantee, grantsFromRows, revokeStatement } from './grant-sql.ts';
import {
  databaseGrantsSql,
  databaseRows,
  globalAccessSql,
  globalPrivilegesSql,
  globalRows,
  hasGlobalPrivileges,
  tableGrantsSql,
  tableRows,
} from './grant-tables.ts';
import { desiredGrants, diffGrants, reportGrant, type Grant } from './grants.ts';
import {
  charsetName,
  collationName,
  databaseName,
  hostName,
  quoteAccount,
  quoteIdentifier,
  systemDatabases,
  userName,
  validate,
} from './identifiers.ts';
import { OwnerRecords, type OwnedKind, type Owner } from './owners.ts';
import { hashForNewPassword } from './password.ts';
import { ConnectionPool } from './pool.ts';
import { Replication } from './replication.ts';
import { ServerVariables } from './server-variables.ts';
import { integer, optionalText, rowsOf, text, type Row, type RunStatement, type Statement, type StatementObserver } from './statement.ts';

export type { Grant } from './grants.ts';
export type { OwnedKind, Owner } from './owners.ts';
export type { StatementKind, StatementObserver } from './statement.ts';
export { passwordMatches } from './password.ts';
export type { Replication } from './replication.ts';

export interface ConnectionOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** When given, connect with TLS and verify the server certificate against `ca` (PEM), or the system CAs without it. */
  tls?: { ca?: string };
  /** How long opening a connection may take. Default 5000. */
  connectTimeoutMs?: number;
  /** Most connections open at once. Default 4. */
  poolSize?: number;
}

export interface DatabaseInfo {
  name: string;
  charset: string;
  collation: string;
}

export interface UserInfo {
  user: string;
  /** As MariaDB stores it: lower case. */
  host: string;
  /** Authentication plugin, e.g. 'mysql_native_password'; '' when none is recorded. */
  plugin: string;
  /** The stored hash ('*' + 40 hex digits for mysql_native_password). */
  authenticationString: string;
  /** 0 = no per-user limit. */
  maxUserConnections: number;
}

/** What setGrants changed. */
export interface GrantChangeReport {
  /** What was granted, per level; `withGrantOption` means WITH GRANT OPTION was added. */
  granted: Grant[];
  /** What was revoked, per level; `withGrantOption` means GRANT OPTION was revoked. */
  revoked: Grant[];
}

const defaultConnectTimeoutMs = 5000;
const defaultPoolSize = 4;
/** MAX_USER_CONNECTIONS is a signed 32-bit column. */
const maxConnectionsLimit = 2_147_483_647;

export class MySQLClient {
  readonly #config: ConnectionConfig;
  readonly #poolSize: number;
  readonly #connectTimeoutMs: number;
  readonly #server: string;
  readonly #adminPassword: string;
  readonly #observer: StatementObserver | undefined;
  readonly #owners: OwnerRecords;
  /** Replication on this server: its state, replica and primary roles, semi-sync, fencing (replication.ts). */
  readonly replication: Replication;
  /** Global server variables: read them, SET GLOBAL the dynamic ones (server-variables.ts). */
  readonly variables: ServerVariables;
  #pool: ConnectionPool | undefined;
  #closed = false;

  private constructor(options: ConnectionOptions, observer: StatementObserver | undefined) {
    if (options.host.length === 0) throw new Error('MySQL host must not be empty');
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new Error(`MySQL port ${options.port} is not a TCP port`);
    }
    this.#connectTimeoutMs = options.connectTimeoutMs ?? defaultConnectTimeoutMs;
    this.#poolSize = options.poolSize ?? defaultPoolSize;
    if (!(this.#connectTimeoutMs > 0)) throw new Error('connectTimeoutMs must be positive');
    if (!Number.isInteger(this.#poolSize) || this.#poolSize < 1) throw new Error('poolSize must be a positive integer');
    this.#server = `${options.host}:${options.port}`;
    this.#adminPassword = options.password;
    this.#observer = observer;
    this.#config = {
      host: options.host,
      port: options.port,
      user: options.user,
      password: options.password,
      connectTimeout: this.#connectTimeoutMs,
      ...(options.tls !== undefined && {
        ssl: { rejectUnauthorized: true, ...(options.tls.ca !== undefined && { ca: options.tls.ca }) },
      }),
      // The connector's default (true) copies statement values into error
      // messages; a password must never get there.
      logParam: false,
      // DDL waits for metadata locks, by default for a year; a site holding a
      // long transaction must not hang a reconcile. Fail after 30 s instead.
      sessionVariables: { lock_wait_timeout: 30 },
    };
    this.#owners = new OwnerRecords((statement) => this.#run(statement));
    this.variables = new ServerVariables((statement) => this.#run(statement));
    this.replication = new Replication({
      run: (statement) => this.#run(statement),
      session: (verb, work) => this.#session(verb, work),
      ownUser: options.user,
      accounts: this,
      server: this.#server,
    });
  }

  /** A client for one server. Opens no connection: the first statement does. Throws for a malformed host, port or pool size. */
  static create(options: ConnectionOptions, observer?: StatementObserver): MySQLClient {
    return new MySQLClient(options, observer);
  }

  /** Closes the connections. Statements afterwards reject. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool?.close();
  }

  /** The server's version string, e.g. '10.11.14-MariaDB-0+deb12u2'. */
  async serverVersion(): Promise<string> {
    const rows = rowsOf(await this.#run({ kind: 'read', verb: 'SELECT', sql: 'SELECT VERSION() AS version' }));
    const row = rows[0];
    if (row === undefined) throw new Error('SELECT VERSION() returned no row');
    return text(row, 'version');
  }

  // Databases

  /** The database with exactly this name, or undefined when there is none. */
  async getDatabase(name: string): Promise<DatabaseInfo | undefined> {
    validate(databaseName, name);
    const rows = rowsOf(
      await this.#run({
        kind: 'read',
        verb: 'SELECT',
        sql:
          'SELECT SCHEMA_NAME AS name, DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation ' +
          'FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
        values: [name],
      }),
    );
    const row = rows.find((r) => text(r, 'name') === name);
    return row === undefined ? undefined : { name, charset: text(row, 'charset'), collation: text(row, 'collation') };
  }

  /**
   * CREATE DATABASE IF NOT EXISTS: an existing database is left as it is,
   * whatever its character set (alterDatabase changes that). Without options
   * the server's defaults apply; with only a charset, its default collation.
   */
  async createDatabase(name: string, options: { charset?: string; collation?: string }): Promise<void> {
    const target = this.#managedDatabase(name);
    const spec = characterSetClause(options);
    await this.#run({ kind: 'write', verb: 'CREATE DATABASE', sql: `CREATE DATABASE IF NOT EXISTS ${target}${spec}` });
  }

  /** Changes the default character set and/or collation (for new tables; existing ones keep theirs). Sends nothing when both are absent. */
  async alterDatabase(name: string, options: { charset?: string; collation?: string }): Promise<void> {
    const target = this.#managedDatabase(name);
    const spec = characterSetClause(options);
    if (spec === '') return;
    await this.#run({ kind: 'write', verb: 'ALTER DATABASE', sql: `ALTER DATABASE ${target}${spec}` });
  }

  /** Every database of the server but MariaDB's and the operator's own, sorted: what a whole-cluster backup covers. */
  async listDatabases(): Promise<string[]> {
    const rows = rowsOf(await this.#run({ kind: 'read', verb: 'SELECT', sql: 'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME' }));
    return rows.map((row) => text(row, 'name')).filter((name) => !systemDatabases.includes(name.toLowerCase()));
  }

  /** DROP DATABASE IF EXISTS, with every table in it. */
  async dropDatabase(name: string): Promise<void> {
    const target = this.#managedDatabase(name);
    await this.#run({ kind: 'write', verb: 'DROP DATABASE', sql: `DROP DATABASE IF EXISTS ${target}` });
  }

  /** `name` quoted, after refusing MariaDB's and the operator's own databases (in any letter case). */
  #managedDatabase(name: string): string {
    const quoted = quoteIdentifier(databaseName, name);
    if (systemDatabases.includes(name.toLowerCase())) throw new ReservedDatabaseError(name);
    return quoted;
  }

  // Users

  /** The account `user`@`host` (host compared in lower case, as MariaDB stores it), or undefined. */
  async getUser(user: string, host: string): Promise<UserInfo | undefined> {
    validate(userName, user);
    const storedHost = validate(hostName, host).toLowerCase();
    const rows = rowsOf(
      await this.#run({
        kind: 'read',
        verb: 'SELECT',
        sql:
          "SELECT User AS user, Host AS host, JSON_VALUE(Priv, '$.plugin') AS plugin, " +
          "JSON_VALUE(Priv, '$.authentication_string') AS authenticationString, " +
          "JSON_VALUE(Priv, '$.max_user_connections') AS maxUserConnections " +
          'FROM mysql.global_priv WHERE User = ? AND Host = ?',
        values: [user, storedHost],
      }),
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      user: text(row, 'user'),
      host: text(row, 'host'),
      plugin: optionalText(row, 'plugin') ?? '',
      authenticationString: optionalText(row, 'authenticationString') ?? '',
      maxUserConnections: integer(row, 'maxUserConnections', 0),
    };
  }

  /**
   * Creates the account with mysql_native_password. Only the password's hash
   * is sent (see password.ts). Rejects with a MySQLError (ER_CANNOT_USER)
   * when the account exists; InvalidPasswordError for an empty password.
   */
  async createUser(user: string, host: string, password: string, options: { maxUserConnections?: number } = {}): Promise<void> {
    const account = quoteAccount(user, host);
    const limit = options.maxUserConnections;
    if (limit !== undefined) checkMaxConnections(limit);
    const hash = hashForNewPassword(password);
    await this.#run({
      kind: 'write',
      verb: 'CREATE USER',
      sql: `CREATE USER ${account} IDENTIFIED BY PASSWORD ?${limit !== undefined ? ' WITH MAX_USER_CONNECTIONS ?' : ''}`,
      values: limit !== undefined ? [hash, limit] : [hash],
      secrets: [password, hash],
    });
  }

  /** Sets the password, moving the account to mysql_native_password if it used another plugin. Rejects with a MySQLError when the account does not exist. */
  async setPassword(user: string, host: string, password: string): Promise<void> {
    const account = quoteAccount(user, host);
    const hash = hashForNewPassword(password);
    await this.#run({
      kind: 'write',
      verb: 'ALTER USER',
      sql: `ALTER USER ${account} IDENTIFIED BY PASSWORD ?`,
      values: [hash],
      secrets: [password, hash],
    });
  }

  /** Most simultaneous connections of the account; 0 = no per-user limit. */
  async setMaxUserConnections(user: string, host: string, max: number): Promise<void> {
    const account = quoteAccount(user, host);
    checkMaxConnections(max);
    await this.#run({ kind: 'write', verb: 'ALTER USER', sql: `ALTER USER ${account} WITH MAX_USER_CONNECTIONS ?`, values: [max] });
  }

  /** DROP USER IF EXISTS. Sessions the user has open stay open until they end. */
  async dropUser(user: string, host: string): Promise<void> {
    const account = quoteAccount(user, host);
    await this.#run({ kind: 'write', verb: 'DROP USER', sql: `DROP USER IF EXISTS ${account}` });
  }

  // Grants

  /**
   * The account's global, database and table grants (not column or routine
   * grants), one entry per level, in the form Grant describes; [] for an
   * account without privileges or one that does not exist.
   */
  async getGrants(user: string, host: string): Promise<Grant[]> {
    return (await this.#readGrants(user, host)).map(reportGrant);
  }

  /**
   * Makes the user's grants exactly `desired`, sending only GRANT/REVOKE for
   * the difference (revokes first); sends no write when nothing differs.
   * Grants not declared are revoked, including hand-made ones and wildcard
   * patterns. `desired` is validated before any I/O. A failure part-way
   * leaves the grants partly changed; the next call finishes the job.
   *
   * `newAccount`: the account was created a moment ago by createUser, so it
   * holds no grants and none are read (three reads saved per new user).
   */
  async setGrants(user: string, host: string, desired: readonly Grant[], options: { newAccount?: boolean } = {}): Promise<GrantChangeReport> {
    const account = quoteAccount(user, host);
    const want = desiredGrants(desired);
    const have = options.newAccount === true ? [] : await this.#readGrants(user, host);
    const changes = diffGrants(have, want);
    for (const g of changes.revoke) await this.#run({ kind: 'write', verb: 'REVOKE', sql: revokeStatement(account, g) });
    for (const g of changes.grant) await this.#run({ kind: 'write', verb: 'GRANT', sql: grantStatement(account, g) });
    return { granted: changes.grant.map(reportGrant), revoked: changes.revoke.map(reportGrant) };
  }

  /** The stored grants, read from the grant tables by key (see grant-tables.ts for why not information_schema). */
  async #readGrants(user: string, host: string): Promise<ReturnType<typeof grantsFromRows>> {
    const account = grantee(user, host);
    // The grant tables keep hosts in lower case, as grantee() writes them.
    const key = [host.toLowerCase(), user];
    const read = async (sql: string, values: readonly string[]): Promise<Row[]> =>
      rowsOf(await this.#run({ kind: 'read', verb: 'SELECT', sql, values: [...values] }));
    const [access, databases, tables] = [await read(globalAccessSql, key), await read(databaseGrantsSql, key), await read(tableGrantsSql, key)];
    const global = hasGlobalPrivileges(access) ? globalRows(await read(globalPrivilegesSql, [account])) : [];
    return grantsFromRows([...global, ...databaseRows(databases), ...tableRows(tables)]);
  }

  // Ownership

  /** The recorded owner of a database (key: its name) or user (key: `user@host`), or undefined. Sends no write. */
  getOwner(kind: OwnedKind, key: string): Promise<Owner | undefined> {
    return this.#owners.get(kind, key);
  }

  /**
   * Records `owner` unless another owner is recorded, and returns the owner
   * recorded afterwards: compare its uid with `owner.uid` to detect a
   * conflict. Atomic across clients (primary key). Sends no write when a
   * record exists; creates the bookkeeping table on first need.
   */
  claimOwner(kind: OwnedKind, key: string, owner: Owner): Promise<Owner> {
    return this.#owners.claim(kind, key, owner);
  }

  /**
   * Replaces the recorded owner's uid when its namespace and name match
   * `owner` (an object restored from a backup has a new uid). True when a
   * record was changed; false when none matches or it already has that uid.
   */
  transferOwner(kind: OwnedKind, key: string, owner: Owner): Promise<boolean> {
    return this.#owners.transfer(kind, key, owner);
  }

  /** Deletes the record only if `uid` owns it; nothing when another owner, or none, is recorded. */
  releaseOwner(kind: OwnedKind, key: string, uid: string): Promise<void> {
    return this.#owners.release(kind, key, uid);
  }

  // Running statements

  async #run(statement: Statement): Promise<unknown> {
    const pool = this.#openPool(statement.verb);
    const started = performance.now();
    let failed = false;
    // Set inside the callback, so a failure before it ran was a failure to connect.
    const progress = { connected: false };
    try {
      return await pool.use((connection) => {
        progress.connected = true;
        return send(connection, statement);
      });
    } catch (error) {
      failed = true;
      throw this.#error(error, statement, progress.connected ? 'statement' : 'connect');
    } finally {
      this.#observer?.(statement.kind, statement.verb, performance.now() - started, failed);
    }
  }

  /**
   * Runs `work` on one connection of the pool and closes that connection
   * afterwards, so session state set by `work` (a user variable holding a
   * password, sql_log_off) dies with it. `verb` names the session in the
   * error when no connection can be opened; each statement is observed and
   * reported under its own verb.
   */
  async #session<T>(verb: string, work: (run: RunStatement) => Promise<T>): Promise<T> {
    const pool = this.#openPool(verb);
    const progress = { connected: false };
    try {
      return await pool.use(async (connection) => {
        progress.connected = true;
        try {
          return await work((statement) => this.#sendObserved(connection, statement));
        } finally {
          // A polite COM_QUIT (a dropped socket would be an "Aborted
          // connection" warning in the server's log); the pool then drops
          // the connection, which is no longer valid, instead of keeping it.
          await connection.end().catch(() => {
            connection.destroy();
          });
        }
      });
    } catch (error) {
      if (progress.connected) throw error;
      throw this.#error(error, { verb, secrets: [] }, 'connect');
    }
  }

  async #sendObserved(connection: Connection, statement: Statement): Promise<unknown> {
    const started = performance.now();
    let failed = false;
    try {
      return await send(connection, statement);
    } catch (error) {
      failed = true;
      throw this.#error(error, statement, 'statement');
    } finally {
      this.#observer?.(statement.kind, statement.verb, performance.now() - started, failed);
    }
  }

  #openPool(verb: string): ConnectionPool {
    if (this.#closed) throw new MySQLError(closedError(verb, this.#server));
    this.#pool ??= new ConnectionPool(this.#config, {
      size: this.#poolSize,
      idleTimeoutMs: 60_000,
      validateAfterMs: 1000,
      pingTimeoutMs: this.#connectTimeoutMs,
    });
    return this.#pool;
  }

  #error(error: unknown, statement: Pick<Statement, 'verb' | 'secrets'>, phase: 'connect' | 'statement'): MySQLError {
    return toMySQLError(error, {
      verb: statement.verb,
      server: this.#server,
      phase,
      secrets: [...(statement.secrets ?? []), this.#adminPassword],
    });
  }
}

/** Sends one statement on `connection`: escaped into the text by the connector, or, when `binary`, with its values as bound parameters. */
function send(connection: Connection, statement: Statement): Promise<unknown> {
  const values = statement.values ?? [];
  return statement.binary === true ? connection.execute({ sql: statement.sql }, values) : connection.query({ sql: statement.sql }, values);
}

function closedError(verb: string, server: string): ConstructorParameters<typeof MySQLError>[0] {
  return {
    verb,
    server,
    phase: 'connect',
    reason: 'the client is closed',
    errno: undefined,
    code: undefined,
    sqlState: undefined,
    connection: false,
    accessDenied: false,
  };
}

/** ` CHARACTER SET x COLLATE y`, either part omitted when not given; '' for neither. */
function characterSetClause(options: { charset?: string; collation?: string }): string {
  let clause = '';
  if (options.charset !== undefined) clause += ` CHARACTER SET ${quoteIdentifier(charsetName, options.charset)}`;
  if (options.collation !== undefined) clause += ` COLLATE ${quoteIdentifier(collationName, options.collation)}`;
  return clause;
}

function checkMaxConnections(max: number): void {
  if (!Number.isSafeInteger(max) || max < 0 || max > maxConnectionsLimit) {
    throw new RangeError(`maxUserConnections must be an integer from 0 (unlimited) to ${maxConnectionsLimit}`);
  }
}
