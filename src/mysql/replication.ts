// Replication control of one MariaDB 10.11 server: what it is (primary or
// replica, GTID positions, threads, semi-sync), and the SQL side of the steps
// a switchover or failover takes (fence, wait for catch-up, promote, repoint,
// demote). Knows nothing of Kubernetes or of which server should be primary:
// src/replication/ decides, this executes. Reach it as MySQLClient.replication.
//
// Every method is idempotent: running it again after a failure, or after it
// succeeded, leaves the server in the same state. Errors are MySQLErrors
// (safe to show: no SQL text, no values, no password), or, before any I/O,
// InvalidIdentifierError / InvalidReplicationOptionError / InvalidPasswordError.
//
// The account the client connects with needs replicationControlPrivileges
// (below) besides what the database and user methods need.
import { replicationPrivileges } from './bootstrap-accounts.ts';
import { MySQLError } from './errors.ts';
import type { Grant } from './grants.ts';
import { hashForNewPassword, passwordMatches, type StoredCredentials } from './password.ts';
import {
  changeMasterPrefix,
  checkGtidPosition,
  checkWaitSeconds,
  semiSyncStatement,
  serverThreadCommands,
  serverThreadUsers,
  type ReplicationSource,
  type SemiSyncSettings,
} from './replication-sql.ts';
import { replicationStateFromRows, replicaStatusSql, semiSyncStatusSql, variablesSql, type ReplicaStatus, type ReplicationState } from './replication-state.ts';
import { integer, rowsOf, text, type RunSession, type RunStatement, type Statement } from './statement.ts';

export type { ReplicaStatus, ReplicationState, SemiSyncState } from './replication-state.ts';
export type { ReplicationSource, SemiSyncSettings } from './replication-sql.ts';
export { InvalidReplicationOptionError } from './replication-sql.ts';

/** The account methods of MySQLClient that ensureReplicationUser builds on. */
export interface AccountOperations {
  getUser(user: string, host: string): Promise<StoredCredentials | undefined>;
  createUser(user: string, host: string, password: string): Promise<void>;
  setPassword(user: string, host: string, password: string): Promise<void>;
  setGrants(user: string, host: string, desired: readonly Grant[], options: { newAccount?: boolean }): Promise<{ granted: Grant[]; revoked: Grant[] }>;
}

export interface ReplicationDependencies {
  readonly run: RunStatement;
  readonly session: RunSession;
  /** The client's own account: killClientConnections never kills its connections. */
  readonly ownUser: string;
  readonly accounts: AccountOperations;
  /** `host:port`, for error messages. */
  readonly server: string;
}

/**
 * The replica's IO thread could not connect to its source within the time
 * configureReplica was given (wrong password, source unreachable, source
 * lacking the GTIDs the replica asks for). The replication connection stays
 * configured and keeps retrying; the message holds MariaDB's Last_IO_Error,
 * never the password.
 */
export class ReplicaConnectionError extends Error {
  /** Last_IO_Errno: 1045 access denied, 2003 unreachable, 1236 source cannot serve the requested position; 0 when it was still trying. */
  readonly errno: number;
  constructor(message: string, errno: number) {
    super(message);
    this.name = 'ReplicaConnectionError';
    this.errno = errno;
  }
}

export type GtidWaitResult = 'reached' | 'timeout';

/**
 * What the client's account needs for every method here except
 * ensureReplicationUser (which needs the user methods' privileges). Measured
 * on MariaDB 10.11, each refused without it: SUPER for sql_log_off
 * (configureReplica keeps the password out of the general log), RELOAD for
 * RESET SLAVE ALL, READ_ONLY ADMIN for read_only, PROCESS to see other
 * accounts' connections. The rest — REPLICATION SLAVE ADMIN (CHANGE MASTER,
 * START/STOP SLAVE, gtid_slave_pos, the replica's semi-sync settings),
 * REPLICATION MASTER ADMIN (the primary's), REPLICA MONITOR (SHOW ALL SLAVES
 * STATUS), CONNECTION ADMIN (KILL) — 10.11's SUPER still implies, but
 * MariaDB keeps splitting SUPER up, so they are named.
 */
