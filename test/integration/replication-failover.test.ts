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
import type { Operation } from '../../src/replication/operation.ts';
import { adminConnection, killMember, restartMember, saveDescription } from '../env/process-cluster-members.ts';
import { readOperationHistory, readStatus, type ClusterStatus } from '../env/process-cluster-status.ts';
import { createIsolatedNetwork, cutLink, deleteIsolatedNetwork, restoreLink } from '../env/isolated-network.ts';
import { describeTick, type TickLoop } from '../env/process-cluster.ts';
import { firstWriteAfter, longestGap, missingWrites, startWriteLoad, type WriteLoadResult } from '../env/write-load.ts';
import { outcomeWithin } from './mysql-replication-support.ts';
import { followWriterFile, startClusterFixture, startOperatorProcess, straightTo, throughProxy, type ClusterFixture, type OperatorProcess } from './replication-failover-support.ts';

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

type Defer = (cleanup: () => void | Promise<void>) => void;

/** Cleanups for the end of a test, run last-in first-out (t.after hooks run in the order they were added). */
function deferrer(t: { after: (fn: () => Promise<void>) => void }): Defer {
  const stack: (() => void | Promise<void>)[] = [];
  t.after(async () => {
    for (const cleanup of stack.reverse()) await cleanup();
  });
  return (cleanup) => {
    stack.push(cleanup);
  };
}

