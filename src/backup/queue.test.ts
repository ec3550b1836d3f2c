import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../runtime/fakeclock.ts';
import { planStarts, type QueuedRun, type RunningRun } from './queue.ts';
import { dueRun, jitteredStart, parseCron } from './schedule.ts';
import { TimeZone } from './time-zone.ts';

const t0 = Date.parse('2026-12-02T03:00:00Z');
const run = (key: string, startOffsetSeconds: number, id = '20261202T030000Z'): QueuedRun => ({
  key,
  id,
  dueAt: new Date(t0),
  startAt: new Date(t0 + startOffsetSeconds * 1000),
});
const keys = (runs: readonly QueuedRun[]): string[] => runs.map((r) => r.key);

describe('planStarts', () => {
  it('starts the earliest runs up to the limit, and numbers the rest in order', () => {
    const plan = planStarts({ due: [run('c/x', 30), run('a/x', 10), run('b/x', 20), run('d/x', 40)], running: [], limit: 2, now: new Date(t0 + 60_000) });
    assert.deepEqual(keys(plan.start), ['a/x', 'b/x']);
    assert.deepEqual(plan.waiting.map((w) => [w.run.key, w.position, w.reason]), [
      ['c/x', 1, 'NoFreeSlot'],
      ['d/x', 2, 'NoFreeSlot'],
    ]);
  });

  it('running runs hold their slots', () => {
    const plan = planStarts({ due: [run('a/x', 0), run('b/x', 0)], running: [{ key: 'z/x', id: '20261202T020000Z' }], limit: 2, now: new Date(t0) });
    assert.deepEqual(keys(plan.start), ['a/x']);
    assert.deepEqual(keys(plan.waiting.map((w) => w.run)), ['b/x']);
  });

  it('ties in start time go by key, then id', () => {
    const plan = planStarts({ due: [run('b/x', 5), run('a/y', 5, '20261202T040000Z'), run('a/y', 5, '20261202T030000Z')], running: [], limit: 3, now: new Date(t0 + 5_000) });
    assert.deepEqual(plan.start.map((r) => `${r.key} ${r.id}`), ['a/y 20261202T030000Z', 'b/x 20261202T030000Z']);
    // a/y cannot run twice at once: its later id waits even with a slot free.
    assert.deepEqual(plan.waiting.map((w) => `${w.run.key} ${w.run.id} ${w.reason}`), ['a/y 20261202T040000Z SameBackupRunning']);
  });

  it('a run never starts twice, and a backup never runs twice at once', () => {
    const a1 = run('a/x', 0, '20261201T030000Z');
    const a2 = run('a/x', 0, '20261202T030000Z');
    const plan = planStarts({ due: [a1, a2, a1, run('b/x', 0)], running: [{ key: 'a/x', id: a1.id }], limit: 5, now: new Date(t0) });
    assert.deepEqual(plan.alreadyRunning, [a1]);
    assert.deepEqual(keys(plan.start), ['b/x']);
    assert.deepEqual(plan.waiting.map((w) => [w.run.id, w.reason, w.position]), [[a2.id, 'SameBackupRunning', 1]]);
  });

  it('runs whose jittered start lies ahead wait for it, and the plan says when to look again', () => {
    const plan = planStarts({ due: [run('a/x', 120), run('b/x', 30), run('c/x', 0)], running: [], limit: 2, now: new Date(t0 + 10_000) });
    assert.deepEqual(keys(plan.start), ['c/x']);
    assert.deepEqual(keys(plan.notYet), ['b/x', 'a/x']);
    assert.equal(plan.wakeAt?.getTime(), t0 + 30_000);
    assert.equal(planStarts({ due: [], running: [], limit: 2, now: new Date(t0) }).wakeAt, undefined);
  });

  it('a retried run goes back to its place by its original times', () => {
    const retried = run('z/x', 10);
    const later = run('a/x', 200);
    const plan = planStarts({ due: [later, retried], running: [{ key: 'q/x', id: 'x' }], limit: 2, now: new Date(t0 + 300_000) });
    assert.deepEqual(keys(plan.start), ['z/x']);
    assert.deepEqual(keys(plan.waiting.map((w) => w.run)), ['a/x']);
  });

  it('a limit of 0 starts nothing; a bad limit is refused', () => {
    assert.deepEqual(planStarts({ due: [run('a/x', 0)], running: [], limit: 0, now: new Date(t0) }).start, []);
    assert.throws(() => planStarts({ due: [], running: [], limit: 1.5, now: new Date(t0) }), /whole number ≥ 0, not 1.5/);
  });
});

