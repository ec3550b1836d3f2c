// How the SQL client connects, against real sockets and a real MariaDB 10.11:
// unreachable servers and refused credentials are told apart, connections are
// pooled and replaced when the server drops them, and TLS verifies the
// server's certificate.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { MySQLClient } from '../../src/mysql/client.ts';
import { MySQLError, describeSqlError, isAccessDenied, isConnectionError } from '../../src/mysql/errors.ts';
import { quoteAccount } from '../../src/mysql/identifiers.ts';
import { freePort } from '../env/ports.ts';
import { startMariaDB, stopMariaDB, type MariaDBInstance } from '../env/mariadb.ts';
import { RecordingClient, adminConnection, adminOptions, serverAt, testServers, uniqueName } from './mysql-support.ts';

const servers = testServers();
let server: MariaDBInstance;

before(async () => {
  server = await serverAt(servers);
});

async function failureOf(pending: Promise<unknown>): Promise<MySQLError> {
  const error: unknown = await pending.then(
    () => assert.fail('expected the statement to fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof MySQLError, `expected a MySQLError, got ${inspect(error)}`);
  return error;
}

/** An account for one test, with `privileges` on *.*, made by hand. */
async function loginAccount(privileges: string): Promise<{ user: string; password: string }> {
  const user = uniqueName('login');
  const password = `${user}-pw`;
  const conn = await adminConnection(server);
  try {
    await conn.query(`CREATE USER ${quoteAccount(user, '%')} IDENTIFIED BY ?`, [password]);
    await conn.query(`GRANT ${privileges} ON *.* TO ${quoteAccount(user, '%')}`);
  } finally {
    await conn.end();
  }
  return { user, password };
}

async function threadsOf(user: string): Promise<number[]> {
  const conn = await adminConnection(server);
  try {
    const rows = await conn.query<{ ID: number | bigint }[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?', [user]);
    return rows.map((r) => Number(r.ID));
  } finally {
    await conn.end();
  }
}

describe('MySQLClient connection failures', () => {
  it('classifies a closed port as a connection error, at once and without a password in sight', async () => {
    const port = await freePort();
    const recording = new RecordingClient({ host: '127.0.0.1', port, user: 'root', password: 'admin-secret-x' });
    try {
      const started = performance.now();
      const error = await failureOf(recording.client.serverVersion());
      assert.ok(performance.now() - started < 2000, 'a refused connection fails without waiting for a timeout');
      assert.equal(isConnectionError(error), true);
      assert.equal(isAccessDenied(error), false);
      assert.equal(error.code, 'ECONNREFUSED');
      assert.equal(error.phase, 'connect');
      assert.equal(describeSqlError(error), `cannot connect to MariaDB at 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port} (ECONNREFUSED)`);
      assert.ok(!inspect(error).includes('admin-secret-x'));
      assert.deepEqual(recording.statements, [{ kind: 'read', verb: 'SELECT', failed: true }]);
    } finally {
      await recording.close();
    }
  });

  it('classifies a server that accepts but never answers as a connection error after connectTimeoutMs', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    assert.ok(address !== null && typeof address === 'object');
    const client = MySQLClient.create({ host: '127.0.0.1', port: address.port, user: 'root', password: 'x', connectTimeoutMs: 300 });
    try {
      const started = performance.now();
      const error = await failureOf(client.getDatabase('anything'));
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 3000, `gave up after ${Math.round(elapsed)} ms`);
      assert.equal(isConnectionError(error), true);
      assert.equal(error.code, 'ER_CONNECTION_TIMEOUT');
    } finally {
      await client.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => { resolve(); }));
    }
  });

  it('classifies a wrong admin password as access denied, not as a connection error', async () => {
    const client = MySQLClient.create({ ...adminOptions(server), password: 'wrong-admin-password' });
    try {
      const error = await failureOf(client.getUser('root', 'localhost'));
      assert.equal(isAccessDenied(error), true);
      assert.equal(isConnectionError(error), false);
      assert.equal(error.code, 'ER_ACCESS_DENIED_ERROR');
      assert.match(error.message, /^cannot connect to MariaDB at 127\.0\.0\.1:\d+: Access denied for user 'root'@'127\.0\.0\.1'/);
      assert.ok(!inspect(error).includes('wrong-admin-password'));
    } finally {
      await client.close();
    }
  });

  it('refuses statements after close', async () => {
    const client = MySQLClient.create(adminOptions(server));
    await client.serverVersion();
    await client.close();
    const error = await failureOf(client.serverVersion());
    assert.match(error.message, /client is closed/);
  });
});

