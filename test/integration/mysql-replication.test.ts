// Replication through the SQL client against real MariaDB 10.11 processes:
// each test starts its own replica set (one primary, two replicas) and wires
// it with the code under test, then checks what a failover would rely on —
// rows replicate, the state says who is what and how far along, semi-sync
// blocks a write instead of silently dropping to async, fencing and
// switching roles lose nothing, broken replicas say why, and the replication
// password stays out of errors and logs.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, describe, it, type TestContext } from 'node:test';
import { describeSqlError } from '../../src/mysql/errors.ts';
import { MySQLClient } from '../../src/mysql/client.ts';
import { ReplicaConnectionError, replicationControlPrivileges } from '../../src/mysql/replication.ts';
import { freePort } from '../env/ports.ts';
import {
  adminQuery,
  connect,
  outcomeWithin,
  replicationPassword,
  replicationUser,
  sourceOf,
  startWiredReplicaSet,
  stateWhen,
  type ReplicaSetMember,
  type WiredReplicaSet,
} from './mysql-replication-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'flightdeck-replication-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

let sets = 0;

/** A wired set of three for one test, stopped when the test ends. */
async function replicaSet(t: TestContext, semiSync?: { timeoutMs: number; waitNoSlave: boolean }): Promise<WiredReplicaSet & { primary: ReplicaSetMember; replicas: [ReplicaSetMember, ReplicaSetMember] }> {
  const set = await startWiredReplicaSet({ dir, name: `set${++sets}`, count: 3, ...(semiSync !== undefined && { semiSync }) });
  t.after(() => set.stop());
  const [primary, first, second] = set.members;
  assert.ok(primary && first && second);
  return { ...set, primary, replicas: [first, second] };
}

const appUser = 'shop_app';
const appPassword = 'shop-app-pw';

/** A database with a table and an application account with ALL on it, made on the primary (so they replicate). */
async function shopDatabase(primary: ReplicaSetMember): Promise<void> {
  await primary.client.createDatabase('shop', {});
  await adminQuery(primary.server, 'CREATE TABLE shop.orders (id INT PRIMARY KEY, note VARCHAR(100) NOT NULL)');
  await primary.client.createUser(appUser, '%', appPassword);
  await primary.client.setGrants(appUser, '%', [{ database: 'shop', table: '*', privileges: ['ALL'], withGrantOption: false }]);
}

async function insertOrders(member: ReplicaSetMember, ids: readonly number[]): Promise<void> {
  for (const id of ids) await adminQuery(member.server, 'INSERT INTO shop.orders VALUES (?, ?)', [id, `order ${id}`]);
}

async function orderIds(member: ReplicaSetMember): Promise<number[]> {
  const rows = await adminQuery<{ id: number }[]>(member.server, 'SELECT id FROM shop.orders ORDER BY id');
  return rows.map((r) => r.id);
}

/** Waits until `replica` has applied everything `primary` has written. */
async function caughtUp(replica: ReplicaSetMember, primary: ReplicaSetMember): Promise<void> {
  const position = (await primary.client.replication.replicationState()).gtidBinlogPos;
  assert.equal(await replica.client.replication.waitForGtid(position, 20), 'reached', `${replica.server.name} reaches ${position}`);
}

/** Calls `read` until `done` holds for what it returns, at most 10 s; the last value then. */
async function stateUntil<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Everything about an error a log line or a condition could show. */
function everythingShown(error: unknown): string {
  return [String(error), inspect(error, { depth: 10 }), JSON.stringify(error), error instanceof Error ? String(error.stack) : '', describeSqlError(error)].join('\n');
}