/** A deterministic pseudo-random sequence in [0, 1), so that a failure replays. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Attempt {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly succeeded: boolean;
}

interface SimulatedRun extends QueuedRun {
  readonly durationsMs: readonly number[]; // one per attempt; all but the last fail
}

describe('30 schedules due in the same minute with a limit of 2, on a fake clock', () => {
  const limit = 2;
  const jitterSeconds = 300;
  const random = seeded(20261202);
  const zone = TimeZone.of('Europe/Berlin');
  const schedule = parseCron('0 4 * * *'); // 04:00 in Berlin = 03:00Z in December

  const runs: SimulatedRun[] = Array.from({ length: 30 }, (_, i) => {
    const key = `site-${String(i).padStart(2, '0')}/nightly`;
    const due = dueRun(schedule, zone, new Date(t0 - 86_400_000), new Date(t0 + 1_000)).due;
    assert.ok(due);
    const durationMs = Math.round((20 + random() * 280) * 1000);
    // Every seventh run fails once (its Job's pod killed after a while) and is retried.
    const durationsMs = i % 7 === 3 ? [Math.round(durationMs / 3), durationMs] : [durationMs];
    return { key, id: '20261202T030000Z', dueAt: due, startAt: jitteredStart(due, key, jitterSeconds), durationsMs };
  });
  // The fair order, written out here rather than taken from queue.ts: jittered start, then name.
  const queueOrder = [...runs].sort((a, b) => a.startAt.getTime() - b.startAt.getTime() || (a.key < b.key ? -1 : 1)).map((r) => r.key);

  // The controller's loop, reduced to what the queue decides: plan whenever
  // a run ends or a jittered start arrives, start what the plan says.
  const clock = new FakeClock(t0);
  const pending = new Map(runs.map((r) => [r.key, r]));
  const running = new Map<string, RunningRun>();
  const attemptsMade = new Map<string, number>();
  const attempts: Attempt[] = [];
  let plans = 0;
  const plan = (): void => {
    plans++;
    const decided = planStarts({ due: [...pending.values()], running: [...running.values()], limit, now: new Date(clock.now()) });
    for (const r of decided.start) {
      const attempt = attemptsMade.get(r.key) ?? 0;
      attemptsMade.set(r.key, attempt + 1);
      const duration = r.durationsMs[attempt] ?? 0;
      const succeeded = attempt === r.durationsMs.length - 1;
      const start = clock.now();
      running.set(r.key, { key: r.key, id: r.id });
      clock.setTimeout(() => {
        running.delete(r.key);
        attempts.push({ key: r.key, start, end: clock.now(), succeeded });
        // A failed run stays pending with its original times: its retry goes back to its place.
        if (succeeded) pending.delete(r.key);
        plan();
      }, duration);
    }
    if (decided.wakeAt !== undefined) clock.setTimeout(plan, decided.wakeAt.getTime() - clock.now());
  };
  plan();
  clock.advance(24 * 3600 * 1000);

  const successes = attempts.filter((a) => a.succeeded);

  it('all complete, the failed ones after a retry', () => {
    assert.equal(pending.size, 0);
    assert.equal(running.size, 0);
    assert.deepEqual(successes.map((a) => a.key).sort(), runs.map((r) => r.key).sort());
    assert.equal(attempts.length - successes.length, runs.filter((r) => r.durationsMs.length > 1).length);
  });

  it('never more than 2 run at once, from the recorded start and end times', () => {
    const events = attempts.flatMap((a) => [
      { at: a.start, change: 1 },
      { at: a.end, change: -1 },
    ]);
    // An end and a start at the same instant: the end frees the slot first.
    events.sort((a, b) => a.at - b.at || a.change - b.change);
    let now = 0;
    let most = 0;
    for (const e of events) {
      now += e.change;
      most = Math.max(most, now);
    }
    assert.equal(most, limit);
  });

  it('first attempts start in queue order: by jittered start, then name', () => {
    const firstStarts = new Map<string, number>();
    for (const a of [...attempts].sort((x, y) => x.start - y.start)) if (!firstStarts.has(a.key)) firstStarts.set(a.key, a.start);
    const startedOrder = [...firstStarts.entries()].sort((x, y) => x[1] - y[1] || queueOrder.indexOf(x[0]) - queueOrder.indexOf(y[0])).map(([key]) => key);
    assert.deepEqual(startedOrder, queueOrder);
  });

  it('no run starts while a run earlier in the queue waits (retries included)', () => {
    const byKey = new Map(runs.map((r) => [r.key, r]));
    const position = (key: string): number => queueOrder.indexOf(key);
    for (const a of attempts) {
      for (const other of runs) {
        if (position(other.key) >= position(a.key)) continue;
        const own = attempts.filter((x) => x.key === other.key);
        const waitingThen =
          (byKey.get(other.key)?.startAt.getTime() ?? Infinity) <= a.start &&
          !own.some((x) => x.start <= a.start && a.start < x.end) &&
          !own.some((x) => x.succeeded && x.end <= a.start);
        assert.ok(!waitingThen, `${a.key} started at +${(a.start - t0) / 1000}s while ${other.key}, earlier in the queue, waited`);
      }
    }
  });

  it('the slots stay busy: the makespan is near the summed durations divided by the limit', (t) => {
    const summed = attempts.reduce((sum, a) => sum + (a.end - a.start), 0);
    const makespan = Math.max(...attempts.map((a) => a.end)) - t0;
    const longest = Math.max(...attempts.map((a) => a.end - a.start));
    t.diagnostic(`makespan ${(makespan / 1000).toFixed(0)} s, summed durations ${(summed / 1000).toFixed(0)} s (${(summed / limit / 1000).toFixed(0)} s over ${limit} slots), ${plans} plans`);
    assert.ok(makespan >= summed / limit, 'faster than the limit allows');
    // Work-conserving: once every start time has passed (the jitter window),
    // no slot idles while a run waits; at the end at most one run is longer.
    assert.ok(makespan <= jitterSeconds * 1000 + summed / limit + longest, `makespan ${makespan} ms is longer than a busy queue takes`);
  });
});