describe('MySQLClient connection pool', () => {
  it('opens no more connections than poolSize, however many statements run at once', async () => {
    const { user, password } = await loginAccount('SELECT');
    const client = MySQLClient.create({ ...adminOptions(server), user, password, poolSize: 2 });
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => client.serverVersion()));
      assert.equal(new Set(results).size, 1);
      const threads = await threadsOf(user);
      assert.ok(threads.length >= 1 && threads.length <= 2, `${threads.length} connections open`);
    } finally {
      await client.close();
    }
    // The server drops a thread just after it reads COM_QUIT; give it a moment.
    let left = await threadsOf(user);
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      left = await threadsOf(user);
    }
    assert.deepEqual(left, [], 'close() ends the connections');
  });

  it('replaces a connection the server killed', async () => {
    const { user, password } = await loginAccount('SELECT');
    const client = MySQLClient.create({ ...adminOptions(server), user, password, poolSize: 1 });
    try {
      await client.serverVersion();
      const [thread] = await threadsOf(user);
      assert.ok(thread !== undefined);
      const conn = await adminConnection(server);
      try {
        await conn.query(`KILL CONNECTION ${thread}`);
      } finally {
        await conn.end();
      }
      // The pool hears of the closed socket, or pings before reuse; either way the next statement works.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      assert.match(await client.serverVersion(), /MariaDB/);
      const after = await threadsOf(user);
      assert.equal(after.length, 1);
      assert.notEqual(after[0], thread);
    } finally {
      await client.close();
    }
  });
});

describe('MySQLClient over TLS', () => {
  let dir: string;
  let tlsServer: MariaDBInstance;
  let ca: string;
  let otherCa: string;
  const tlsUser = `tls_${process.pid}`;
  const tlsPassword = 'tls-user-password';

  function openssl(args: readonly string[]): void {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  function makeCa(name: string): { cert: string; key: string } {
    const cert = join(dir, `${name}.crt`);
    const key = join(dir, `${name}.key`);
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    return { cert, key };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flightdeck-tls-'));
    const authority = makeCa('test-ca');
    makeCa('other-ca');
    const serverKey = join(dir, 'server.key');
    const serverCsr = join(dir, 'server.csr');
    const serverCert = join(dir, 'server.crt');
    const ext = join(dir, 'server.ext');
    writeFileSync(ext, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', serverKey, '-subj', '/CN=mariadb', '-out', serverCsr]);
    openssl(['x509', '-req', '-in', serverCsr, '-CA', authority.cert, '-CAkey', authority.key, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', serverCert]);
    ca = readFileSync(authority.cert, 'utf8');
    otherCa = readFileSync(join(dir, 'other-ca.crt'), 'utf8');
    tlsServer = await startMariaDB({
      dir: join(dir, 'servers'),
      name: 'tls',
      extraArgs: [`--ssl-ca=${authority.cert}`, `--ssl-cert=${serverCert}`, `--ssl-key=${serverKey}`],
    });
    const conn = await adminConnection(tlsServer);
    try {
      // REQUIRE SSL: this account can only log in over TLS, so a working login proves TLS was used.
      await conn.query(`CREATE USER ${quoteAccount(tlsUser, '%')} IDENTIFIED BY ? REQUIRE SSL`, [tlsPassword]);
      await conn.query(`GRANT SELECT ON *.* TO ${quoteAccount(tlsUser, '%')}`);
    } finally {
      await conn.end();
    }
  });

  after(async () => {
    await stopMariaDB(tlsServer);
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects with TLS, verifying the certificate against the given CA', async () => {
    const client = MySQLClient.create({ host: tlsServer.host, port: tlsServer.port, user: tlsUser, password: tlsPassword, tls: { ca } });
    try {
      assert.match(await client.serverVersion(), /MariaDB/);
    } finally {
      await client.close();
    }
  });

  it('without tls the same account is refused (it requires TLS)', async () => {
    const client = MySQLClient.create({ host: tlsServer.host, port: tlsServer.port, user: tlsUser, password: tlsPassword });
    try {
      const error = await failureOf(client.serverVersion());
      assert.equal(isAccessDenied(error), true);
    } finally {
      await client.close();
    }
  });

  it('refuses a server whose certificate another CA signed', async () => {
    const client = MySQLClient.create({ host: tlsServer.host, port: tlsServer.port, user: tlsUser, password: tlsPassword, tls: { ca: otherCa } });
    try {
      const error = await failureOf(client.serverVersion());
      assert.equal(error.phase, 'connect');
      assert.equal(isAccessDenied(error), false);
      assert.match(error.message, /^cannot connect to MariaDB at 127\.0\.0\.1:\d+: .*certificate/i);
      assert.ok(!inspect(error).includes(tlsPassword));
    } finally {
      await client.close();
    }
  });

  it('refuses a self-signed server certificate when no CA is given (system CAs)', async () => {
    const client = MySQLClient.create({ host: tlsServer.host, port: tlsServer.port, user: tlsUser, password: tlsPassword, tls: {} });
    try {
      const error = await failureOf(client.serverVersion());
      assert.equal(error.phase, 'connect');
    } finally {
      await client.close();
    }
  });
});
