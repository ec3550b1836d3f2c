// Failover and switchover against real mariadbd processes that are killed,
// cut off the network and restarted, driven by the operator's own decision and
// step code (src/replication, src/controllers/cluster/managed/replication)
// through test/env/process-cluster.ts instead of pods. What is asserted is
// what a user sees: which server takes writes, that no acknowledged write is
// missing, how long writes stopped, what the cluster reports.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as mariadb from 'mariadb';
import { formatGtidList } from '../../src/replication/gtid.ts';
import { adminConnection, killMember, restartMember } from '../env/process-cluster-members.ts';
import { readStatus, type ClusterStatus } from '../env/process-cluster-status.ts';
import { describeTick, type TickLoop } from '../env/process-cluster.ts';
import { firstWriteAfter, longestGap, missingWrites, startWriteLoad, type WriteLoadResult } from '../env/write-load.ts';
import { startClusterFixture, straightTo, throughProxy, type ClusterFixture } from './replication-failover-support.ts';

const root = mkdtempSync(join(tmpdir(), 'flightdeck-failover-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Bootstraps a fresh fixture: ticks until the cluster is steady (writer chosen, replicas replicating). */
async function steady(fixture: ClusterFixture, timeoutMs = 20_000): Promise<void> {
  await fixture.cluster.tickUntil('a steady cluster', (r) => r.decision.kind === 'steady', timeoutMs);
}

/** Polls `check` every 50 ms; on timeout, throws with `what` and what `describe` says of the last state. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms. ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function status(fixture: ClusterFixture): ClusterStatus {
  return readStatus(fixture.description.statusFile);
}

function lastTicks(fixture: ClusterFixture, count = 6): string {
  return `last ticks:\n  ${fixture.cluster.ticks.slice(-count).map(describeTick).join('\n  ')}`;
}

/** Runs the operator's loop for the rest of the test (stopped in t.after unless stopped before). */
function operatorLoop(t: { after: (fn: () => Promise<void>) => void }, fixture: ClusterFixture): TickLoop {
  const loop = fixture.cluster.startLoop();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await loop.stop();
  };
  t.after(stop);
  return { stop };
}

/** Waits until member `index` has applied everything the writer `primaryIndex` has in its binary log. */
async function caughtUp(fixture: ClusterFixture, index: number, primaryIndex: number): Promise<void> {
  const position = (await fixture.state(primaryIndex)).gtidBinlogPos;
  await fixture.stateWhen(index, `applied ${position}`, (s) => s.gtidCurrentPos === position);
}

/** Checks that every acknowledged write is on member `index`. */
async function assertNoneMissing(fixture: ClusterFixture, index: number, result: WriteLoadResult): Promise<void> {
  assert.ok(result.acknowledged.length > 0, 'the load acknowledged no write at all');
  assert.deepEqual(await missingWrites(straightTo(fixture, index), result), [], `acknowledged writes missing on ${fixture.member(index).name}`);
}

/** A write load through the writer endpoint, stopped after the test if the test did not stop it. */
async function writeLoad(t: { after: (fn: () => Promise<void>) => void }, fixture: ClusterFixture): Promise<{ waitForWrites: (count: number, timeoutMs: number) => Promise<void>; stop: () => Promise<WriteLoadResult> }> {
  const load = await startWriteLoad(throughProxy(fixture));
  let result: Promise<WriteLoadResult> | undefined;
  const stop = (): Promise<WriteLoadResult> => (result ??= load.stop());
  t.after(async () => {
    await stop();
  });
  return { waitForWrites: (count, timeoutMs) => load.waitForWrites(count, timeoutMs), stop };
}

async function query<T>(options: { host: string; port: number; user: string; password: string }, sql: string, values: unknown[] = []): Promise<T> {
  const connection = await mariadb.createConnection({ ...options, connectTimeout: 2000 });
  try {
    return await connection.query<T>(sql, values);
  } finally {
    await connection.end();
  }
}

test('bootstrap: member 0 becomes the writer, the others replicate from it, read-only', async (t) => {
  const fixture = await startClusterFixture({ root, name: 'boot' });
  t.after(() => fixture.stop());
  await steady(fixture);

  assert.equal(fixture.cluster.recorder.read().currentPrimary, 'boot-0');
  assert.deepEqual(fixture.proxy.target, { host: fixture.member(0).host, port: fixture.member(0).port });
  const primary = await fixture.state(0);
  assert.equal(primary.readOnly, false);
  assert.equal(primary.replica, undefined);
  for (const index of [1, 2]) {
    const replica = await fixture.stateWhen(index, 'both threads running', (s) => s.replica?.ioThread === 'Yes' && s.replica.sqlRunning);
    assert.equal(replica.readOnly, true);
    assert.equal(replica.replica?.sourcePort, fixture.member(0).port);
  }

  const app = throughProxy(fixture);
  await query(app, 'CREATE TABLE app.pages (id INT PRIMARY KEY, title VARCHAR(100))');
  await query(app, 'INSERT INTO app.pages VALUES (1, ?)', ['Hello']);
  for (const index of [1, 2]) {
    await fixture.stateWhen(index, 'the row applied', (s) => s.gtidCurrentPos === primary.gtidBinlogPos || s.gtidCurrentPos !== '');
    const rows = await waitForRows(fixture, index, 'SELECT title FROM app.pages WHERE id = 1');
    assert.deepEqual(rows, [{ title: 'Hello' }]);
  }
  // The application cannot write on a replica.
  await assert.rejects(query(straightTo(fixture, 1), 'INSERT INTO app.pages VALUES (2, ?)', ['No']), /read-only/);
});

async function waitForRows(fixture: ClusterFixture, index: number, sql: string, timeoutMs = 10_000): Promise<unknown[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await query<unknown[]>(straightTo(fixture, index), sql);
    if (rows.length > 0 || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}


test('switchover (spec.primary changed) under write load: nothing acknowledged is lost, writes pause briefly, the old primary rejoins', async (t) => {
  const fixture = await startClusterFixture({ root, name: 'swo' });
  t.after(() => fixture.stop());
  await steady(fixture);
  const loop = operatorLoop(t, fixture);
  const load = await writeLoad(t, fixture);
  await load.waitForWrites(200, 15_000);

  fixture.description.spec.desiredPrimaryIndex = 1;
  await waitFor('the switchover to swo-1 done', () => status(fixture).lastSwitchover?.outcome === 'succeeded', 20_000, () => lastTicks(fixture));
  await load.waitForWrites(200, 15_000);
  const result = await load.stop();
  await loop.stop();

  assert.equal(status(fixture).currentPrimary, 'swo-1');
  assert.equal(status(fixture).operation, undefined);
  assert.deepEqual(fixture.proxy.target, { host: fixture.member(1).host, port: fixture.member(1).port });
  await assertNoneMissing(fixture, 1, result);
  const gap = longestGap(result);
  t.diagnostic(`switchover: ${result.acknowledged.length} writes acknowledged, longest gap between two ${Math.round(gap.gapMs)} ms, ${result.failed} failed`);
  assert.ok(gap.gapMs < 5000, `writes stopped for ${Math.round(gap.gapMs)} ms`);

  // The old primary is a read-only replica of the new one, with everything.
  const old = await fixture.stateWhen(0, 'replicating from swo-1', (s) => s.replica?.sourcePort === fixture.member(1).port && s.replica.ioThread === 'Yes' && s.replica.sqlRunning);
  assert.equal(old.readOnly, true);
  const other = await fixture.stateWhen(2, 'replicating from swo-1', (s) => s.replica?.sourcePort === fixture.member(1).port && s.replica.ioThread === 'Yes');
  assert.equal(other.readOnly, true);
  for (const index of [0, 2]) {
    await caughtUp(fixture, index, 1);
    await assertNoneMissing(fixture, index, result);
  }
  const primary = await fixture.state(1);
  assert.equal(primary.readOnly, false);
  assert.equal(primary.semiSync.masterEnabled, true);
});

test('failover: the primary killed (SIGKILL) under write load; a replica takes over after failoverAfterMs, nothing acknowledged is lost', async (t) => {
  const fixture = await startClusterFixture({ root, name: 'fo', spec: { failoverAfterMs: 1000 } });
  t.after(() => fixture.stop());
  await steady(fixture);
  const loop = operatorLoop(t, fixture);
  const load = await writeLoad(t, fixture);
  await load.waitForWrites(200, 15_000);

  await killMember(fixture.member(0));
  // Measured from the moment the process is gone: an acknowledgement already on its way is not a write on the new primary.
  const killedAt = Date.now();
  await waitFor('the failover done', () => status(fixture).lastFailover?.outcome === 'succeeded', 20_000, () => lastTicks(fixture));
  await load.waitForWrites(100, 15_000);
  const result = await load.stop();
  await loop.stop();

  const primaryName = status(fixture).currentPrimary;
  const newIndex = fixture.description.members.findIndex((m) => m.name === primaryName);
  assert.ok(newIndex === 1 || newIndex === 2, `the new primary is a former replica, not ${primaryName}`);
  assert.deepEqual(fixture.proxy.target, { host: fixture.member(newIndex).host, port: fixture.member(newIndex).port });
  await assertNoneMissing(fixture, newIndex, result);

  const firstFailover = fixture.cluster.ticks.find((r) => r.decision.kind === 'failover');
  assert.ok(firstFailover !== undefined);
  assert.ok(firstFailover.atMs - killedAt >= 1000, `the failover started ${firstFailover.atMs - killedAt} ms after the kill, before failoverAfterMs`);
  const resumedMs = firstWriteAfter(result, killedAt);
  assert.ok(resumedMs !== undefined, 'no write acknowledged after the kill');
  t.diagnostic(`failover: first acknowledged write on the new primary ${Math.round(resumedMs)} ms after the kill (failoverAfterMs 1000)`);
  assert.ok(resumedMs < 8000, `writes resumed only ${Math.round(resumedMs)} ms after the kill`);

  const otherIndex = newIndex === 1 ? 2 : 1;
  const other = await fixture.stateWhen(otherIndex, `replicating from ${primaryName ?? ''}`, (s) => s.replica?.sourcePort === fixture.member(newIndex).port && s.replica.ioThread === 'Yes');
  assert.equal(other.readOnly, true);
  await caughtUp(fixture, otherIndex, newIndex);
  await assertNoneMissing(fixture, otherIndex, result);
});

test('failover with lagging replicas: the one that received the most is chosen, applies its relay log first, nothing acknowledged is lost', async (t) => {
  const fixture = await startClusterFixture({ root, name: 'lag', spec: { failoverAfterMs: 500 } });
  t.after(() => fixture.stop());
  await steady(fixture);
  const load = await writeLoad(t, fixture);
  await load.waitForWrites(50, 15_000);
  // The operator is away while the replicas fall behind (it would restart their threads).
  // lag-2 stops applying but goes on receiving and acknowledging; later lag-1 stops receiving.
  const m2 = await adminConnection(fixture.member(2));
  const m1 = await adminConnection(fixture.member(1));
  try {
    await m2.query('STOP SLAVE SQL_THREAD');
    await load.waitForWrites(150, 15_000);
    await m1.query('STOP SLAVE IO_THREAD');
    await load.waitForWrites(150, 15_000);
  } finally {
    await Promise.all([m1.end(), m2.end()]);
  }
  await killMember(fixture.member(0));
  const before1 = await fixture.state(1);
  const before2 = await fixture.state(2);
  // lag-1 applied more, lag-2 received more: only the received position picks lag-2.
  assert.ok(seqOf(before1.gtidCurrentPos) > seqOf(before2.gtidCurrentPos), `lag-1 applied ${before1.gtidCurrentPos}, lag-2 ${before2.gtidCurrentPos}`);
  assert.ok(seqOf(before2.replica?.gtidIoPos ?? '') > seqOf(before1.replica?.gtidIoPos ?? ''), 'lag-2 received more than lag-1');

  const loop = operatorLoop(t, fixture);
  await waitFor('the failover done', () => status(fixture).lastFailover?.outcome === 'succeeded', 30_000, () => lastTicks(fixture));
  await load.waitForWrites(50, 15_000);
  const result = await load.stop();
  await loop.stop();

  assert.equal(status(fixture).currentPrimary, 'lag-2');
  const history = fixture.cluster.ticks.filter((r) => r.decision.kind === 'continue' || r.decision.kind === 'failover');
  assert.ok(history.length > 0);
  await assertNoneMissing(fixture, 2, result);
  await fixture.stateWhen(1, 'replicating from lag-2', (s) => s.replica?.sourcePort === fixture.member(2).port && s.replica.ioThread === 'Yes' && s.replica.sqlRunning);
  await caughtUp(fixture, 1, 2);
  await assertNoneMissing(fixture, 1, result);
});

/** The sequence number of a one-domain GTID position such as 0-1-42 (0 for none). */
function seqOf(position: string): number {
  const parts = position.split('-');
  return parts.length === 3 ? Number(parts[2]) : 0;
}

test('an old primary that returns with an errant transaction is quarantined: reported, read-only, out of the writer endpoint, its data kept', async (t) => {
  const fixture = await startClusterFixture({ root, name: 'err', spec: { failoverAfterMs: 500 } });
  t.after(() => fixture.stop());
  await steady(fixture);
  let loop = operatorLoop(t, fixture);
  const load = await writeLoad(t, fixture);
  await load.waitForWrites(100, 15_000);
  await killMember(fixture.member(0));
  await waitFor('the failover done', () => status(fixture).lastFailover?.outcome === 'succeeded', 20_000, () => lastTicks(fixture));
  await load.waitForWrites(50, 15_000);
  await loop.stop();

  // Restarted alone (no replication, no operator) and written to directly, as a person might.
  await restartMember(fixture.description, fixture.member(0), ['--skip-slave-start']);
  const direct = await adminConnection(fixture.member(0));
  try {
    await direct.query('INSERT INTO app.writes (n) VALUES (?)', [1_000_000]);
  } finally {
    await direct.end();
  }
  const errantPosition = (await fixture.state(0)).gtidBinlogPos;

  loop = operatorLoop(t, fixture);
  await waitFor(
    'err-0 quarantined',
    () => fixture.cluster.ticks.some((r) => r.decision.kind === 'quarantine' && r.decision.instance === 'err-0'),
    15_000,
    () => lastTicks(fixture),
  );
  const ticksAtQuarantine = fixture.cluster.ticks.length;
  await load.waitForWrites(50, 15_000);
  await waitFor('five more ticks', () => fixture.cluster.ticks.length >= ticksAtQuarantine + 5, 10_000);
  const result = await load.stop();
  await loop.stop();

  const quarantine = fixture.cluster.ticks.find((r) => r.decision.kind === 'quarantine');
  assert.ok(quarantine?.decision.kind === 'quarantine');
  t.diagnostic(`quarantine: ${quarantine.decision.reason}`);
  // The errant transaction is the one written on err-0 (server id 1), named in the report.
  assert.ok(quarantine.decision.errant.some((g) => g.server === 1), formatGtidList(quarantine.decision.errant));
  assert.match(quarantine.decision.reason, new RegExp(errantPosition.replace(/[-]/g, '\\-')));
  assert.deepEqual(quarantine.outcome, { kind: 'quarantined', instance: 'err-0', reason: quarantine.decision.reason });
  // It stays quarantined: never made a replica (which would discard nothing but hide it) nor rebuilt.
  const later = fixture.cluster.ticks.slice(ticksAtQuarantine);
  assert.ok(later.length > 0);
  for (const record of later) {
    assert.ok(!(record.decision.kind === 'configureReplicas' && record.decision.instances.some((i) => i.instance === 'err-0')), describeTick(record));
    assert.ok(!(record.decision.kind === 'rebuild' && record.decision.instance === 'err-0'), describeTick(record));
  }

  const primaryName = status(fixture).currentPrimary;
  assert.notEqual(primaryName, 'err-0');
  const primaryIndex = fixture.description.members.findIndex((m) => m.name === primaryName);
  assert.deepEqual(fixture.proxy.target, { host: fixture.member(primaryIndex).host, port: fixture.member(primaryIndex).port });
  const old = await fixture.state(0);
  assert.equal(old.readOnly, true);
  assert.ok(old.replica === undefined || (old.replica.ioThread === 'No' && !old.replica.sqlRunning), JSON.stringify(old.replica));
  // Its data is kept, the errant row included; the cluster never got it.
  assert.deepEqual(await query(straightTo(fixture, 0), 'SELECT n FROM app.writes WHERE n = 1000000'), [{ n: 1_000_000 }]);
  assert.deepEqual(await query(straightTo(fixture, primaryIndex), 'SELECT n FROM app.writes WHERE n = 1000000'), []);
  await assertNoneMissing(fixture, primaryIndex, result);
});