export const replicationControlPrivileges: readonly string[] = [
  'SUPER',
  'RELOAD',
  'REPLICATION SLAVE ADMIN',
  'REPLICATION MASTER ADMIN',
  'REPLICA MONITOR',
  'PROCESS',
  'CONNECTION ADMIN',
  'READ_ONLY ADMIN',
];

/**
 * The session variable that carries the replication password from the
 * binary protocol into CHANGE MASTER. It lives only in configureReplica's
 * own connection, which is closed right after.
 */
const passwordVariable = '@flightdeck_replication_password';

/**
 * What the managed cluster's initdb grants the replication account (only
 * REPLICATION SLAVE: all a MariaDB 10.11 replica needs of its source,
 * semi-sync acknowledgements included), so that ensuring it changes nothing there.
 */
const replicationGrants: readonly Grant[] = [
  { database: '*', table: '*', privileges: replicationPrivileges.map((p) => p.privilege), withGrantOption: false },
];

const pollIntervalMs = 100;

/** ER_NO_SUCH_THREAD: the connection ended between listing and KILL. */
const noSuchThread = 1094;

export class Replication {
  readonly #deps: ReplicationDependencies;

  constructor(deps: ReplicationDependencies) {
    this.#deps = deps;
  }

  /** One observation of the server's replication. The reads are not one snapshot: a busy server moves between them. */
  async replicationState(): Promise<ReplicationState> {
    const [variables, status, replicas] = await Promise.all([
      this.#rows({ kind: 'read', verb: 'SELECT', sql: variablesSql }),
      this.#rows({ kind: 'read', verb: 'SELECT', ...semiSyncStatusSql }),
      this.#rows({ kind: 'read', verb: 'SHOW SLAVE STATUS', sql: replicaStatusSql }),
    ]);
    const row = variables[0];
    if (row === undefined) throw new Error('reading the replication variables returned no row');
    return replicationStateFromRows(row, status, replicas);
  }

