import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxPrunedPerRun, runsToPruneAfter } from './prune-after-run.ts';
import { parseDuration, retentionOf, type Retention } from './retention.ts';
import { TimeZone } from './time-zone.ts';

const utc = TimeZone.of('UTC');
const berlin = TimeZone.of('Europe/Berlin');
const nothing: Retention = { keepLast: 0, daily: 0, weekly: 0, monthly: 0 };
const listed = (...ids: string[]): { id: string }[] => ids.map((id) => ({ id }));

interface Case {
  readonly name: string;
  readonly listed: { id: string }[];
  readonly runId: string;
  readonly policy: Retention;
  readonly now: string;
  readonly zone?: TimeZone;
  /** Oldest first. */
  readonly expected: string[];
}

const cases: Case[] = [
  {
    name: 'nothing listed: nothing to prune',
    listed: [],
    runId: '20261202T030000Z',
    policy: nothing,
    now: '2026-12-02T03:00:05Z',
    expected: [],
  },
  {
    name: 'every rule at 0: the new run is the newest and stays, every listed backup goes, oldest first',
    listed: listed('20261201T030000Z', '20261130T030000Z', '20261129T030000Z'),
    runId: '20261202T030000Z',
    policy: nothing,
    now: '2026-12-02T03:00:05Z',
    expected: ['20261129T030000Z', '20261130T030000Z', '20261201T030000Z'],
  },
  {
    name: 'keepLast 2 counts the new run: one listed backup stays',
    listed: listed('20261201T030000Z', '20261130T030000Z', '20261129T030000Z'),
    runId: '20261202T030000Z',
    policy: { ...nothing, keepLast: 2 },
    now: '2026-12-02T03:00:05Z',
    expected: ['20261129T030000Z', '20261130T030000Z'],
  },
  {
    name: 'daily 2: the new run takes its day’s place from an earlier run of the same day',
    listed: listed('20261202T010000Z', '20261201T030000Z'),
    runId: '20261202T030000Z',
    policy: { ...nothing, daily: 2 },
    now: '2026-12-02T03:00:05Z',
    expected: ['20261202T010000Z'],
  },
  {
    name: 'days of the time zone: 23:30Z on 1 December is 2 December in Berlin, the new run’s day',
    listed: listed('20261201T233000Z', '20261201T030000Z'),
    runId: '20261202T030000Z',
    policy: { ...nothing, daily: 2 },
    now: '2026-12-02T03:00:05Z',
    zone: berlin,
    expected: ['20261201T233000Z'],
  },
  {
    name: 'the defaults keep a week of nightly runs: the eighth night goes',
    listed: listed('20261201T030000Z', '20261130T030000Z', '20261129T030000Z', '20261128T030000Z', '20261127T030000Z', '20261126T030000Z', '20261125T030000Z'),
    runId: '20261202T030000Z',
    policy: retentionOf({ weekly: 0, monthly: 0 }),
    now: '2026-12-02T03:00:05Z',
    expected: ['20261125T030000Z'],
  },
  {
    name: 'maxAge removes what the rules keep, but never the new run',
    listed: listed('20261201T030000Z', '20261101T030000Z'),
    runId: '20261202T030000Z',
    policy: { ...retentionOf({}), maxAgeMs: parseDuration('10d') },
    now: '2026-12-02T03:00:05Z',
    expected: ['20261101T030000Z'],
  },
  {
    name: 'keepWithin is judged at the start: what is younger now is kept',
    listed: listed('20261201T040000Z', '20261201T020000Z'),
    runId: '20261202T030000Z',
    policy: { ...nothing, keepWithinMs: parseDuration('24h') },
    now: '2026-12-02T03:00:05Z',
    expected: ['20261201T020000Z'],
  },
  {
    name: 'the run already listed (a retried attempt after a lagging status) is never pruned, nor listed twice',
    listed: listed('20261202T030000Z', '20261201T030000Z'),
    runId: '20261202T030000Z',
    policy: nothing,
    now: '2026-12-02T03:00:05Z',
    expected: ['20261201T030000Z'],
  },
  {
    name: 'an id that names no time is left alone',
    listed: listed('20261201T030000Z', 'not-a-run', '20261131T030000Z'),
    runId: '20261202T030000Z',
    policy: nothing,
    now: '2026-12-02T03:00:05Z',
    expected: ['20261201T030000Z'],
  },
];

describe('runsToPruneAfter', () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(runsToPruneAfter({ listed: c.listed, runId: c.runId, policy: c.policy, now: new Date(c.now), zone: c.zone ?? utc }), c.expected);
    });
  }

  it(`gives at most ${maxPrunedPerRun} ids, the oldest, so that the Job's result line fits a termination message`, () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ id: `2026${String(1 + Math.floor(i / 28)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}T030000Z` }));
    const ids = runsToPruneAfter({ listed: many, runId: '20261202T030000Z', policy: nothing, now: new Date('2026-12-02T03:00:05Z'), zone: utc });
    assert.equal(ids.length, maxPrunedPerRun);
    assert.deepEqual(ids, many.map((b) => b.id).sort().slice(0, maxPrunedPerRun));
    // Each id as the script reports it: "…", with a comma.
    assert.ok(JSON.stringify({ pruned: ids }).length < 1024);
  });
});
