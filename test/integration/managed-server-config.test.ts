// What a managed cluster's instances start with, tried on a real mariadbd:
// the generated my.cnf options are accepted, the initdb SQL creates the
// operator's two accounts and the replication account without writing a
// GTID, and each account can do exactly its job: the operator's replication
// control but no databases; the manager databases, users and grants, but
// nothing once read_only is on (a demoted writer refuses it, and demotion
// closes its sessions); the replication account only replicates. The
// Kubernetes side of it (the image, the StatefulSet) is the e2e tests' business.
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
import { MySQLClient } from '../../src/mysql/client.ts';
import { MySQLError } from '../../src/mysql/errors.ts';
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

const passwords = { root: 'root-pw-not-used-here', replication: 'repl-pw-Q2', operator: 'operator-pw-Z9', manager: 'manager-pw-K4' };
const secret = credentialsSecret({ name: 'db', namespace: 'shop', uid: 'u' }, 'db-credentials', passwords);

let dir: string;
let server: MariaDBInstance;

function connect(user: string, password: string): Promise<mariadb.Connection> {
  return mariadb.createConnection({ host: server.host, port: server.port, user, password });
}
const asOperator = () => connect(systemAccounts.operator.user, passwords.operator);
const asReplication = () => connect(systemAccounts.replication.user, passwords.replication);
const asManager = () => connect(systemAccounts.manager.user, passwords.manager);
/** The operator's SQL client, as the controllers use it, with one of its accounts. */
function clientAs(account: 'operator' | 'manager'): MySQLClient {
  return MySQLClient.create({ host: server.host, port: server.port, user: systemAccounts[account].user, password: passwords[account], poolSize: 2 });
}
/** MariaDB's ER_OPTION_PREVENTS_STATEMENT: "running with the --read-only option". */
const readOnlyRefusal = 1290;
const refusedByReadOnly = (error: unknown): boolean => error instanceof MySQLError && error.errno === readOnlyRefusal;

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

  it("the operator's account does replication control: read_only, semi-sync, live options, replication threads, RESET SLAVE ALL", async () => {
    const op = await asOperator();
    try {
      await op.query('SET GLOBAL read_only = OFF');
      assert.equal(Number(await scalar(op, 'SELECT @@read_only')), 0);
      await op.query('SET GLOBAL max_connections = 400');
      await op.query('SET GLOBAL max_allowed_packet = ?', [64 * 1024 * 1024]);
      await op.query('SET GLOBAL rpl_semi_sync_master_enabled = ON');
      await op.query('SET GLOBAL rpl_semi_sync_master_enabled = OFF');
      await op.query('SHOW SLAVE STATUS');
      await op.query('SELECT @@gtid_binlog_pos, @@gtid_current_pos, @@gtid_slave_pos');
      await op.query('SHOW BINLOG STATUS');
      await op.query('STOP SLAVE');
      await op.query('RESET SLAVE ALL');
      // sql_log_off keeps CHANGE MASTER's password out of the general log (configureReplica).
      await op.query('SET SESSION sql_log_off = ON');
      await op.query('SET GLOBAL read_only = ON');
      assert.equal(Number(await scalar(op, 'SELECT @@read_only')), 1);
    } finally {
      await op.end();
    }
  });

  it("the operator's account repairs the replication account on a read-only server, and sends no write when it is in place", async () => {
    const root = await connect(server.adminUser, server.adminPassword);
    const client = clientAs('operator');
    const replicationUser = systemAccounts.replication;
    try {
      await root.query('SET SESSION sql_log_bin = 0');
      await root.query('DROP USER ?@?', [replicationUser.user, replicationUser.host]);
      assert.deepEqual(await client.replication.ensureReplicationUser(replicationUser.user, replicationUser.host, passwords.replication), {
        created: true,
        passwordChanged: false,
        grantsChanged: true,
      });
      await root.query('REVOKE REPLICATION SLAVE ON *.* FROM ?@?', [replicationUser.user, replicationUser.host]);
      await root.query("ALTER USER ?@? IDENTIFIED BY 'stale'", [replicationUser.user, replicationUser.host]);
      assert.deepEqual(await client.replication.ensureReplicationUser(replicationUser.user, replicationUser.host, passwords.replication), {
        created: false,
        passwordChanged: true,
        grantsChanged: true,
      });
      // In place: reads only. A write here would wait for a semi-sync acknowledgement on a first writer.
      const position = await scalar(root, 'SELECT @@gtid_binlog_pos');
      assert.deepEqual(await client.replication.ensureReplicationUser(replicationUser.user, replicationUser.host, passwords.replication), {
        created: false,
        passwordChanged: false,
        grantsChanged: false,
      });
      assert.equal(await scalar(root, 'SELECT @@gtid_binlog_pos'), position);
    } finally {
      await client.close();
      await root.end();
    }
  });

  it("the operator's account cannot make databases or touch tables", async () => {
    const op = await asOperator();
    const root = await connect(server.adminUser, server.adminPassword);
    // Writable, so that what is refused is refused for want of privileges.
    await root.query('SET GLOBAL read_only = OFF');
    try {
      await assert.rejects(op.query('CREATE DATABASE op_made'), /denied/i);
      await assert.rejects(op.query('SELECT * FROM flightdeck_meta.owners'), /denied/i);
      await assert.rejects(op.query('UPDATE mysql.global_priv SET Priv = Priv'), /denied/i);
    } finally {
      await root.query('SET GLOBAL read_only = ON');
      await Promise.all([op.end(), root.end()]);
    }
  });

  it('the manager account makes databases, users and grants through the SQL client while the server is writable', async () => {
    const root = await connect(server.adminUser, server.adminPassword);
    const manager = clientAs('manager');
    await root.query('SET GLOBAL read_only = OFF');
    try {
      await manager.createDatabase('site_a', { charset: 'utf8mb4' });
      assert.equal((await manager.getDatabase('site_a'))?.charset, 'utf8mb4');
      const owner = { namespace: 'shop', name: 'site-a', uid: 'uid-1' };
      assert.deepEqual(await manager.claimOwner('database', 'site_a', owner), owner);
      await manager.createUser('site_user', '%', 'site-password-1');
      await manager.setGrants('site_user', '%', [{ database: 'site_a', table: '*', privileges: ['ALL PRIVILEGES'], withGrantOption: true }], { newAccount: true });
      await manager.setGrants('site_user', '%', [{ database: 'site_a', table: '*', privileges: ['SELECT', 'INSERT'], withGrantOption: false }]);
      assert.deepEqual(await manager.getGrants('site_user', '%'), [{ database: 'site_a', table: '*', privileges: ['SELECT', 'INSERT'], withGrantOption: false }]);
      await manager.setPassword('site_user', '%', 'site-password-2');
      const site = await connect('site_user', 'site-password-2');
      await site.end();
    } finally {
      await root.query('SET GLOBAL read_only = ON');
      await manager.close();
      await root.end();
    }
  });

  it('the manager account cannot write on a read-only server (1290), nor lift read_only, kill sessions, read files or control replication', async () => {
    const manager = await asManager();
    try {
      assert.equal(Number(await scalar(manager, 'SELECT @@read_only')), 1);
      for (const statement of [
        'CREATE DATABASE errant',
        "CREATE USER 'errant'@'%'",
        "GRANT SELECT ON `site\\_a`.* TO 'site_user'@'%'",
        "DROP USER 'site_user'@'%'",
        'DROP DATABASE site_a',
        "INSERT INTO flightdeck_meta.owners (kind, `key`, namespace, name, uid) VALUES ('database', 'x', 'n', 'n', 'u')",
      ]) {
        await assert.rejects(manager.query(statement), (error: { errno?: number }) => error.errno === readOnlyRefusal, statement);
      }
      // Through the SQL client the controllers use: a MySQLError with MariaDB's number.
      const client = clientAs('manager');
      try {
        await assert.rejects(client.createDatabase('errant', {}), refusedByReadOnly);
        await assert.rejects(client.createUser('errant', '%', 'pw'), refusedByReadOnly);
      } finally {
        await client.close();
      }
      await assert.rejects(manager.query('SET GLOBAL read_only = OFF'), /denied|privilege/i);
      await assert.rejects(manager.query('SET GLOBAL max_connections = 500'), /denied|privilege/i);
      await assert.rejects(manager.query('STOP SLAVE'), /denied|privilege/i);
      await assert.rejects(manager.query('SHOW BINLOG STATUS'), /denied|privilege/i);
      assert.equal(await scalar(manager, "SELECT LOAD_FILE('/etc/passwd')"), null);
      const root = await connect(server.adminUser, server.adminPassword);
      try {
        await assert.rejects(manager.query('KILL CONNECTION ?', [await scalar(root, 'SELECT CONNECTION_ID()')]), /not owner|denied/i);
      } finally {
        await root.end();
      }
      const grants = (await manager.query<Record<string, string>[]>('SHOW GRANTS')).map((row) => Object.values(row)[0] ?? '').join('\n');
      assert.match(grants, /GRANT SELECT, .*CREATE USER.* ON \*\.\* TO `flightdeck_manager`@`%`.* WITH GRANT OPTION/);
      assert.doesNotMatch(grants, /SUPER|READ_ONLY ADMIN|CONNECTION ADMIN|\bFILE\b|REPLICATION|BINLOG|PROCESS|RELOAD|SHUTDOWN/);
    } finally {
      await manager.end();
    }
  });

  it("a demotion closes the manager's and applications' sessions and spares the operator's and replication accounts", async () => {
    const operator = clientAs('operator');
    const manager = await asManager();
    const app = await connect('site_user', 'site-password-2');
    const replication = await asReplication();
    // The killed sessions' connections report their end as an error event; expected, and checked below.
    const managerClosed = new Promise<Error>((resolve) => manager.once('error', resolve));
    const appClosed = new Promise<Error>((resolve) => app.once('error', resolve));
    try {
      await operator.replication.promote({ semiSyncMaster: false });
      const killed = await operator.replication.demote({ exceptUsers: [systemAccounts.operator.user, systemAccounts.replication.user] });
      assert.ok(killed >= 2, `killed ${killed}`);
      await assert.rejects(manager.query('SELECT 1'));
      await assert.rejects(app.query('SELECT 1'));
      assert.match(String(await managerClosed), /closed|killed/i);
      assert.match(String(await appClosed), /closed|killed/i);
      assert.equal(Number(await scalar(replication, 'SELECT 1')), 1, 'the replication account was killed');
      assert.equal((await operator.replication.replicationState()).readOnly, true);
    } finally {
      await operator.close();
      await Promise.all([manager.end().catch(() => undefined), app.end().catch(() => undefined), replication.end()]);
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