describe('MySQLClient replication', () => {
  it('wires replicas that replicate rows, and reports roles, threads, GTIDs and lag', async (t) => {
    const { primary, replicas } = await replicaSet(t);
    await shopDatabase(primary);
    await insertOrders(primary, [1, 2, 3]);
    for (const replica of replicas) await caughtUp(replica, primary);
    for (const replica of replicas) assert.deepEqual(await orderIds(replica), [1, 2, 3]);

    const p = await primary.client.replication.replicationState();
    assert.equal(p.serverId, 1);
    assert.equal(p.readOnly, false);
    assert.equal(p.logBin, true);
    assert.equal(p.gtidStrictMode, true);
    assert.equal(p.replica, undefined);
    assert.match(p.gtidBinlogPos, /^0-1-\d+$/);
    assert.equal(await primary.client.replication.currentGtid(), p.gtidCurrentPos);

    for (const [i, replica] of replicas.entries()) {
      const r = await replica.client.replication.replicationState();
      assert.equal(r.serverId, i + 2);
      assert.equal(r.readOnly, true);
      assert.equal(r.gtidSlavePos, p.gtidBinlogPos);
      assert.equal(r.gtidCurrentPos, p.gtidBinlogPos);
      assert.deepEqual(
        { ...r.replica, sqlState: undefined },
        {
          sourceHost: primary.server.host,
          sourcePort: primary.server.port,
          sourceUser: replicationUser,
          sourceServerId: 1,
          usingGtid: 'Slave_Pos',
          ioThread: 'Yes',
          sqlRunning: true,
          secondsBehind: 0,
          lastIoErrno: 0,
          lastIoError: '',
          lastSqlErrno: 0,
          lastSqlError: '',
          gtidIoPos: p.gtidBinlogPos,
          sqlState: undefined,
        },
      );
    }

    // Lag: a lock on the replica holds its SQL thread while the primary writes on.
    const [lagging] = replicas;
    const locker = await connect(lagging.server, lagging.server.adminUser, lagging.server.adminPassword);
    try {
      await locker.query('LOCK TABLES shop.orders WRITE');
      await insertOrders(primary, [4]);
      const written = (await primary.client.replication.replicationState()).gtidBinlogPos;
      const behind = await stateWhen(lagging, 'at least 2 s behind', (s) => (s.replica?.secondsBehind ?? 0) >= 2);
      assert.equal(behind.replica?.gtidIoPos, written, 'received what the primary wrote');
      assert.notEqual(behind.gtidSlavePos, written, 'but not applied it');
      assert.equal(await lagging.client.replication.waitForGtid(written, 0.5), 'timeout');
      await locker.query('UNLOCK TABLES');
      assert.equal(await lagging.client.replication.waitForGtid(written, 20), 'reached');
    } finally {
      await locker.end();
    }
    const settled = await stateWhen(lagging, 'no lag', (s) => s.replica?.secondsBehind === 0);
    assert.equal(settled.gtidSlavePos, (await primary.client.replication.replicationState()).gtidBinlogPos);
    assert.deepEqual(await orderIds(lagging), [1, 2, 3, 4]);
  });

  it('creates the replication account once, with REPLICATION SLAVE only, and fixes its password', async (t) => {
    const { primary, replicas } = await replicaSet(t);
    assert.deepEqual(await primary.client.replication.ensureReplicationUser(replicationUser, '%', replicationPassword), {
      created: false,
      passwordChanged: false,
      grantsChanged: false,
    });
    assert.deepEqual(await primary.client.getGrants(replicationUser, '%'), [{ database: '*', table: '*', privileges: ['REPLICATION SLAVE'], withGrantOption: false }]);
    // It was made on the primary before the replicas connected, so they have it too: any of them can be promoted.
    for (const replica of replicas) assert.ok(await replica.client.getUser(replicationUser, '%'));
    assert.deepEqual(await primary.client.replication.ensureReplicationUser(replicationUser, '%', 'rotated-pw'), {
      created: false,
      passwordChanged: true,
      grantsChanged: false,
    });
    await connect(primary.server, replicationUser, 'rotated-pw').then((c) => c.end());
  });

  it('semi-sync with AFTER_SYNC: a write blocks while no replica receives, and returns once one does', async (t) => {
    const { primary, replicas } = await replicaSet(t, { timeoutMs: 3_600_000, waitNoSlave: true });
    await shopDatabase(primary);
    const p = await stateWhen(primary, 'two semi-sync replicas', (s) => s.semiSync.masterClients === 2);
    assert.equal(p.semiSync.masterEnabled, true);
    assert.equal(p.semiSync.masterActive, true);
    assert.equal(p.semiSync.masterWaitPoint, 'AFTER_SYNC');
    assert.equal(p.semiSync.masterWaitNoSlave, true);
    assert.equal(p.semiSync.masterTimeoutMs, 3_600_000);
    assert.ok(p.semiSync.masterAcknowledgedCommits > 0, 'the shop database was acknowledged');
    for (const replica of replicas) {
      const r = await replica.client.replication.replicationState();
      assert.equal(r.semiSync.slaveEnabled, true);
      assert.equal(r.semiSync.slaveActive, true);
    }

    for (const replica of replicas) await replica.client.replication.stopReplicationIo();
    await stateWhen(primary, 'no semi-sync replica', (s) => s.semiSync.masterClients === 0);

    const app = await connect(primary.server, appUser, appPassword);
    t.after(() => {
      app.destroy();
    });
    const started = performance.now();
    const write = app.query('INSERT INTO shop.orders VALUES (1, ?)', ['acknowledged only with a replica']);
    assert.equal(await outcomeWithin(write, 3000), 'pending', 'the commit waits for an acknowledgement');
    const waiting = await primary.client.replication.replicationState();
    assert.equal(waiting.semiSync.masterWaitSessions, 1);
    assert.equal(waiting.semiSync.masterActive, true, 'still semi-synchronous');
    assert.equal(waiting.semiSync.masterFallbacks, 0, 'never fell back to async');

    await replicas[0].client.replication.startReplication();
    assert.equal(await outcomeWithin(write, 15_000), 'resolved', 'the commit returns once a replica has it');
    const blockedMs = performance.now() - started;
    t.diagnostic(`write blocked ${Math.round(blockedMs)} ms while no replica received`);
    assert.ok(blockedMs >= 3000);
    // Acknowledged means received: the replica that came back has the row.
    assert.equal(await replicas[0].client.replication.waitForGtid(await primary.client.replication.currentGtid(), 20), 'reached');
    assert.deepEqual(await orderIds(replicas[0]), [1]);
    const after = await primary.client.replication.replicationState();
    assert.equal(after.semiSync.masterUnacknowledgedCommits, 0);
    assert.equal(after.semiSync.masterFallbacks, 0);
  });

  it('restarts the IO thread when the replica side of semi-sync is switched, so it takes effect', async (t) => {
    const { primary, replicas } = await replicaSet(t);
    const settings = { timeoutMs: 10_000, waitNoSlave: true };
    const [replica] = replicas;
    assert.equal((await replica.client.replication.replicationState()).semiSync.slaveActive, false);
    assert.deepEqual(await replica.client.replication.setSemiSync({ ...settings, master: false, slave: true }), { ioThreadRestarted: true });
    assert.deepEqual(await replica.client.replication.setSemiSync({ ...settings, master: false, slave: true }), { ioThreadRestarted: false });
    await primary.client.replication.setSemiSync({ ...settings, master: true, slave: false });
    await stateWhen(replica, 'acknowledging', (s) => s.semiSync.slaveActive && s.replica?.ioThread === 'Yes');
    await stateWhen(primary, 'one semi-sync replica', (s) => s.semiSync.masterClients === 1 && s.semiSync.masterActive);
  });

  it('read-only refuses writes of an ordinary user, and only those', async (t) => {
    const { primary } = await replicaSet(t);
    await shopDatabase(primary);
    const app = await connect(primary.server, appUser, appPassword);
    t.after(() => {
      app.destroy();
    });
    await primary.client.replication.setReadOnly(true);
    assert.equal((await primary.client.replication.replicationState()).readOnly, true);
    await assert.rejects(app.query('INSERT INTO shop.orders VALUES (1, ?)', ['refused']), (e: unknown) => (e as { errno?: number }).errno === 1290);
    assert.deepEqual(await app.query('SELECT COUNT(*) AS n FROM shop.orders'), [{ n: 0n }], 'reads go on');
    await primary.client.replication.setReadOnly(false);
    await app.query('INSERT INTO shop.orders VALUES (1, ?)', ['accepted']);
    assert.deepEqual(await orderIds(primary), [1]);
  });

  it('kills application connections, but not its own, those it is told to spare, or replication', async (t) => {
    const { primary, replicas } = await replicaSet(t);
    await shopDatabase(primary);
    await primary.client.createUser('monitor', '%', 'monitor-pw');
    const app = await connect(primary.server, appUser, appPassword);
    const monitor = await connect(primary.server, 'monitor', 'monitor-pw');
    const own = await connect(primary.server, primary.server.adminUser, primary.server.adminPassword);
    t.after(() => {
      for (const c of [app, monitor, own]) c.destroy();
    });
    const dumpThreads = async (): Promise<bigint | undefined> =>
      (await adminQuery<{ n: bigint }[]>(primary.server, "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump'"))[0]?.n;
    assert.equal(await dumpThreads(), 2n);

    assert.equal(await primary.client.replication.killClientConnections(['monitor']), 1);
    await assert.rejects(app.query('SELECT 1'), (e: unknown) => e instanceof Error, 'the application connection is gone');
    assert.equal(app.isValid(), false);
    await monitor.query('SELECT 1');
    await own.query('SELECT 1');
    assert.equal(await dumpThreads(), 2n, 'replicas still read the binary log');
    for (const replica of replicas) assert.equal((await replica.client.replication.replicationState()).replica?.ioThread, 'Yes');
  });

  it('switches roles with demote and promote; the old primary and the other replica follow with no data loss', async (t) => {
    const { primary: a, replicas } = await replicaSet(t, { timeoutMs: 3_600_000, waitNoSlave: true });
    const [b, c] = replicas;
    await shopDatabase(a);
    await insertOrders(a, [1, 2, 3]);
    const app = await connect(a.server, appUser, appPassword);

    // The old primary: fenced.
    assert.ok((await a.client.replication.demote({ exceptUsers: [] })) >= 1, 'the application connection was killed');
    await assert.rejects(app.query('SELECT 1'));
    const fenced = await connect(a.server, appUser, appPassword);
    t.after(() => {
      fenced.destroy();
    });
    await assert.rejects(fenced.query('INSERT INTO shop.orders VALUES (4, ?)', ['lost?']), (e: unknown) => (e as { errno?: number }).errno === 1290);
    const last = (await a.client.replication.replicationState()).gtidBinlogPos;

    // The new one: caught up, then promoted.
    assert.equal(await b.client.replication.waitForGtid(last, 20), 'reached');
    await b.client.replication.promote({ semiSyncMaster: true });
    await b.client.replication.setSemiSync({ master: true, slave: true, timeoutMs: 3_600_000, waitNoSlave: true });
    const promoted = await b.client.replication.replicationState();
    assert.equal(promoted.replica, undefined);
    assert.equal(promoted.readOnly, false);
    assert.equal(promoted.semiSync.masterEnabled, true);

    await c.client.replication.configureReplica(sourceOf(b.server), { waitConnectedMs: 20_000 });
    await a.client.replication.configureReplica(sourceOf(b.server), { fromOwnBinlog: true, waitConnectedMs: 20_000 });
    await a.client.replication.setSemiSync({ master: false, slave: true, timeoutMs: 3_600_000, waitNoSlave: true });

    const onB = await connect(b.server, appUser, appPassword);
    t.after(() => {
      onB.destroy();
    });
    await onB.query('INSERT INTO shop.orders VALUES (4, ?)', ['written on the new primary']);
    for (const member of [a, c]) await caughtUp(member, b);
    for (const member of [a, b, c]) assert.deepEqual(await orderIds(member), [1, 2, 3, 4], member.server.name);
    const bState = await stateWhen(b, 'both replicas acknowledging', (s) => s.semiSync.masterClients === 2);
    for (const member of [a, c]) {
      const s = await member.client.replication.replicationState();
      assert.equal(s.readOnly, true);
      assert.equal(s.replica?.sourcePort, b.server.port);
      assert.equal(s.replica.sourceServerId, 2);
      assert.equal(s.replica.ioThread, 'Yes');
      assert.equal(s.replica.sqlRunning, true);
      assert.equal(s.gtidCurrentPos, bState.gtidBinlogPos);
    }
  });

  it('switches over as an account holding only replicationControlPrivileges', async (t) => {
    const { primary: a, replicas } = await replicaSet(t, { timeoutMs: 3_600_000, waitNoSlave: true });
    const [b, c] = replicas;
    await shopDatabase(a);
    const operatorPassword = 'operator-pw';
    await a.client.createUser('operator', '%', operatorPassword);
    await a.client.setGrants('operator', '%', [{ database: '*', table: '*', privileges: [...replicationControlPrivileges], withGrantOption: false }]);
    const [opA, opB, opC] = [a, b, c].map((m) => MySQLClient.create({ host: m.server.host, port: m.server.port, user: 'operator', password: operatorPassword }));
    assert.ok(opA && opB && opC);
    t.after(() => Promise.all([opA, opB, opC].map((client) => client.close())));
    // Both replicas have the operator account before it connects to them.
    for (const member of [b, c]) await member.client.replication.waitForGtid(await a.client.replication.currentGtid(), 20);
    // And both stream from it as semi-sync replicas: a replica's connection still being set up is not yet a
    // binlog dump, so demote would count it among the application connections it kills.
    await stateWhen(a, 'both replicas acknowledging', (state) => state.semiSync.masterClients === 2);
    const app = await connect(a.server, appUser, appPassword);

    assert.equal(await opA.replication.demote({ exceptUsers: [a.server.adminUser] }), 1, 'the application connection, seen and killed');
    await assert.rejects(app.query('SELECT 1'));
    assert.equal(await opB.replication.waitForGtid((await opA.replication.replicationState()).gtidBinlogPos, 20), 'reached');
    await opB.replication.promote({ semiSyncMaster: true });
    await opC.replication.configureReplica(sourceOf(b.server), { waitConnectedMs: 20_000 });
    await opA.replication.configureReplica(sourceOf(b.server), { fromOwnBinlog: true, waitConnectedMs: 20_000 });
    await opA.replication.setSemiSync({ master: false, slave: true, timeoutMs: 3_600_000, waitNoSlave: true });
    await insertOrders(b, [1]);
    for (const member of [a, c]) await caughtUp(member, b);
    for (const member of [a, b, c]) assert.deepEqual(await orderIds(member), [1], member.server.name);
  });

  it('reports an errant transaction on a replica as the strict-mode error 1950', async (t) => {
    const { primary, replicas } = await replicaSet(t);
    await shopDatabase(primary);
    const [, errant] = replicas;
    await caughtUp(errant, primary);
    // The admin bypasses read_only (READ_ONLY ADMIN): exactly how a replica gets a transaction its primary lacks.
    await insertOrders(errant, [100]);
    const own = await errant.client.replication.replicationState();
    assert.match(own.gtidBinlogPos, /^0-3-\d+$/, 'the replica wrote under its own server id');
    await insertOrders(primary, [1]);
    const stopped = await stateWhen(errant, 'SQL thread stopped', (s) => s.replica?.sqlRunning === false);
    assert.equal(stopped.replica?.lastSqlErrno, 1950);
    assert.match(stopped.replica.lastSqlError, /out-of-order sequence number/);
    assert.equal(stopped.replica.ioThread, 'Yes', 'it still receives');
  });

  it('refuses to rejoin an old primary holding a transaction the new primary lacks: IO error 1236', async (t) => {
    const { primary: a, replicas } = await replicaSet(t);
    const [b] = replicas;
    await shopDatabase(a);
    await a.client.replication.demote({ exceptUsers: [] });
    assert.equal(await b.client.replication.waitForGtid((await a.client.replication.replicationState()).gtidBinlogPos, 20), 'reached');
    await b.client.replication.promote({ semiSyncMaster: false });
    // Written on the old primary after the new one took over: e.g. a commit that never got its acknowledgement.
    await insertOrders(a, [100]);
    const error = await a.client.replication.configureReplica(sourceOf(b.server), { fromOwnBinlog: true, waitConnectedMs: 20_000 }).then(
      () => assert.fail('an old primary with an errant transaction must not rejoin'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ReplicaConnectionError, inspect(error));
    assert.equal(error.errno, 1236);
    assert.match(error.message, /not in the master's binlog|which is not in/i);
    const state = await a.client.replication.replicationState();
    assert.equal(state.replica?.lastIoErrno, 1236);
    assert.deepEqual(await orderIds(b), [], 'nothing of it reached the new primary');
  });

  it('reports a replica whose primary purged the binary logs it needs as IO error 1236', async (t) => {
    const { primary, replicas } = await replicaSet(t);
    await shopDatabase(primary);
    const [, behind] = replicas;
    await caughtUp(behind, primary);
    await behind.client.replication.stopReplication();
    await insertOrders(primary, [1, 2]);
    await adminQuery(primary.server, 'FLUSH BINARY LOGS');
    const [current] = await adminQuery<{ File: string }[]>(primary.server, 'SHOW MASTER STATUS');
    assert.ok(current);
    // The other replica may still be reading the old file, which keeps it; try until it is gone.
    const purged = await stateUntil(async () => {
      await adminQuery(primary.server, `PURGE BINARY LOGS TO '${current.File}'`);
      return (await adminQuery<{ Log_name: string }[]>(primary.server, 'SHOW BINARY LOGS')).map((l) => l.Log_name);
    }, (files) => files.length === 1);
    assert.deepEqual(purged, [current.File]);

    await behind.client.replication.startReplication();
    const broken = await stateWhen(behind, 'an IO error', (s) => (s.replica?.lastIoErrno ?? 0) !== 0);
    assert.equal(broken.replica?.lastIoErrno, 1236);
    assert.match(broken.replica.lastIoError, /purged|not in the master's binlog|Could not find GTID state/i);
    assert.notEqual(broken.replica.ioThread, 'Yes');

    // configureReplica says the same, as an error, when asked to wait for the connection.
    const error = await behind.client.replication.configureReplica(sourceOf(primary.server), { waitConnectedMs: 20_000 }).then(
      () => assert.fail('the replica cannot connect'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ReplicaConnectionError);
    assert.equal(error.errno, 1236);
  });

  it('keeps the replication password out of errors, replica status, the general log and the error log', async (t) => {
    const { primary, replicas } = await replicaSet(t);
    const [replica] = replicas;
    const log = join(dir, `general-${sets}.log`);
    await adminQuery(replica.server, 'SET GLOBAL general_log_file = ?, GLOBAL general_log = ON', [log]);

    const wrong = `Wrong-${process.pid}-pw`;
    const denied = await replica.client.replication.configureReplica(sourceOf(primary.server, wrong), { waitConnectedMs: 20_000 }).then(
      () => assert.fail('a wrong password must not connect'),
      (e: unknown) => e,
    );
    assert.ok(denied instanceof ReplicaConnectionError, inspect(denied));
    assert.equal(denied.errno, 1045);
    assert.match(denied.message, /Access denied/);
    assert.equal(everythingShown(denied).includes(wrong), false);
    assert.equal(JSON.stringify(await replica.client.replication.replicationState()).includes(wrong), false);

    const closedPort = await freePort();
    const unreachable = await replica.client.replication
      .configureReplica({ ...sourceOf(primary.server), port: closedPort }, { waitConnectedMs: 20_000 })
      .then(
        () => assert.fail('nothing listens there'),
        (e: unknown) => e,
      );
    assert.ok(unreachable instanceof ReplicaConnectionError, inspect(unreachable));
    assert.equal(unreachable.errno, 2003);
    assert.equal(everythingShown(unreachable).includes(replicationPassword), false);

    // A password with quotes, a backslash and a semicolon arrives intact.
    const awkward = `it's "a" \\ pass;word ${process.pid}`;
    await primary.client.replication.ensureReplicationUser('awkward', '%', awkward);
    await replica.client.replication.configureReplica({ ...sourceOf(primary.server, awkward), user: 'awkward' }, { waitConnectedMs: 20_000 });

    await adminQuery(replica.server, 'SET GLOBAL general_log = OFF');
    const text = readFileSync(log, 'utf8');
    assert.match(text, /SHOW ALL SLAVES STATUS/, 'the general log was on');
    const errorLog = readFileSync(replica.server.process.logFile, 'utf8');
    assert.match(errorLog, /Access denied for user 'replication'/, 'the replica logged its failed attempts');
    for (const secret of [wrong, replicationPassword, awkward]) {
      assert.equal(text.includes(secret), false, `${secret} in the general log`);
      assert.equal(errorLog.includes(secret), false, `${secret} in the error log`);
    }
  });

  it('refuses a malformed source before sending anything', async (t) => {
    const { primary, replicas } = await replicaSet(t);
    const [replica] = replicas;
    await assert.rejects(replica.client.replication.configureReplica({ ...sourceOf(primary.server), host: "h', MASTER_HOST='evil" }), /invalid replication source host/);
    await assert.rejects(replica.client.replication.configureReplica({ ...sourceOf(primary.server), password: '' }), /empty password/);
    await assert.rejects(replica.client.replication.waitForGtid("0-1-1'", 1), /not a GTID position/);
    const state = await replica.client.replication.replicationState();
    assert.equal(state.replica?.sourcePort, primary.server.port, 'the replica still follows its primary');
    assert.equal(state.replica.ioThread, 'Yes');
  });
});
