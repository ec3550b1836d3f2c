// Live server settings on a real mariadbd, as the operator's account of a
// managed cluster (created by the instances' initdb SQL): reading global
// values, SET GLOBAL with the value bound, MariaDB's refusals reported
// clearly, and the applier writing only what differs — nothing at rest.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as mariadb from 'mariadb';
import { LiveSettingsApplier } from '../../src/controllers/cluster/managed/apply-live-settings.ts';
import { systemAccounts } from '../../src/controllers/cluster/managed/builders/names.ts';
import { credentialsSecret } from '../../src/controllers/cluster/managed/builders/secrets.ts';
import type { PodObject } from '../../src/controllers/cluster/managed/pods.ts';
import type { InstanceAccess } from '../../src/controllers/cluster/managed/replication/instance-access.ts';
import { InvalidServerVariableError } from '../../src/mysql/dynamic-variables.ts';
import { MySQLClient, type StatementKind } from '../../src/mysql/client.ts';
import { MySQLError } from '../../src/mysql/errors.ts';
import { startMariaDB, stopMariaDB, type MariaDBInstance } from '../env/mariadb.ts';

const passwords = { root: 'root-pw-not-used-here', replication: 'repl-pw-V1', operator: 'operator-pw-V2', manager: 'manager-pw-V3' };
const secret = credentialsSecret({ name: 'db', namespace: 'shop', uid: 'u' }, 'db-credentials', passwords);

let dir: string;
let server: MariaDBInstance;
let client: MySQLClient;
const statements: { kind: StatementKind; verb: string; failed: boolean }[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flightdeck-variables-'));
  server = await startMariaDB({ dir, name: 'instance-0', extraArgs: ['--server-id=100'] });
  const root = await mariadb.createConnection({ socketPath: server.socket, user: server.adminUser, password: server.adminPassword, multipleStatements: true });
  try {
    const sql = secret.stringData['initdb.sql'];
    assert.ok(sql !== undefined);
    await root.query(sql);
  } finally {
    await root.end();
  }
  client = MySQLClient.create(
    { host: server.host, port: server.port, user: systemAccounts.operator.user, password: passwords.operator, poolSize: 2 },
    (kind, verb, _ms, failed) => statements.push({ kind, verb, failed }),
  );
});

after(async () => {
  await client.close();
  await stopMariaDB(server);
  rmSync(dir, { recursive: true, force: true });
});

/** InstanceAccess over the one test server, named instance-0. */
const access: InstanceAccess = {
  client: (instance) => (instance === 'instance-0' ? client : undefined),
  discard: () => undefined,
  replicationSource: () => {
    throw new Error('not used by the applier');
  },
  isGone: () => false,
  observe: () => Promise.reject(new Error('not used by the applier')),
};
const pod = (uid: string, restartCount = 0): PodObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'instance-0', uid },
  status: { containerStatuses: [{ name: 'mariadb', ready: true, restartCount }] },
});
const writes = (): number => statements.filter((s) => s.kind === 'write').length;

describe('server variables through the SQL client, as the operator account', () => {
  it('reads global values as the server reports them, by lower-case name', async () => {
    const values = await client.variables.globalValues(['max_connections', 'slow_query_log', 'long_query_time', 'sql_mode']);
    assert.match(values.get('max_connections') ?? '', /^[0-9]+$/);
    assert.match(values.get('slow_query_log') ?? '', /^(ON|OFF)$/);
    assert.match(values.get('long_query_time') ?? '', /^[0-9]+\.[0-9]{6}$/);
    assert.ok(values.has('sql_mode'));
  });

  it('sets a dynamic variable with its value bound, and it is in effect at once', async () => {
    await client.variables.setGlobal('max_connections', 321);
    await client.variables.setGlobal('sql_mode', 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION');
    await client.variables.setGlobal('long_query_time', 0.25);
    await client.variables.setGlobal('slow_query_log', 'ON');
    const values = await client.variables.globalValues(['max_connections', 'sql_mode', 'long_query_time', 'slow_query_log']);
    assert.equal(values.get('max_connections'), '321');
    assert.equal(values.get('sql_mode'), 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION');
    assert.equal(values.get('long_query_time'), '0.250000');
    assert.equal(values.get('slow_query_log'), 'ON');
  });

  it('refuses a variable outside the allow-list without sending anything', async () => {
    const before = statements.length;
    await assert.rejects(client.variables.setGlobal('read_only', 'OFF'), InvalidServerVariableError);
    await assert.rejects(client.variables.setGlobal('max_connections', 'abc'), InvalidServerVariableError);
    assert.equal(statements.length, before);
  });

  it('a value MariaDB refuses is a MySQLError naming the statement and MariaDB\'s reason', async () => {
    await assert.rejects(client.variables.setGlobal('character_set_server', 'nosuchcharset'), (error: unknown) => {
      assert.ok(error instanceof MySQLError);
      assert.match(error.message, /SET GLOBAL failed on .*: .*nosuchcharset/i);
      assert.doesNotMatch(error.message, /SET GLOBAL `/, 'no SQL text in the message');
      return true;
    });
  });
});

describe('LiveSettingsApplier on a real server', () => {
  it('writes only what differs, then nothing at rest; a rounded value is not written again; a refused one is reported', async () => {
    const applier = new LiveSettingsApplier();
    const signal = new AbortController().signal;
    const settings = [
      { name: 'max_connections', value: 222 },
      { name: 'wait_timeout', value: 600 },
      // MariaDB rounds join_buffer_size to a multiple of 128.
      { name: 'join_buffer_size', value: 1000 },
    ];
    await client.variables.setGlobal('wait_timeout', 600);
    let t = 1_000_000;
    const beforeFirst = writes();
    const first = await applier.apply('shop/db', access, [{ instance: 'instance-0', pod: pod('uid-1') }], settings, t, signal);
    assert.deepEqual(first.get('instance-0'), { changed: ['max_connections = 222', 'join_buffer_size = 1000'] });
    assert.equal(writes() - beforeFirst, 2, 'wait_timeout was in line already');
    const values = await client.variables.globalValues(['max_connections', 'join_buffer_size']);
    assert.equal(values.get('max_connections'), '222');
    assert.notEqual(values.get('join_buffer_size'), '1000', 'MariaDB rounded it');

    // The same pod, unchanged settings: not even looked at.
    const before = statements.length;
    t += 1000;
    assert.equal((await applier.apply('shop/db', access, [{ instance: 'instance-0', pod: pod('uid-1') }], settings, t, signal)).size, 0);
    assert.equal(statements.length, before);

    // A new pod (a restart): read, compared, no write, rounded value included.
    t += 1000;
    const beforeRestart = writes();
    const again = await applier.apply('shop/db', access, [{ instance: 'instance-0', pod: pod('uid-2') }], settings, t, signal);
    assert.deepEqual(again.get('instance-0'), { changed: [] });
    assert.equal(writes(), beforeRestart);

    // A value MariaDB refuses: reported for the instance, kept until it is fixed.
    t += 1000;
    const refused = await applier.apply('shop/db', access, [{ instance: 'instance-0', pod: pod('uid-2') }], [...settings, { name: 'collation_server', value: 'no_such_collation' }], t, signal);
    assert.match(refused.get('instance-0')?.error ?? '', /^collation_server = no_such_collation: .*no_such_collation/);
    assert.match(applier.lastError('shop/db', 'instance-0') ?? '', /collation_server/);
  });
});
