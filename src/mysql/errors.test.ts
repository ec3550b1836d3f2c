import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqlError } from 'mariadb';
import { MySQLError, describeSqlError, isAccessDenied, isConnectionError, toMySQLError } from './errors.ts';
import { InvalidIdentifierError, databaseName } from './identifiers.ts';

// Errors shaped exactly as mariadb 3.5 throws them (see the integration tests for the real thing).
function serverError(errno: number, message: string, sql: string | undefined, sqlState = 'HY000'): SqlError {
  return new SqlError(message, sql, false, { threadId: 7 }, sqlState, errno);
}

function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', errno: -111, fatal: true });
}

function poolTimeout(cause: Error): SqlError {
  return new SqlError('pool failed to retrieve a connection from pool\n    (pool connections: active=0 idle=0 limit=2)', undefined, false, {}, 'HY000', 45028, undefined, undefined, { cause });
}

const context = { verb: 'CREATE USER', server: '127.0.0.1:3306', phase: 'statement', secrets: ['hunter2-secret', '*ABCDEF'] } as const;

describe('error classification', () => {
  it('counts refused, reset and timed-out connections as connection errors', () => {
    assert.equal(isConnectionError(refused()), true);
    assert.equal(isConnectionError(serverError(45012, 'Connection timeout: failed to create socket after 1001ms', undefined)), true);
    assert.equal(isConnectionError(serverError(1040, 'Too many connections', undefined)), true);
    assert.equal(isConnectionError(poolTimeout(refused())), true);
    assert.equal(isAccessDenied(refused()), false);
  });

  it('counts refused credentials and missing privileges as access denied, never as connection errors', () => {
    const denied = serverError(1045, "Access denied for user 'root'@'127.0.0.1' (using password: YES)", undefined, '28000');
    assert.equal(isAccessDenied(denied), true);
    assert.equal(isConnectionError(denied), false);
    assert.equal(isAccessDenied(poolTimeout(denied)), true);
    assert.equal(isConnectionError(poolTimeout(denied)), false);
    assert.equal(isAccessDenied(serverError(1142, 'SELECT command denied to user', 'SELECT 1')), true);
  });

  it('counts other server errors as neither', () => {
    const e = serverError(1396, "Operation CREATE USER failed for 'app'@'%'", 'CREATE USER ...');
    assert.equal(isConnectionError(e), false);
    assert.equal(isAccessDenied(e), false);
    assert.equal(isConnectionError(new Error('boom')), false);
    assert.equal(isConnectionError(undefined), false);
  });
});

describe('toMySQLError', () => {
  it('keeps the server reason and code, drops the SQL text and the connector header', () => {
    const e = toMySQLError(serverError(1396, "Operation CREATE USER failed for 'app'@'%'", "CREATE USER 'app'@'%' IDENTIFIED BY PASSWORD ?"), context);
    assert.ok(e instanceof MySQLError);
    assert.equal(e.message, "CREATE USER failed on 127.0.0.1:3306: Operation CREATE USER failed for 'app'@'%' (ER_CANNOT_USER)");
    assert.equal(e.errno, 1396);
    assert.equal(e.connection, false);
  });

  it('reports the cause of a failed connection, not the pool wrapper', () => {
    const e = toMySQLError(poolTimeout(refused()), { ...context, phase: 'connect' });
    assert.equal(e.message, 'cannot connect to MariaDB at 127.0.0.1:3306: connect ECONNREFUSED 127.0.0.1:1 (ECONNREFUSED)');
    assert.equal(e.connection, true);
    assert.equal(isConnectionError(e), true);
  });

  it('says "cannot connect" for any failure to open a connection, retryable or not', () => {
    const denied = serverError(1045, "Access denied for user 'root'@'127.0.0.1' (using password: YES)", undefined, '28000');
    const e = toMySQLError(denied, { ...context, phase: 'connect' });
    assert.equal(e.message, "cannot connect to MariaDB at 127.0.0.1:3306: Access denied for user 'root'@'127.0.0.1' (using password: YES) (ER_ACCESS_DENIED_ERROR)");
    assert.equal(e.connection, false);
    assert.equal(e.accessDenied, true);
  });

  it('redacts secrets wherever the server or connector repeats them', () => {
    const e = toMySQLError(serverError(1064, "You have an error in your SQL syntax near 'hunter2-secret' and '*ABCDEF'", 'x'), context);
    assert.doesNotMatch(e.message, /hunter2|ABCDEF/);
    assert.match(e.message, /near '\[redacted\]' and '\[redacted\]'/);
    assert.doesNotMatch(String(e.stack), /hunter2|ABCDEF/);
    assert.equal(e.cause, undefined);
  });
});

describe('describeSqlError', () => {
  it('gives one line without SQL text for raw connector errors', () => {
    const raw = serverError(1142, 'INSERT command denied to user', "INSERT INTO t VALUES ('x')");
    assert.match(raw.message, /sql: INSERT/);
    assert.equal(describeSqlError(raw), 'INSERT command denied to user');
  });

  it('passes the client’s own errors through and bounds the length', () => {
    assert.match(describeSqlError(new InvalidIdentifierError(databaseName, 'a b')), /^invalid database name "a b"/);
    assert.ok(describeSqlError(new Error('x'.repeat(5000))).length <= 512);
    assert.equal(describeSqlError('thrown string'), 'unknown error');
  });
});
