// The statement texts of replication control, built from validated input.
// Pure, so what reaches the server is tested without one. Host and user are
// validated and quoted by identifiers.ts; numbers are checked integers; the
// replication password never appears here (see replication.ts for how it
// reaches CHANGE MASTER).
import { quoteAccountPart, replicationSourceHost, userName } from './identifiers.ts';

/** Thrown, before any statement is sent, for a port, timeout or GTID position the client refuses. */
export class InvalidReplicationOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidReplicationOptionError';
  }
}

/** Where a replica replicates from. */
export interface ReplicationSource {
  /** A DNS name or IP address (replicationSourceHost). */
  readonly host: string;
  readonly port: number;
  /** The replication account on the source (userName). */
  readonly user: string;
  readonly password: string;
  /**
   * Seconds between the IO thread's attempts to reconnect after losing the
   * source. MariaDB's default, 60, is far too slow after a switchover.
   * Default 5.
   */
  readonly connectRetrySeconds?: number;
  /**
   * Seconds of silence after which the source sends a heartbeat, so a
   * replica notices a dead connection within about twice this. Default 5.
   */
  readonly heartbeatSeconds?: number;
}

const defaultConnectRetrySeconds = 5;
const defaultHeartbeatSeconds = 5;

function checkInteger(what: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidReplicationOptionError(`${what} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/**
 * `CHANGE MASTER TO …, MASTER_PASSWORD=` without the password: the text to
 * which the server itself appends the quoted password (replication.ts).
 * MASTER_USE_GTID=slave_pos: the replica asks the source for what follows
 * the transactions it has applied, which is what makes repointing to a new
 * primary after a failover a one-statement affair.
 */
export function changeMasterPrefix(source: ReplicationSource): string {
  const host = quoteAccountPart(replicationSourceHost, source.host);
  const user = quoteAccountPart(userName, source.user);
  const port = checkInteger('port', source.port, 1, 65535);
  const retry = checkInteger('connectRetrySeconds', source.connectRetrySeconds ?? defaultConnectRetrySeconds, 1, 86_400);
  const heartbeat = checkInteger('heartbeatSeconds', source.heartbeatSeconds ?? defaultHeartbeatSeconds, 1, 4_294_967);
  return (
    `CHANGE MASTER TO MASTER_HOST=${host}, MASTER_PORT=${port}, MASTER_USER=${user}, ` +
    `MASTER_CONNECT_RETRY=${retry}, MASTER_HEARTBEAT_PERIOD=${heartbeat}, MASTER_USE_GTID=slave_pos, MASTER_PASSWORD=`
  );
}

// One domain-server-sequence triple; a position is a comma-separated list of them, one per domain.
const gtidPositionPattern = /^\s*(\d+-\d+-\d+(\s*,\s*\d+-\d+-\d+)*)?\s*$/;

/** `position` when it has the form of a GTID position ('0-1-42,1-2-7', or '' for none); InvalidReplicationOptionError otherwise. */
export function checkGtidPosition(position: string): string {
  if (position.length > 65_535 || !gtidPositionPattern.test(position)) {
    throw new InvalidReplicationOptionError(`${JSON.stringify(position.slice(0, 80))} is not a GTID position (domain-server-sequence, comma-separated)`);
  }
  return position;
}

/** The semi-synchronous replication settings of one server. */
export interface SemiSyncSettings {
  /** As a primary, commits wait for a replica's acknowledgement (rpl_semi_sync_master_enabled). */
  readonly master: boolean;
  /** As a replica, acknowledge what is received (rpl_semi_sync_slave_enabled). */
  readonly slave: boolean;
  /**
   * How long a commit waits for an acknowledgement before the primary falls
   * back to asynchronous replication (rpl_semi_sync_master_timeout). The
   * fallback is how an acknowledged write gets lost when the primary is cut
   * off; a long timeout with waitNoSlave means a write blocks instead.
   */
  readonly timeoutMs: number;
  /** Keep waiting, up to the timeout, when no replica is connected at all (rpl_semi_sync_master_wait_no_slave). */
  readonly waitNoSlave: boolean;
}

/**
 * The largest rpl_semi_sync_master_timeout this client sets: a year, in
 * effect forever (a write then waits for a replica rather than fall back to
 * asynchronous replication). Not the variable's own maximum (2^64-1):
 * MariaDB turns it into nanoseconds for its timed wait, which would overflow.
 */
export const maxSemiSyncTimeoutMs = 365 * 24 * 3600 * 1000;

/**
 * One SET GLOBAL for all settings, in this order: the wait point and the
 * timeouts first, so a primary never runs semi-sync for a moment with the
 * previous, possibly unsafe, ones. The wait point is always AFTER_SYNC: a
 * transaction becomes visible to other sessions only after a replica has
 * it, so nothing a client could have read is lost with the primary.
 */
export function semiSyncStatement(settings: SemiSyncSettings): { sql: string; values: unknown[] } {
  const timeout = checkInteger('semi-sync timeoutMs', settings.timeoutMs, 0, maxSemiSyncTimeoutMs);
  const onOff = (on: boolean): string => (on ? 'ON' : 'OFF');
  return {
    sql:
      "SET GLOBAL rpl_semi_sync_master_wait_point = 'AFTER_SYNC', GLOBAL rpl_semi_sync_master_timeout = ?, " +
      `GLOBAL rpl_semi_sync_master_wait_no_slave = ${onOff(settings.waitNoSlave)}, ` +
      `GLOBAL rpl_semi_sync_master_enabled = ${onOff(settings.master)}, GLOBAL rpl_semi_sync_slave_enabled = ${onOff(settings.slave)}`,
    values: [timeout],
  };
}

/** MASTER_GTID_WAIT's timeout: whole or fractional seconds, positive (MariaDB treats 0 as "do not wait", negatives as "forever"). */
export function checkWaitSeconds(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 31_536_000) {
    throw new InvalidReplicationOptionError(`the GTID wait timeout must be more than 0 and at most a year in seconds, got ${String(seconds)}`);
  }
  return seconds;
}

/**
 * Threads killClientConnections never touches, whoever runs them: replicas
 * reading this server's binary log, this server's own replication threads,
 * and the server's daemons (event scheduler, InnoDB purge …).
 */
export const serverThreadCommands: readonly string[] = ['Binlog Dump', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker'];

/** The users of server threads: they are not client connections. */
export const serverThreadUsers: readonly string[] = ['system user', 'event_scheduler'];
