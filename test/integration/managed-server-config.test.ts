// What a managed cluster's instances start with, tried on a real mariadbd:
// the generated my.cnf options are accepted, the initdb SQL creates the
// operator's and the replication account without writing a GTID, and the
// operator's account can do exactly its job (while the replication account
// cannot do more than replicate). The Kubernetes side of it (the image, the
// StatefulSet) is the e2e tests' business.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as mariadb from 'mariadb';
import type { ReplicationSettings } from '../../src/api/normalize.ts';
import { serverConfig } from '../../src/controllers/cluster/managed/builders/config.ts';
import { credentialsSecret } from '../../src/controllers/cluster/managed/builders/secrets.ts';
import { systemAccounts } from '../../src/controllers/cluster/managed/builders/names.ts';
import { startMariaDB, stopMariaDB, type MariaDBInstance } from '../env/mariadb.ts';

const replication: ReplicationSettings = {
  mode: 'SemiSync',
  allowAsyncFallback: false,
  semiSyncTimeoutSeconds: 10,
  autoFailover: true,
  failoverAfterSeconds: 3,
  maxReaderLagSeconds: 10,
};
const config = serverConfig({ myCnf: 'max_connections = 300\ninnodb_log_file_size = 64M\nmax_allowed_packet = 32M\n', replication });

/**
 * The generated my.cnf's server options as mariadbd command-line options
 * (the test server's own port, socket and address are kept: several run on
 * one machine), so the server reads exactly our names and values.
 */
function optionsOf(myCnf: string): string[] {
  const keptByTheTestServer = new Set(['port', 'bind_address', 'socket']);
  const options: string[] = [];
  for (const line of myCnf.split('\n')) {
    const match = /^([a-z_]+)\s*=\s*(.*)$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined || keptByTheTestServer.has(match[1])) continue;
    options.push(`--${match[1]}=${match[2]}`);
  }
  return options;
}

const passwords = { root: 'root-pw-not-used-here', replication: 'repl-pw-Q2', operator: 'operator-pw-Z9' };
const secret = credentialsSecret({ name: 'db', namespace: 'shop', uid: 'u' }, 'db-credentials', passwords);

let dir: string;
let server: MariaDBInstance;

function connect(user: string, password: string): Promise<mariadb.Connection> {
  return mariadb.createConnection({ host: server.host, port: server.port, user, password });
}
const asOperator = () => connect(systemAccounts.operator.user, passwords.operator);
const asReplication = () => connect(systemAccounts.replication.user, passwords.replication);

async function scalar(conn: mariadb.Connection, sql: string): Promise<unknown> {
  const rows = await conn.query<Record<string, unknown>[]>(sql);
  return Object.values(rows[0] ?? {})[0];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flightdeck-managed-config-'));
  server = await startMariaDB({ dir, name: 'instance-0', extraArgs: ['--server-id=100', ...optionsOf(config.myCnf)] });
});

after(async () => {
  await stopMariaDB(server);
  rmSync(dir, { recursive: true, force: true });
});

