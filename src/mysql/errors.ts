// The errors the SQL client throws, and how a caller tells them apart: a
// server it cannot reach (retry later), credentials it may not use (fix the
// Secret), or a statement the server refused. Every message here is safe to
// show in a Kubernetes condition: it never holds SQL text, statement values
// or passwords.
import { InvalidIdentifierError } from './identifiers.ts';
import { InvalidPrivilegeError } from './privileges.ts';

/**
 * A statement failed, or no connection to the server could be made for it.
 * The message names the statement's verb, the server and the server's (or
 * the network's) reason; it holds no SQL text and no statement values.
 */
export class MySQLError extends Error {
  /** The statement's verb, e.g. 'GRANT'; for connection failures, still the verb of the statement that needed the connection. */
  readonly verb: string;
  /** `host:port` of the server. */
  readonly server: string;
  /** MariaDB's error number (1045), the connector's (45012), or a negative system error number. */
  readonly errno: number | undefined;
  /** The symbolic code: 'ER_ACCESS_DENIED_ERROR', 'ER_CONNECTION_TIMEOUT', 'ECONNREFUSED', … */
  readonly code: string | undefined;
  readonly sqlState: string | undefined;
  /** 'connect': no connection could be opened for the statement (it was not sent); 'statement': the statement failed. */
  readonly phase: 'connect' | 'statement';
  /** The server could not be reached, refused or dropped the connection, or timed out: retrying later may succeed. */
  readonly connection: boolean;
  /** The server refused the credentials or the statement for lack of privileges. */
  readonly accessDenied: boolean;

  constructor(init: {
    verb: string;
    server: string;
    phase: 'connect' | 'statement';
    reason: string;
    errno: number | undefined;
    code: string | undefined;
    sqlState: string | undefined;
    connection: boolean;
    accessDenied: boolean;
  }) {
    const what = init.phase === 'connect' || init.connection ? `cannot connect to MariaDB at ${init.server}` : `${init.verb} failed on ${init.server}`;
    super(`${what}: ${init.reason}${init.code !== undefined ? ` (${init.code})` : ''}`);
    this.name = 'MySQLError';
    this.verb = init.verb;
    this.server = init.server;
    this.phase = init.phase;
    this.errno = init.errno;
    this.code = init.code;
    this.sqlState = init.sqlState;
    this.connection = init.connection;
    this.accessDenied = init.accessDenied;
  }
}

/** Thrown, before any statement is sent, when asked to create, change or drop a database that belongs to MariaDB or to the operator itself. */
export class ReservedDatabaseError extends Error {
  constructor(name: string) {
    super(`database ${JSON.stringify(name)} is reserved for MariaDB or the operator and cannot be managed`);
    this.name = 'ReservedDatabaseError';
  }
}

/** Node's socket and name-resolution errors that mean the server was not reached or went away. */
const connectionCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

const connectionErrnos: ReadonlySet<number> = new Set([
  1040, // ER_CON_COUNT_ERROR: too many connections
  1053, // ER_SERVER_SHUTDOWN
  1927, // ER_CONNECTION_KILLED
  45001, // ER_CONNECTION_ALREADY_CLOSED
  45009, // ER_SOCKET_UNEXPECTED_CLOSE
  45012, // ER_CONNECTION_TIMEOUT
  45013, // ER_CMD_CONNECTION_CLOSED
  45019, // ER_SOCKET
  45026, // ER_SOCKET_TIMEOUT
  45028, // ER_GET_CONNECTION_TIMEOUT
  45042, // ER_PING_TIMEOUT
]);

const accessDeniedErrnos: ReadonlySet<number> = new Set([
  1044, // ER_DBACCESS_DENIED_ERROR
  1045, // ER_ACCESS_DENIED_ERROR: wrong user or password
  1130, // ER_HOST_NOT_PRIVILEGED: this host may not connect
  1142, // ER_TABLEACCESS_DENIED_ERROR
  1143, // ER_COLUMNACCESS_DENIED_ERROR
  1227, // ER_SPECIFIC_ACCESS_DENIED_ERROR
  1370, // ER_PROCACCESS_DENIED_ERROR
  1410, // ER_CANT_CREATE_USER_WITH_GRANT
  1698, // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
  4151, // ER_ACCOUNT_HAS_BEEN_LOCKED
]);

