import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../runtime/fakeclock.ts';
import { isoWeekOf, parseDuration, retentionOf, selectKept, type RetainedBackup } from './retention.ts';
import { TimeZone } from './time-zone.ts';

const berlin = TimeZone.of('Europe/Berlin');
const utc = TimeZone.of('UTC');
const day = 86_400_000;

interface Backup extends RetainedBackup {
  /** The local date in Berlin, for readable assertions. */
  readonly date: string;
}

/** A backup made at 03:00 Berlin time on a local date (through both daylight-saving changes). */
function nightly(date: string, complete = true): Backup {
  const [y = 0, m = 0, d = 0] = date.split('-').map(Number);
  const time = new Date(berlin.firstInstantAtOrAfter(Date.UTC(y, m - 1, d, 3, 0)));
  return { id: time.toISOString().replace(/[-:]|\.000/g, ''), time, complete, date };
}

/** Every local date from `first` to `last`, inclusive. */
function dates(first: string, last: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += day) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

describe('a simulated year of nightly backups, pruned after each one (7 daily, 4 weekly, 12 monthly)', () => {
  // The expected sets are worked out by hand from the calendar, not by the
  // code under test: 1 January 2026 is a Thursday; 2026 has 53 ISO weeks
  // (W53 is 28 December 2026 to 3 January 2027).
  const checkpoints: Record<string, string[]> = {
    // Sunday. Daily: 9–15 March. Weekly: the newest of this week (15 March) and the Sundays
    // of the three weeks before (8 and 1 March, 22 February). Monthly: 15 March, 28 February, 31 January.
    '2026-03-15': ['2026-01-31', '2026-02-22', '2026-02-28', '2026-03-01', '2026-03-08', ...dates('2026-03-09', '2026-03-15')],
    // The spring-forward Sunday: the backup at 03:00 CEST counts for 29 March.
    '2026-03-29': ['2026-01-31', '2026-02-28', '2026-03-08', '2026-03-15', '2026-03-22', ...dates('2026-03-23', '2026-03-29')],
    // Wednesday 1 July: the new month's first backup is its monthly one; June's is 30 June.
    // Weekly: 1 July (week 27), Sundays 28, 21 and 14 June.
    '2026-07-01': ['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30', '2026-05-31', '2026-06-14', '2026-06-21', ...dates('2026-06-25', '2026-07-01')],
    // The fall-back Sunday, 25 October.
    '2026-10-25': [
      '2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30', '2026-05-31', '2026-06-30', '2026-07-31', '2026-08-31', '2026-09-30',
      '2026-10-04', '2026-10-11', '2026-10-18', ...dates('2026-10-19', '2026-10-25'),
    ],
    // Thursday 31 December: twelve month ends (December's is today), Sundays 13 and 20 December;
    // 27 December is a daily one already.
    '2026-12-31': [
      '2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30', '2026-05-31', '2026-06-30', '2026-07-31', '2026-08-31', '2026-09-30', '2026-10-31', '2026-11-30',
      '2026-12-13', '2026-12-20', ...dates('2026-12-25', '2026-12-31'),
    ],
    // Saturday 2 January 2027, still in ISO week 2026-W53: the week's newest is today, not 31 December.
    // Twelve months back to February 2026: 31 January 2026 goes.
    '2027-01-02': [
      '2026-02-28', '2026-03-31', '2026-04-30', '2026-05-31', '2026-06-30', '2026-07-31', '2026-08-31', '2026-09-30', '2026-10-31', '2026-11-30',
      '2026-12-13', '2026-12-20', ...dates('2026-12-27', '2027-01-02'),
    ],
    // Wednesday 10 February 2027: months March 2026 to February 2027; weeks 6 (today), 5 (7 Feb), 4 (31 Jan), 3 (24 Jan).
    '2027-02-10': [
      '2026-03-31', '2026-04-30', '2026-05-31', '2026-06-30', '2026-07-31', '2026-08-31', '2026-09-30', '2026-10-31', '2026-11-30', '2026-12-31',
      '2027-01-24', '2027-01-31', ...dates('2027-02-04', '2027-02-10'),
    ],
  };

  const clock = new FakeClock(nightly('2026-01-01').time.getTime());
  let stored: Backup[] = [];
  const seen: Record<string, string[]> = {};
  let everPruned = 0;
  for (const date of dates('2026-01-01', '2027-02-10')) {
    const backup = nightly(date);
    clock.advance(backup.time.getTime() - clock.now());
    stored.push(backup);
    // Every ninth night a second run is interrupted after the good one: it must not take the day's place.
    if (date.endsWith('9')) stored.push({ ...nightly(date, false), id: `${backup.id}-interrupted`, time: new Date(backup.time.getTime() + 3_600_000) });
    clock.advance(10 * 60_000);
    const selection = selectKept(stored, retentionOf({}), new Date(clock.now()), berlin);
    assert.ok(selection.incomplete.every((b) => !b.complete));
    everPruned += selection.pruned.length;
    // The operator deletes what is pruned; interrupted runs go once their deadline has passed.
    stored = selection.kept.map((k) => k.backup);
    if (checkpoints[date] !== undefined) seen[date] = stored.map((b) => b.date).sort();
  }

  for (const [date, expected] of Object.entries(checkpoints)) {
    it(`after the backup of ${date}`, () => {
      assert.deepEqual(seen[date], [...expected].sort());
    });
  }

  it('never keeps more than 7 + 4 + 12 backups, and pruned the rest', () => {
    assert.ok(stored.length <= 23);
    assert.equal(everPruned, dates('2026-01-01', '2027-02-10').length - stored.length);
  });
});