describe('the generated server configuration on a real mariadbd', () => {
  it('is accepted and in effect: binary logs, GTID strict mode, read-only, semi-sync waiting without fallback', async () => {
    const root = await connect(server.adminUser, server.adminPassword);
    try {
      const vars = (await root.query<Record<string, unknown>[]>(
        'SELECT @@log_bin AS log_bin, @@binlog_format AS format, @@log_slave_updates AS slave_updates, @@gtid_strict_mode AS strict, @@read_only AS ro, @@server_id AS id, @@rpl_semi_sync_master_wait_point AS wait_point, @@rpl_semi_sync_master_wait_no_slave AS no_slave, @@rpl_semi_sync_master_timeout AS timeout, @@rpl_semi_sync_slave_enabled AS slave_on, @@rpl_semi_sync_master_enabled AS master_on, @@max_connections AS max_connections, @@innodb_log_file_size AS log_file_size',
      ))[0];
      assert.ok(vars);
      assert.equal(Number(vars.log_bin), 1);
      assert.equal(vars.format, 'ROW');
      assert.equal(Number(vars.slave_updates), 1);
      assert.equal(Number(vars.strict), 1);
      assert.equal(Number(vars.ro), 1);
      assert.equal(Number(vars.id), 100);
      assert.equal(vars.wait_point, 'AFTER_SYNC');
      assert.equal(Number(vars.no_slave), 1);
      assert.equal(String(vars.timeout), '31536000000');
      assert.equal(Number(vars.slave_on), 1);
      assert.equal(Number(vars.master_on), 0);
      assert.equal(Number(vars.max_connections), 300);
      assert.equal(String(vars.log_file_size), String(64 * 1024 * 1024));
    } finally {
      await root.end();
    }
  });

  it('the initdb SQL creates the accounts and leaves no GTID of its own', async () => {
    const root = await mariadb.createConnection({ socketPath: server.socket, user: server.adminUser, password: server.adminPassword, multipleStatements: true });
    try {
      const before = await scalar(root, 'SELECT @@gtid_binlog_pos');
      const sql = secret.stringData['initdb.sql'];
      assert.ok(sql !== undefined);
      await root.query(sql);
      assert.equal(await scalar(root, 'SELECT @@gtid_binlog_pos'), before, 'the account creation reached the binary log');
    } finally {
      await root.end();
    }
  });

  it("the operator's account does its job: databases, users and grants, read_only, replication, semi-sync, live options, fencing", async () => {
    const op = await asOperator();
    const app = await connect(server.adminUser, server.adminPassword);
    // The killed session's connection reports its end as an error event; it is expected, and checked below.
    const appClosed = new Promise<Error>((resolve) => app.once('error', resolve));
    try {
      await op.query('SET GLOBAL read_only = OFF');
      await op.query('CREATE DATABASE site_a');
      await op.query("CREATE USER 'site_user'@'%' IDENTIFIED BY PASSWORD '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'");
      await op.query("GRANT ALL PRIVILEGES ON `site\\_a`.* TO 'site_user'@'%'");
      await op.query('GRANT SELECT ON *.* TO ?@?', ['site_user', '%']);
      await op.query('REVOKE SELECT ON *.* FROM ?@?', ['site_user', '%']);
      await op.query('SET GLOBAL max_connections = 400');
      await op.query('SET GLOBAL max_allowed_packet = ?', [64 * 1024 * 1024]);
      await op.query('SET GLOBAL rpl_semi_sync_master_enabled = ON');
      await op.query('SET GLOBAL rpl_semi_sync_master_enabled = OFF');
      await op.query('SHOW SLAVE STATUS');
      await op.query('SELECT @@gtid_binlog_pos, @@gtid_current_pos, @@gtid_slave_pos');
      await op.query('SHOW BINLOG STATUS');
      await op.query('STOP SLAVE');
      // Fencing: sees and closes another account's session.
      const appId = await scalar(app, 'SELECT CONNECTION_ID()');
      const seen = await op.query<unknown[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [appId]);
      assert.equal(seen.length, 1, 'the operator cannot see application sessions');
      await op.query('KILL CONNECTION ?', [appId]);
      await assert.rejects(app.query('SELECT 1'));
      assert.match(String(await appClosed), /closed|killed/i);
      await op.query('SET GLOBAL read_only = ON');
    } finally {
      await op.end();
      await app.end().catch(() => undefined);
    }
  });

  it("the operator's account cannot read files or shut the server down", async () => {
    const op = await asOperator();
    try {
      await assert.rejects(op.query('SHUTDOWN'), /denied/i);
      // Without FILE, LOAD_FILE reads nothing and INTO OUTFILE is refused.
      assert.equal(await scalar(op, "SELECT LOAD_FILE('/etc/passwd')"), null);
      await assert.rejects(op.query(`SELECT 1 INTO OUTFILE '${join(dir, 'out.txt')}'`), /denied/i);
    } finally {
      await op.end();
    }
  });

  it('the replication account can only replicate', async () => {
    const repl = await asReplication();
    const root = await connect(server.adminUser, server.adminPassword);
    // Writable, so that what is refused is refused for want of privileges.
    await root.query('SET GLOBAL read_only = OFF');
    try {
      await repl.query('SELECT @@gtid_binlog_pos');
      await assert.rejects(repl.query('SELECT * FROM mysql.user'), /denied/i);
      await assert.rejects(repl.query('CREATE DATABASE nope'), /denied/i);
      await assert.rejects(repl.query('SET GLOBAL read_only = OFF'), /denied|privilege/i);
      const grants = await repl.query<Record<string, string>[]>('SHOW GRANTS');
      assert.match(Object.values(grants[0] ?? {})[0] ?? '', /^GRANT REPLICATION SLAVE ON \*\.\* TO `flightdeck_replication`@`%`/);
    } finally {
      await root.query('SET GLOBAL read_only = ON');
      await Promise.all([repl.end(), root.end()]);
    }
  });
});