function property(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function stringProperty(value: unknown, name: string): string | undefined {
  const v = property(value, name);
  return typeof v === 'string' ? v : undefined;
}

function numberProperty(value: unknown, name: string): number | undefined {
  const v = property(value, name);
  return typeof v === 'number' ? v : undefined;
}

/** `error` and its causes, innermost last; stops at 8 to survive cycles. */
function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = error; e !== undefined && e !== null && out.length < 8; e = property(e, 'cause')) out.push(e);
  return out;
}

function isConnectionFailure(e: unknown): boolean {
  const code = stringProperty(e, 'code');
  const errno = numberProperty(e, 'errno');
  return (code !== undefined && connectionCodes.has(code)) || (errno !== undefined && connectionErrnos.has(errno));
}

function isAccessFailure(e: unknown): boolean {
  const errno = numberProperty(e, 'errno');
  return errno !== undefined && accessDeniedErrnos.has(errno);
}

/**
 * True when `error` means the server was unreachable, refused or dropped the
 * connection, or timed out — something that may pass without anyone changing
 * the configuration. False for access denied, even when the connector
 * reports it wrapped in a pool timeout.
 */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof MySQLError) return error.connection;
  const errors = chain(error);
  return !errors.some(isAccessFailure) && errors.some(isConnectionFailure);
}

/** True when the server refused the credentials (1045 …) or a statement for lack of privileges (1044, 1142, 1227 …). */
export function isAccessDenied(error: unknown): boolean {
  if (error instanceof MySQLError) return error.accessDenied;
  return chain(error).some(isAccessFailure);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]?.trim() ?? '';
}

/** The connector prefixes its messages with `(conn:…, no: …, SQLState: …)`; the code says it better. */
function withoutConnectorHeader(text: string): string {
  return text.replace(/^\(conn:[^)]*\)\s*/, '');
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.replaceAll(secret, '[redacted]');
  return out;
}

/**
 * Turns whatever the connector threw for a statement into a MySQLError;
 * `phase` says whether it came from opening the connection. The
 * reason is taken from the innermost meaningful error (the connector wraps
 * the real cause of a failed connection), reduced to its first line, without
 * the SQL text the connector appends, and with every string in `secrets`
 * replaced by `[redacted]`.
 */
export function toMySQLError(
  error: unknown,
  context: { verb: string; server: string; phase: 'connect' | 'statement'; secrets: readonly string[] },
): MySQLError {
  if (error instanceof MySQLError) return error;
  const errors = chain(error);
  const root = errors.find(isAccessFailure) ?? errors.findLast(isConnectionFailure) ?? errors[0];
  const text = stringProperty(root, 'sqlMessage') ?? stringProperty(root, 'message') ?? String(root);
  const errno = numberProperty(root, 'errno');
  const accessDenied = errors.some(isAccessFailure);
  return new MySQLError({
    verb: context.verb,
    server: context.server,
    phase: context.phase,
    reason: redact(withoutConnectorHeader(firstLine(text)), context.secrets) || 'unknown error',
    errno,
    code: stringProperty(root, 'code'),
    sqlState: stringProperty(root, 'sqlState'),
    connection: !accessDenied && errors.some(isConnectionFailure),
    accessDenied,
  });
}

const maxMessageLength = 512;

/**
 * A short, one-line description of `error` for a Kubernetes condition or an
 * Event. The client's own errors are already safe and returned as they are;
 * for anything else only the first line of the message is kept (the mariadb
 * connector puts the SQL text on the following lines).
 */
export function describeSqlError(error: unknown): string {
  let text: string;
  if (
    error instanceof MySQLError ||
    error instanceof ReservedDatabaseError ||
    error instanceof InvalidIdentifierError ||
    error instanceof InvalidPrivilegeError
  ) {
    text = error.message;
  } else if (error instanceof Error) {
    text = withoutConnectorHeader(firstLine(stringProperty(error, 'sqlMessage') ?? error.message));
  } else {
    text = 'unknown error';
  }
  return text.length > maxMessageLength ? `${text.slice(0, maxMessageLength - 1)}…` : text;
}