/** Runs the operator's loop for the rest of the test (stopped at its end unless stopped before). */
function operatorLoop(defer: Defer, fixture: ClusterFixture): TickLoop {
  const loop = fixture.cluster.startLoop();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await loop.stop();
  };
  defer(stop);
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
async function writeLoad(defer: Defer, fixture: ClusterFixture): Promise<{ waitForWrites: (count: number, timeoutMs: number) => Promise<void>; stop: () => Promise<WriteLoadResult> }> {
  const load = await startWriteLoad(throughProxy(fixture));
  let result: Promise<WriteLoadResult> | undefined;
  const stop = (): Promise<WriteLoadResult> => (result ??= load.stop());
  defer(async () => {
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
  const defer = deferrer(t);
  defer(() => fixture.stop());
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
  const defer = deferrer(t);
  defer(() => fixture.stop());
  await steady(fixture);
  const loop = operatorLoop(defer, fixture);
  const load = await writeLoad(defer, fixture);
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
  const defer = deferrer(t);
  defer(() => fixture.stop());
  await steady(fixture);
  const loop = operatorLoop(defer, fixture);
  const load = await writeLoad(defer, fixture);
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
  const defer = deferrer(t);
  defer(() => fixture.stop());
  await steady(fixture);
  const load = await writeLoad(defer, fixture);
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

  const loop = operatorLoop(defer, fixture);
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
  const defer = deferrer(t);
  defer(() => fixture.stop());
  await steady(fixture);
  let loop = operatorLoop(defer, fixture);
  const load = await writeLoad(defer, fixture);
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

  loop = operatorLoop(defer, fixture);
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

test('a primary cut off from the network: replicas fenced, failover, the cut-off primary acknowledges nothing, and on its return is quarantined', async (t) => {
  const network = createIsolatedNetwork();
  const defer = deferrer(t);
  defer(() => {
    deleteIsolatedNetwork(network);
  });
  const fixture = await startClusterFixture({ root, name: 'cut', isolated: { network, index: 0 }, spec: { failoverAfterMs: 1000 } });
  defer(async () => {
    // The link first: connections hung on the cut-off server end when it can answer again.
    restoreLink(network);
    await fixture.stop();
  });
  await steady(fixture);
  assert.equal(fixture.cluster.recorder.read().currentPrimary, 'cut-0');
  const loop = operatorLoop(defer, fixture);
  const load = await writeLoad(defer, fixture);
  await load.waitForWrites(100, 15_000);
  // An application session on the primary that the cut does not reach (its socket), to try writing there afterwards.
  const { user, password } = fixture.description.app;
  const inside = await mariadb.createConnection({ socketPath: fixture.member(0).socket, user, password });
  inside.on('error', () => {
    // Killed by the fence below; its query rejects, which is asserted.
  });
  defer(() => {
    inside.destroy();
  });

  cutLink(network);
  const cutAt = Date.now();
  await waitFor('the failover done', () => status(fixture).lastFailover?.outcome === 'succeeded', 30_000, () => lastTicks(fixture));
  const primaryName = status(fixture).currentPrimary;
  const primaryIndex = fixture.description.members.findIndex((m) => m.name === primaryName);
  assert.ok(primaryIndex === 1 || primaryIndex === 2, `a replica took over, not ${primaryName}`);
  const steps = readOperationHistory(fixture.description.statusFile).map((o) => o.step);
  assert.deepEqual([...new Set(steps)], ['fenceReplicas', 'chooseTarget', 'waitForRelayApplied', 'promoteTarget', 'moveWriter', 'repointReplicas']);
  await load.waitForWrites(100, 15_000);

  // The cut-off primary still runs and still believes it is the writer, but no replica acknowledges: a write there never completes.
  const hung = inside.query('INSERT INTO app.writes (n) VALUES (?)', [2_000_000]);
  assert.equal(await outcomeWithin(hung, 3000), 'pending');
  const result = await load.stop();
  await assertNoneMissing(fixture, primaryIndex, result);
  const gap = longestGap(result);
  // Longer than after a kill: every observation waits for the silent server (connect and statement time-outs), and the
  // load's write hung on it fails only after its own 2 s.
  t.diagnostic(`partition: writes stopped for ${Math.round(gap.gapMs)} ms, from ${Math.round(gap.after - cutAt)} ms after the cut (failoverAfterMs 1000)`);
  assert.ok(gap.gapMs < 15_000, `writes stopped for ${Math.round(gap.gapMs)} ms`);

  restoreLink(network);
  await waitFor(
    'cut-0 quarantined once it answers again',
    () => fixture.cluster.ticks.some((r) => r.decision.kind === 'quarantine' && r.decision.instance === 'cut-0'),
    20_000,
    () => lastTicks(fixture),
  );
  await loop.stop();
  // Its write was refused, never acknowledged: the fence closed the session.
  assert.equal(await outcomeWithin(hung, 5000), 'rejected');
  const quarantine = fixture.cluster.ticks.find((r) => r.decision.kind === 'quarantine');
  assert.ok(quarantine?.decision.kind === 'quarantine');
  // Why quarantined, not a replica: its binary log holds writes it took after the cut (the load's, then this one), which
  // no other server has; they were never acknowledged, but only a person can tell, so they are kept.
  t.diagnostic(`partition: ${quarantine.decision.reason}`);
  assert.ok(quarantine.decision.errant.length > 0 && quarantine.decision.errant.every((g) => g.server === 1), formatGtidList(quarantine.decision.errant));
  const old = await fixture.state(0);
  assert.equal(old.readOnly, true);
  assert.ok(old.replica === undefined || (old.replica.ioThread === 'No' && !old.replica.sqlRunning), JSON.stringify(old.replica));
  assert.deepEqual(fixture.proxy.target, { host: fixture.member(primaryIndex).host, port: fixture.member(primaryIndex).port });
  assert.equal(status(fixture).currentPrimary, primaryName);
  assert.deepEqual(await query(straightTo(fixture, primaryIndex), 'SELECT n FROM app.writes WHERE n = 2000000'), []);
  assert.deepEqual(await query(straightTo(fixture, 0), 'SELECT n FROM app.writes WHERE n = 2000000'), [{ n: 2_000_000 }]);
});

/** The steps of `history` with consecutive repeats (retries, a resumed step) folded. */
function distinctSteps(history: readonly Operation[]): string[] {
  return history.map((o) => o.step).filter((step, i, all) => i === 0 || all[i - 1] !== step);
}

test('the operator killed in the middle of a switchover and of a failover: a new one resumes the recorded operation and finishes it, nothing acknowledged is lost', async (t) => {
  const fixture = await startClusterFixture({ root, name: 'crash', spec: { failoverAfterMs: 1000 } });
  const defer = deferrer(t);
  defer(() => fixture.stop());
  await steady(fixture);
  const follow = followWriterFile(fixture);
  defer(() => {
    follow.stop();
  });
  const load = await writeLoad(defer, fixture);
  await load.waitForWrites(100, 15_000);
  const operator = (label: string, crashAt?: string): OperatorProcess => {
    const started = startOperatorProcess(fixture, label, crashAt);
    defer(() => started.stop());
    return started;
  };

  // Switchover, the operator dying once promoteTarget is recorded: the old primary is fenced, nobody is writable.
  fixture.description.spec.desiredPrimaryIndex = 1;
  saveDescription(fixture.description);
  const first = operator('1', 'Switchover:promoteTarget');
  assert.deepEqual(await first.exited, { code: null, signal: 'SIGKILL' });
  const recorded = status(fixture).operation;
  assert.equal(recorded?.type, 'Switchover');
  assert.equal(recorded.step, 'promoteTarget');
  const second = operator('2');
  await waitFor('the switchover done', () => status(fixture).lastSwitchover?.outcome === 'succeeded', 20_000);
  assert.equal(status(fixture).currentPrimary, 'crash-1');
  const switchover = readOperationHistory(fixture.description.statusFile).filter((o) => o.type === 'Switchover');
  // One operation (same start, same target) continued from the recorded step, not a second one started over.
  assert.deepEqual([...new Set(switchover.map((o) => `${o.startedAt} ${o.from}→${o.to}`))], [`${recorded.startedAt} crash-0→crash-1`]);
  assert.deepEqual(distinctSteps(switchover), ['fenceOldPrimary', 'waitForCatchUp', 'promoteTarget', 'moveWriter', 'repointReplicas', 'rejoinOldPrimary']);
  assert.ok(switchover.filter((o) => o.step === 'promoteTarget').length >= 2, 'promoteTarget recorded again by the second operator');
  await load.waitForWrites(100, 15_000);
  await second.stop();

  // Failover from crash-1, the operator dying once waitForRelayApplied is recorded (the target chosen and written down).
  const third = operator('3', 'Failover:waitForRelayApplied');
  await killMember(fixture.member(1));
  assert.deepEqual(await third.exited, { code: null, signal: 'SIGKILL' });
  const failoverRecord = status(fixture).operation;
  assert.equal(failoverRecord?.type, 'Failover');
  assert.equal(failoverRecord.step, 'waitForRelayApplied');
  const fourth = operator('4');
  await waitFor('the failover done', () => status(fixture).lastFailover?.outcome === 'succeeded', 20_000);
  assert.equal(status(fixture).currentPrimary, failoverRecord.to);
  const failover = readOperationHistory(fixture.description.statusFile).filter((o) => o.type === 'Failover');
  assert.deepEqual([...new Set(failover.map((o) => o.startedAt))], [failoverRecord.startedAt]);
  assert.deepEqual([...new Set(failover.slice(failover.indexOf(failover.find((o) => o.step === 'waitForRelayApplied') ?? failoverRecord)).map((o) => o.to))], [failoverRecord.to]);
  assert.deepEqual(distinctSteps(failover), ['fenceReplicas', 'chooseTarget', 'waitForRelayApplied', 'promoteTarget', 'moveWriter', 'repointReplicas']);

  await load.waitForWrites(100, 15_000);
  const result = await load.stop();
  await fourth.stop();
  const primaryIndex = fixture.description.members.findIndex((m) => m.name === failoverRecord.to);
  await assertNoneMissing(fixture, primaryIndex, result);
  const gap = longestGap(result);
  t.diagnostic(`operator crashes: ${result.acknowledged.length} writes acknowledged, longest gap ${Math.round(gap.gapMs)} ms (includes starting a new operator process)`);
});

test('failover when the most advanced replica had both threads stopped by hand: it waits for a person rather than start the SQL thread, which would discard acknowledged writes', async (t) => {
  const fixture = await startClusterFixture({ root, name: 'held', spec: { failoverAfterMs: 500 } });
  const defer = deferrer(t);
  defer(() => fixture.stop());
  await steady(fixture);
  const load = await writeLoad(defer, fixture);
  await load.waitForWrites(50, 15_000);
  const m2 = await adminConnection(fixture.member(2));
  const m1 = await adminConnection(fixture.member(1));
  try {
    await m2.query('STOP SLAVE SQL_THREAD');
    await load.waitForWrites(100, 15_000);
    await m1.query('STOP SLAVE IO_THREAD');
    await load.waitForWrites(100, 15_000);
    await m2.query('STOP SLAVE IO_THREAD');
  } finally {
    await Promise.all([m1.end(), m2.end()]);
  }
  await load.stop();
  await killMember(fixture.member(0));
  const before = await fixture.state(2);

  const loop = operatorLoop(defer, fixture);
  await waitFor(
    'the failover waiting at waitForRelayApplied',
    () => {
      const operation = status(fixture).operation;
      return operation?.step === 'waitForRelayApplied' && operation.attempt >= 3;
    },
    20_000,
    () => lastTicks(fixture),
  );
  await loop.stop();
  const operation = status(fixture).operation;
  assert.equal(operation?.to, 'held-2');
  assert.match(operation.message ?? '', /would discard the relay log.*apply it by hand/);
  t.diagnostic(`held: ${operation.message ?? ''}`);
  // Nothing promoted, nothing discarded: held-2 still has all it received, unapplied, in its relay log.
  const after = await fixture.state(2);
  assert.equal(after.readOnly, true);
  assert.equal(after.replica?.sqlRunning, false);
  assert.equal(after.replica.gtidIoPos, before.replica?.gtidIoPos);
  assert.ok(seqOf(after.replica.gtidIoPos) > seqOf(after.gtidCurrentPos));
  assert.equal((await fixture.state(1)).readOnly, true);
  assert.equal(status(fixture).currentPrimary, 'held-0');
});