  /** @@gtid_current_pos: per domain, the last transaction this server has, written here or replicated. */
  async currentGtid(): Promise<string> {
    const row = (await this.#rows({ kind: 'read', verb: 'SELECT', sql: 'SELECT @@global.gtid_current_pos AS position' }))[0];
    if (row === undefined) throw new Error('SELECT @@gtid_current_pos returned no row');
    return text(row, 'position');
  }

  /**
   * Makes this server a replica of `source` with GTID (MASTER_USE_GTID=
   * slave_pos) and starts replication: STOP SLAVE, CHANGE MASTER, START
   * SLAVE. Does not touch read_only (setReadOnly / demote do).
   *
   * `fromOwnBinlog`: a former primary rejoining. Its own writes are in its
   * binary log but not in gtid_slave_pos, so gtid_slave_pos is first set to
   * gtid_binlog_pos; it then asks the new primary only for what it lacks.
   * Only for a server without errant transactions (the caller checks with
   * the GTID module), and only with log_slave_updates, so its binary log
   * holds everything it ever applied.
   *
   * `waitConnectedMs`: wait until the IO thread has connected, and throw
   * ReplicaConnectionError when it reports an error first or time runs out.
   * Without it, connection errors show only in replicationState().replica.
   *
   * The password never appears in SQL text: it is sent once, through the
   * binary protocol, as a bound parameter of `SET @var = ?` (the connector
   * does not splice it into the text, so it is in no statement the process
   * list shows); the server itself then builds CHANGE MASTER with
   * QUOTE(@var) inside EXECUTE IMMEDIATE — CHANGE MASTER itself accepts no
   * placeholder, neither prepared nor in EXECUTE IMMEDIATE … USING (both
   * tried on 10.11: syntax error / ER_UNSUPPORTED_PS). The server would
   * still write the expanded statements to its general log, so the session
   * first turns that (sql_log_off) and the slow log off for itself; CHANGE
   * MASTER and user variables are not written to the binary log. The
   * connection is closed afterwards, which discards the variable. Errors
   * from these statements have the password redacted as well. What remains
   * is MariaDB's own: the replica keeps the password in master.info in its
   * data directory, and while CHANGE MASTER runs (milliseconds) the process
   * list, to accounts with PROCESS, may show the statement the server built.
   */
  async configureReplica(source: ReplicationSource, options: { fromOwnBinlog?: boolean; waitConnectedMs?: number } = {}): Promise<void> {
    const prefix = changeMasterPrefix(source);
    // Refuses an empty password before any I/O; the hash itself is not needed.
    hashForNewPassword(source.password);
    const secrets = [source.password];
    await this.#deps.session('CHANGE MASTER', async (run) => {
      await run({ kind: 'write', verb: 'SET', sql: 'SET SESSION sql_log_off = ON, SESSION log_slow_query = OFF' });
      await run({ kind: 'write', verb: 'STOP SLAVE', sql: 'STOP SLAVE' });
      if (options.fromOwnBinlog === true) {
        await run({ kind: 'write', verb: 'SET GLOBAL', sql: 'SET GLOBAL gtid_slave_pos = @@global.gtid_binlog_pos' });
      }
      await run({ kind: 'write', verb: 'SET', sql: `SET ${passwordVariable} = ?`, values: [source.password], binary: true, secrets });
      await run({ kind: 'write', verb: 'CHANGE MASTER', sql: `EXECUTE IMMEDIATE CONCAT(?, QUOTE(${passwordVariable}))`, values: [prefix], secrets });
      await run({ kind: 'write', verb: 'START SLAVE', sql: 'START SLAVE' });
    });
    if (options.waitConnectedMs !== undefined) await this.#waitConnected(source, options.waitConnectedMs);
  }

  /**
   * Gives a server seeded from a copy of another (mariadb-backup: data and
   * gtid_slave_pos, but no binary log) the binary log history `binlogState`
   * (gtid.ts seededBinlogState of its source's state and the copy's
   * position): RESET MASTER, SET GLOBAL gtid_binlog_state. Without it the
   * copy would forget the server_ids of earlier primaries, and with an empty
   * gtid_binlog_pos configureReplica's fromOwnBinlog would replicate it from
   * the first transaction again. Only on a server whose binary log holds no
   * GTID yet: resolves false and changes nothing on any other, so running it
   * again after it took effect is harmless. Needs RELOAD and SUPER.
   */
  async adoptSeededBinlogState(binlogState: string): Promise<boolean> {
    checkGtidPosition(binlogState);
    return this.#deps.session('RESET MASTER', async (run) => {
      const row = rowsOf(await run({ kind: 'read', verb: 'SELECT', sql: 'SELECT @@global.gtid_binlog_state AS state' }))[0];
      if (row === undefined || text(row, 'state') !== '') return false;
      await run({ kind: 'write', verb: 'RESET MASTER', sql: 'RESET MASTER' });
      await run({ kind: 'write', verb: 'SET GLOBAL', sql: 'SET GLOBAL gtid_binlog_state = ?', values: [binlogState] });
      return true;
    });
  }

  /** START SLAVE: both threads of the configured connection; nothing when they run. */
  async startReplication(): Promise<void> {
    await this.#write('START SLAVE', 'START SLAVE');
  }

  /** START SLAVE SQL_THREAD: applying what was received resumes (the IO thread stays as it is, e.g. fenced). */
  async startReplicationSql(): Promise<void> {
    await this.#write('START SLAVE', 'START SLAVE SQL_THREAD');
  }

  /** STOP SLAVE: both threads; what was received stays in the relay log. A warning, not an error, when not running or not configured. */
  async stopReplication(): Promise<void> {
    await this.#write('STOP SLAVE', 'STOP SLAVE');
  }

  /**
   * STOP SLAVE IO_THREAD: the replica stops receiving but goes on applying
   * what it has. The fence of a failover: a replica that no longer receives
   * can no longer acknowledge semi-sync commits to a primary that was cut off
   * but still runs, so that primary cannot complete a write the new one
   * would lack.
   */
  async stopReplicationIo(): Promise<void> {
    await this.#write('STOP SLAVE', 'STOP SLAVE IO_THREAD');
  }

  /** STOP SLAVE and RESET SLAVE ALL: the replication connection is forgotten (replicationState().replica becomes undefined); gtid_slave_pos is kept. */
  async resetReplication(): Promise<void> {
    await this.#write('STOP SLAVE', 'STOP SLAVE');
    await this.#write('RESET SLAVE', 'RESET SLAVE ALL');
  }

  /** SET GLOBAL read_only. On waits for running commits; afterwards only accounts with READ_ONLY ADMIN (or SUPER) and the replica threads can write. */
  async setReadOnly(on: boolean): Promise<void> {
    await this.#write('SET GLOBAL', `SET GLOBAL read_only = ${on ? 'ON' : 'OFF'}`);
  }

  /**
   * Kills every client connection except: the client's own account's, those
   * of `exceptUsers`, replicas reading the binary log, replication threads
   * and server daemons. For a demoted primary: applications reconnect
   * through the writer Service and reach the new one. Resolves to the number
   * of connections killed; one that ended meanwhile is not counted.
   */
  async killClientConnections(exceptUsers: readonly string[]): Promise<number> {
    const spared = new Set([this.#deps.ownUser, ...exceptUsers, ...serverThreadUsers]);
    const rows = await this.#rows({
      kind: 'read',
      verb: 'SELECT',
      sql: 'SELECT ID AS id, USER AS user, COMMAND AS command FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()',
    });
    const targets = rows.filter((row) => !spared.has(text(row, 'user')) && !serverThreadCommands.includes(text(row, 'command')));
    let killed = 0;
    for (const row of targets) {
      try {
        await this.#deps.run({ kind: 'write', verb: 'KILL', sql: 'KILL CONNECTION ?', values: [integer(row, 'id', 0)] });
        killed++;
      } catch (error) {
        // Gone between the listing and the KILL: what we wanted anyway.
        if (!(error instanceof MySQLError && error.errno === noSuchThread)) throw error;
      }
    }
    return killed;
  }

  /**
   * MASTER_GTID_WAIT: waits until this replica's SQL thread has applied
   * `position` (e.g. the old primary's gtid_binlog_pos), at most
   * `timeoutSeconds`. 'reached' at once for '' or a position already
   * applied. Holds one pooled connection while it waits.
   */
  async waitForGtid(position: string, timeoutSeconds: number): Promise<GtidWaitResult> {
    checkGtidPosition(position);
    checkWaitSeconds(timeoutSeconds);
    const row = (await this.#rows({ kind: 'read', verb: 'SELECT', sql: 'SELECT MASTER_GTID_WAIT(?, ?) AS result', values: [position, timeoutSeconds] }))[0];
    if (row === undefined || row.result === null || row.result === undefined) throw new Error(`MASTER_GTID_WAIT returned NULL on ${this.#deps.server}`);
    // 0: reached; -1: timed out.
    return integer(row, 'result', 0) === 0 ? 'reached' : 'timeout';
  }

  /**
   * Sets semi-synchronous replication (see SemiSyncSettings; the wait point
   * is always AFTER_SYNC). A replica reads rpl_semi_sync_slave_enabled only
   * when its IO thread connects, so when that setting changes on a server
   * whose IO thread runs, the IO thread is restarted (what was received is
   * kept). Resolves to whether that happened.
   */
  async setSemiSync(settings: SemiSyncSettings): Promise<{ ioThreadRestarted: boolean }> {
    const statement = semiSyncStatement(settings);
    const before = await this.replicationState();
    await this.#deps.run({ kind: 'write', verb: 'SET GLOBAL', ...statement });
    const receiving = before.replica !== undefined && before.replica.ioThread !== 'No';
    if (before.semiSync.slaveEnabled === settings.slave || !receiving) return { ioThreadRestarted: false };
    await this.#write('STOP SLAVE', 'STOP SLAVE IO_THREAD');
    await this.#write('START SLAVE', 'START SLAVE IO_THREAD');
    return { ioThreadRestarted: true };
  }

  /**
   * The SQL side of making this replica the writer: replication stopped and
   * forgotten, semi-sync master on (when `semiSyncMaster`), then read_only
   * off — in that order, so no commit is ever accepted without the
   * acknowledgement the cluster promises. The caller first makes sure the
   * replica applied everything it received (waitForGtid with its Gtid_IO_Pos,
   * or the old primary's gtid_binlog_pos in a switchover).
   */
  async promote(options: { semiSyncMaster: boolean }): Promise<void> {
    await this.resetReplication();
    await this.#write('SET GLOBAL', `SET GLOBAL rpl_semi_sync_master_enabled = ${options.semiSyncMaster ? 'ON' : 'OFF'}`);
    await this.setReadOnly(false);
  }

  /**
   * The SQL side of stepping down as writer: client connections killed, read_only
   * on, then client connections killed again (killClientConnections) so
   * applications reconnect to the new primary. Resolves to the number of
   * connections killed. The first round is for a writer whose commits wait for a
   * semi-sync acknowledgement that will never come (a primary that was cut off
   * and is back): SET GLOBAL read_only waits for running commits, so it would
   * wait for good; KILL ends such a wait (measured on 10.11: the client gets an
   * error, never an acknowledgement). The second round closes sessions that
   * connected in between.
   */
  async demote(options: { exceptUsers: readonly string[] }): Promise<number> {
    const first = await this.killClientConnections(options.exceptUsers);
    await this.setReadOnly(true);
    return first + (await this.killClientConnections(options.exceptUsers));
  }

  /**
   * The account replicas connect with: created if missing (mysql_native_password,
   * only the hash is sent), its password set when it differs, and exactly
   * REPLICATION SLAVE granted. Sends no write when all is in place. Run it on
   * the primary: the statements replicate, so every replica that may be
   * promoted has the account too.
   */
  async ensureReplicationUser(user: string, host: string, password: string): Promise<{ created: boolean; passwordChanged: boolean; grantsChanged: boolean }> {
    const accounts = this.#deps.accounts;
    const existing = await accounts.getUser(user, host);
    const created = existing === undefined;
    const passwordChanged = existing !== undefined && !passwordMatches(existing, password);
    if (created) await accounts.createUser(user, host, password);
    else if (passwordChanged) await accounts.setPassword(user, host, password);
    const changes = await accounts.setGrants(user, host, replicationGrants, { newAccount: created });
    return { created, passwordChanged, grantsChanged: changes.granted.length + changes.revoked.length > 0 };
  }

  async #waitConnected(source: ReplicationSource, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const where = `replica ${this.#deps.server} replicating from ${source.host}:${source.port}`;
    for (;;) {
      const replica: ReplicaStatus | undefined = (await this.replicationState()).replica;
      if (replica === undefined) throw new ReplicaConnectionError(`${where}: the replication connection disappeared`, 0);
      if (replica.ioThread === 'Yes') return;
      if (replica.lastIoErrno !== 0) {
        const reason = redact(replica.lastIoError, source.password);
        throw new ReplicaConnectionError(`${where}: IO thread error ${replica.lastIoErrno}: ${reason}`, replica.lastIoErrno);
      }
      if (replica.ioThread === 'No') throw new ReplicaConnectionError(`${where}: the IO thread stopped without an error`, 0);
      if (Date.now() >= deadline) throw new ReplicaConnectionError(`${where}: not connected after ${timeoutMs} ms`, 0);
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
    }
  }

  async #rows(statement: Statement): Promise<ReturnType<typeof rowsOf>> {
    return rowsOf(await this.#deps.run(statement));
  }

  async #write(verb: string, sql: string): Promise<void> {
    await this.#deps.run({ kind: 'write', verb, sql });
  }
}

/** MariaDB's messages do not quote the password; this makes sure of it. */
function redact(message: string, password: string): string {
  return password.length === 0 ? message : message.replaceAll(password, '[redacted]');
}