describe('selectKept', () => {
  const on = (iso: string, complete = true): RetainedBackup => ({ id: iso, time: new Date(iso), complete });
  const now = new Date('2026-12-02T12:00:00Z');
  const nothing = { keepLast: 0, daily: 0, weekly: 0, monthly: 0 };
  const ids = (list: readonly { backup: RetainedBackup }[]): string[] => list.map((k) => k.backup.id);

  it('two backups on one day: the newer is the day\'s', () => {
    const selection = selectKept([on('2026-12-02T03:00:00Z'), on('2026-12-02T09:00:00Z'), on('2026-12-01T03:00:00Z')], { ...nothing, daily: 2 }, now, utc);
    assert.deepEqual(ids(selection.kept), ['2026-12-02T09:00:00Z', '2026-12-01T03:00:00Z']);
    assert.deepEqual(selection.pruned.map((p) => [p.backup.id, p.reason]), [['2026-12-02T03:00:00Z', 'NotKept']]);
  });

  it('days are those of the time zone', () => {
    // 23:30Z on 1 December is 00:30 on 2 December in Berlin: the same day as 10:00Z.
    const backups = [on('2026-12-01T23:30:00Z'), on('2026-12-02T10:00:00Z')];
    assert.deepEqual(ids(selectKept(backups, { ...nothing, daily: 2 }, now, berlin).kept), ['2026-12-02T10:00:00Z']);
    assert.deepEqual(ids(selectKept(backups, { ...nothing, daily: 2 }, now, utc).kept), ['2026-12-02T10:00:00Z', '2026-12-01T23:30:00Z']);
  });

  it('keepLast keeps the newest N, whatever their days', () => {
    const backups = ['01', '02', '03', '04', '05'].map((h) => on(`2026-12-02T${h}:00:00Z`));
    const selection = selectKept(backups, { ...nothing, keepLast: 3 }, now, utc);
    assert.deepEqual(ids(selection.kept), ['2026-12-02T05:00:00Z', '2026-12-02T04:00:00Z', '2026-12-02T03:00:00Z']);
    assert.deepEqual(selection.kept.map((k) => k.reasons), [['last'], ['last'], ['last']]);
  });

  it('keepWithin keeps every backup younger than it', () => {
    const backups = [on('2026-12-02T11:00:00Z'), on('2026-12-01T01:00:00Z'), on('2026-11-30T23:00:00Z')];
    const selection = selectKept(backups, { ...nothing, keepWithinMs: parseDuration('36h') }, now, utc);
    assert.deepEqual(ids(selection.kept), ['2026-12-02T11:00:00Z', '2026-12-01T01:00:00Z']);
    assert.deepEqual(selection.kept.map((k) => k.reasons), [['age'], ['age']]);
  });

  it('maxAge removes old backups that a rule would keep, but never the newest', () => {
    const backups = [on('2026-12-01T03:00:00Z'), on('2026-11-20T03:00:00Z'), on('2026-10-31T03:00:00Z')];
    const selection = selectKept(backups, { ...retentionOf({}), maxAgeMs: parseDuration('10d') }, now, utc);
    assert.deepEqual(ids(selection.kept), ['2026-12-01T03:00:00Z']);
    assert.deepEqual(selection.pruned.map((p) => p.reason), ['OlderThanMaxAge', 'OlderThanMaxAge']);
    const stale = selectKept([on('2026-01-01T03:00:00Z'), on('2025-12-01T03:00:00Z')], { ...retentionOf({}), maxAgeMs: parseDuration('10d') }, now, utc);
    assert.deepEqual(ids(stale.kept), ['2026-01-01T03:00:00Z']);
    assert.deepEqual(stale.kept[0]?.reasons, ['daily', 'weekly', 'monthly', 'newest']);
  });

  it('with every rule at 0 the newest complete backup stays, and says why', () => {
    const selection = selectKept([on('2026-12-01T03:00:00Z'), on('2026-12-02T03:00:00Z', false), on('2026-11-30T03:00:00Z')], nothing, now, utc);
    assert.deepEqual(selection.kept.map((k) => [k.backup.id, k.reasons]), [['2026-12-01T03:00:00Z', ['newest']]]);
    assert.deepEqual(ids(selection.pruned), ['2026-11-30T03:00:00Z']);
    assert.deepEqual(selection.incomplete.map((b) => b.id), ['2026-12-02T03:00:00Z']);
  });

  it('incomplete runs never count: they take no day and are neither kept nor pruned', () => {
    const selection = selectKept([on('2026-12-02T05:00:00Z', false), on('2026-12-02T03:00:00Z'), on('2026-12-01T03:00:00Z')], { ...nothing, daily: 1 }, now, utc);
    assert.deepEqual(ids(selection.kept), ['2026-12-02T03:00:00Z']);
    assert.deepEqual(ids(selection.pruned), ['2026-12-01T03:00:00Z']);
    assert.equal(selection.incomplete.length, 1);
  });

  it('a backup kept by several rules lists each', () => {
    const selection = selectKept([on('2026-12-02T03:00:00Z')], { ...retentionOf({}), keepLast: 1 }, now, utc);
    assert.deepEqual(selection.kept[0]?.reasons, ['last', 'daily', 'weekly', 'monthly']);
  });

  it('no backups, nothing to do; a negative count is refused', () => {
    assert.deepEqual(selectKept([], retentionOf({}), now, utc), { kept: [], pruned: [], incomplete: [] });
    assert.throws(() => selectKept([], { ...nothing, daily: -1 }, now, utc), /retention.daily must be a whole number ≥ 0, not -1/);
  });
});

describe('retention helpers', () => {
  it('parses durations with units w, d, h, m, s', () => {
    assert.equal(parseDuration('1w2d'), 9 * day);
    assert.equal(parseDuration('36h'), 1.5 * day);
    assert.equal(parseDuration('90s'), 90_000);
    assert.throws(() => parseDuration('30'), /"30" is not a duration/);
    assert.throws(() => parseDuration('3 days'), /is not a duration/);
  });

  it('fills in the defaults: 7 daily, 4 weekly, 12 monthly, nothing else', () => {
    assert.deepEqual(retentionOf(undefined), { keepLast: 0, daily: 7, weekly: 4, monthly: 12 });
    assert.deepEqual(retentionOf({ daily: 3, maxAge: '90d' }), { keepLast: 0, daily: 3, weekly: 4, monthly: 12, maxAgeMs: 90 * day });
  });

  it('ISO weeks: around New Year and in a 53-week year', () => {
    assert.equal(isoWeekOf(Date.UTC(2026, 0, 1)), '2026-W01'); // Thursday
    assert.equal(isoWeekOf(Date.UTC(2025, 11, 29)), '2026-W01'); // Monday before
    assert.equal(isoWeekOf(Date.UTC(2026, 11, 31)), '2026-W53');
    assert.equal(isoWeekOf(Date.UTC(2027, 0, 3)), '2026-W53'); // Sunday
    assert.equal(isoWeekOf(Date.UTC(2027, 0, 4)), '2027-W01'); // Monday
    assert.equal(isoWeekOf(Date.UTC(2024, 11, 30, 23, 59)), '2025-W01');
  });
});
