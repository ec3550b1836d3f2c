import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cronScheduleRegExp } from './cron-syntax.ts';
import { CronSyntaxError, dueRun, jitteredStart, jitterOffsetMs, nextFireTime, parseCron, runDue, type RunDueInput } from './schedule.ts';
import { TimeZone } from './time-zone.ts';

const at = (iso: string): Date => new Date(iso);

function next(expression: string, zone: string, after: string): string | undefined {
  return nextFireTime(parseCron(expression), TimeZone.of(zone), at(after))?.toISOString();
}

// 2026-12-02 is a Wednesday. Every expected time below is worked out by hand
// from the calendar and the zones' 2026 rules:
// Europe/Berlin: 29 Mar 02:00 CET → 03:00 CEST (01:00Z); 25 Oct 03:00 CEST → 02:00 CET (01:00Z).
// America/New_York: 8 Mar 02:00 EST → 03:00 EDT (07:00Z); 1 Nov 02:00 EDT → 01:00 EST (06:00Z).
const cases: { what: string; expression: string; zone: string; after: string; expected: string | undefined }[] = [
  { what: 'daily, a second before', expression: '0 3 * * *', zone: 'UTC', after: '2026-12-02T02:59:59Z', expected: '2026-12-02T03:00:00.000Z' },
  { what: 'daily, exactly at: strictly after', expression: '0 3 * * *', zone: 'UTC', after: '2026-12-02T03:00:00Z', expected: '2026-12-03T03:00:00.000Z' },
  { what: 'every 15 minutes', expression: '*/15 * * * *', zone: 'UTC', after: '2026-12-02T10:07:12Z', expected: '2026-12-02T10:15:00.000Z' },
  { what: 'n/step runs from n to the end', expression: '5/20 * * * *', zone: 'UTC', after: '2026-12-02T10:26:00Z', expected: '2026-12-02T10:45:00.000Z' },
  { what: 'a weekday by name', expression: '30 2 * * sun', zone: 'UTC', after: '2026-12-02T00:00:00Z', expected: '2026-12-06T02:30:00.000Z' },
  { what: 'weekday 7 is Sunday', expression: '30 2 * * 7', zone: 'UTC', after: '2026-12-02T00:00:00Z', expected: '2026-12-06T02:30:00.000Z' },
  { what: 'months by name, into the next year', expression: '0 0 1 jan,JUL *', zone: 'UTC', after: '2026-12-02T00:00:00Z', expected: '2027-01-01T00:00:00.000Z' },
  { what: 'both day fields restricted: either matches (Friday 4th before the 13th)', expression: '0 12 13 * fri', zone: 'UTC', after: '2026-12-02T00:00:00Z', expected: '2026-12-04T12:00:00.000Z' },
  { what: 'day of month starting with *: both must match (Friday the 11th)', expression: '0 12 */10 * fri', zone: 'UTC', after: '2026-12-02T00:00:00Z', expected: '2026-12-11T12:00:00.000Z' },
  { what: '29 February, two years on', expression: '0 0 29 2 *', zone: 'UTC', after: '2026-12-02T00:00:00Z', expected: '2028-02-29T00:00:00.000Z' },
  { what: 'lists and ranges', expression: '0 1-2,22 * * *', zone: 'UTC', after: '2026-12-02T02:00:00Z', expected: '2026-12-02T22:00:00.000Z' },
  { what: 'Berlin in winter is UTC+1', expression: '0 3 * * *', zone: 'Europe/Berlin', after: '2026-12-02T00:00:00Z', expected: '2026-12-02T02:00:00.000Z' },
  { what: 'Berlin in summer is UTC+2', expression: '0 3 * * *', zone: 'Europe/Berlin', after: '2026-07-01T00:00:00Z', expected: '2026-07-01T01:00:00.000Z' },
  // Spring forward in Berlin: 02:30 does not exist on 29 March.
  { what: 'Berlin: the night before the change', expression: '30 2 * * *', zone: 'Europe/Berlin', after: '2026-03-28T00:00:00Z', expected: '2026-03-28T01:30:00.000Z' },
  { what: 'Berlin: a skipped time fires at the change', expression: '30 2 * * *', zone: 'Europe/Berlin', after: '2026-03-28T12:00:00Z', expected: '2026-03-29T01:00:00.000Z' },
  { what: 'Berlin: after the skipped time, the next night in summer time', expression: '30 2 * * *', zone: 'Europe/Berlin', after: '2026-03-29T01:00:00Z', expected: '2026-03-30T00:30:00.000Z' },
  { what: 'Berlin: 03:00 exists on the change day, at the change', expression: '0 3 * * *', zone: 'Europe/Berlin', after: '2026-03-28T12:00:00Z', expected: '2026-03-29T01:00:00.000Z' },
  { what: 'Berlin: several skipped times fire once, at the change', expression: '*/15 2 * * *', zone: 'Europe/Berlin', after: '2026-03-29T00:50:00Z', expected: '2026-03-29T01:00:00.000Z' },
  { what: 'Berlin: …and not again that day', expression: '*/15 2 * * *', zone: 'Europe/Berlin', after: '2026-03-29T01:00:00Z', expected: '2026-03-30T00:00:00.000Z' },
  // Fall back in Berlin: 02:00–02:59 occurs twice on 25 October.
  { what: 'Berlin: a repeated time fires the first time', expression: '30 2 * * *', zone: 'Europe/Berlin', after: '2026-10-24T12:00:00Z', expected: '2026-10-25T00:30:00.000Z' },
  { what: 'Berlin: …and not the second time', expression: '30 2 * * *', zone: 'Europe/Berlin', after: '2026-10-25T00:30:00Z', expected: '2026-10-26T01:30:00.000Z' },
  { what: 'Berlin: a frequent schedule pauses for the repeated hour', expression: '*/30 * * * *', zone: 'Europe/Berlin', after: '2026-10-25T00:30:00Z', expected: '2026-10-25T02:00:00.000Z' },
  // New York.
  { what: 'New York: a skipped time fires at the change', expression: '30 2 * * *', zone: 'America/New_York', after: '2026-03-07T12:00:00Z', expected: '2026-03-08T07:00:00.000Z' },
  { what: 'New York: a repeated time fires the first time (EDT)', expression: '30 1 * * *', zone: 'America/New_York', after: '2026-10-31T12:00:00Z', expected: '2026-11-01T05:30:00.000Z' },
  { what: 'New York: …then the next night in EST', expression: '30 1 * * *', zone: 'America/New_York', after: '2026-11-01T05:30:00Z', expected: '2026-11-02T06:30:00.000Z' },
  { what: 'New York: from inside the repeated hour, the second pass does not fire', expression: '45 1 * * *', zone: 'America/New_York', after: '2026-11-01T06:10:00Z', expected: '2026-11-02T06:45:00.000Z' },
  { what: 'New York: midnight on the fall-back day is still EDT', expression: '0 0 * * *', zone: 'America/New_York', after: '2026-10-31T12:00:00Z', expected: '2026-11-01T04:00:00.000Z' },
];

describe('nextFireTime', () => {
  for (const c of cases) {
    it(`${c.what}: "${c.expression}" in ${c.zone} after ${c.after}`, () => {
      assert.equal(next(c.expression, c.zone, c.after), c.expected);
    });
  }

  it('a whole year of a nightly Berlin schedule fires exactly once each local day', () => {
    const schedule = parseCron('30 2 * * *');
    const zone = TimeZone.of('Europe/Berlin');
    const fired: string[] = [];
    let cursor = at('2025-12-31T23:00:00Z'); // midnight, 1 January 2026, in Berlin
    for (;;) {
      const t = nextFireTime(schedule, zone, cursor);
      assert.ok(t);
      if (t.getTime() >= at('2026-12-31T23:00:00Z').getTime()) break;
      fired.push(new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(t));
      cursor = t;
    }
    assert.equal(fired.length, 365);
    assert.equal(new Set(fired).size, 365);
  });
});

describe('zones with unusual changes', () => {
  // Havana and Santiago change at midnight (so midnight itself is skipped once
  // a year), Lord Howe by half an hour, the Azores at 00:00/01:00 UTC. Over
  // all 418 zones Node.js knows, a one-off run (64 s) found no zone and day in
  // 2026 where these schedules fired other than once per local day.
  for (const zoneName of ['America/Havana', 'America/Santiago', 'Australia/Lord_Howe', 'Atlantic/Azores', 'Asia/Tehran']) {
    for (const expression of ['0 0 * * *', '30 2 * * *']) {
      it(`"${expression}" fires once on every local day of 2026 in ${zoneName}`, () => {
        const zone = TimeZone.of(zoneName);
        const schedule = parseCron(expression);
        const localDays = new Set<string>();
        let fired = 0;
        let cursor = new Date(zone.firstInstantAtOrAfter(Date.UTC(2026, 0, 1)) - 1);
        for (;;) {
          const t = nextFireTime(schedule, zone, cursor);
          assert.ok(t !== undefined && t > cursor);
          const localDay = new Date(zone.wallTime(t.getTime())).toISOString().slice(0, 10);
          if (localDay >= '2027-01-01') break;
          localDays.add(localDay);
          fired++;
          cursor = t;
        }
        assert.equal(fired, 365);
        assert.equal(localDays.size, 365);
      });
    }
  }
});

describe('parseCron', () => {
  const refused: [string, RegExp][] = [
    ['0 3 * *', /has 4 fields/],
    ['0 0 3 * * *', /has 6 fields/],
    ['60 * * * *', /minute: 60 is outside 0-59/],
    ['0 24 * * *', /hour: 24 is outside 0-23/],
    ['0 0 0 * *', /day of month: 0 is outside 1-31/],
    ['0 0 * 13 *', /month: 13 is outside 1-12/],
    ['0 0 * * 8', /day of week: 8 is outside 0-7/],
    ['5-1 * * * *', /range 5-1 runs backwards/],
    ['*/0 * * * *', /step "0" must be a positive number/],
    ['x * * * *', /minute: "x" is not a number/],
    ['0 0 * foo *', /month: "foo" is not a number or a name/],
    ['0 0 31 2 *', /never fires/],
    ['0 0 30,31 feb *', /never fires/],
  ];
  for (const [expression, message] of refused) {
    it(`refuses "${expression}"`, () => {
      assert.throws(() => parseCron(expression), (error: unknown) => error instanceof CronSyntaxError && message.test(error.message));
    });
  }

  it('reads names in any letter case, 7 as Sunday, and Vixie cron\'s day rule', () => {
    const schedule = parseCron('0 0 1 Jan-MAR/2 5-7');
    assert.deepEqual([...schedule.months].sort(), [1, 3]);
    assert.deepEqual([...schedule.daysOfWeek].sort(), [0, 5, 6]);
    assert.equal(schedule.dayFieldsEitherMatch, true);
    assert.equal(parseCron('0 0 */2 * mon').dayFieldsEitherMatch, false);
    assert.equal(parseCron('0 0 30 feb,apr *').daysOfMonth.has(30), true);
  });

  it('the CRD pattern and the parser agree on a few thousand random expressions', () => {
    // What the API server admits, the parser reads (apart from backwards
    // ranges and impossible days, which only the parser sees); what the
    // parser reads, the API server admitted.
    const common = ['*', '*/5', '1-5', '5-1', '3/20', '1,2', '2-3,5', 'x', '99', '1/0', '*/100', '01', ''];
    const perField = [
      ['0', '59', '60', '30-45/5'],
      ['0', '23', '24', '22-23'],
      ['0', '31', '32', '29-31'],
      ['0', '12', '13', 'jan', 'MAR-may', 'dec/2', 'foo'],
      ['0', '7', '8', 'sun', 'Fri', 'mon-fri', 'sat-sun', 'xyz'],
    ];
    let random = 12345;
    const draw = (choices: string[]): string => {
      random = (random * 1103515245 + 12345) % 2147483648;
      return choices[Math.floor(random / 65536) % choices.length] ?? '*';
    };
    let bothAccepted = 0;
    for (let i = 0; i < 5000; i++) {
      const expression = perField.map((own) => draw([...common, ...own])).join(' ');
      const admitted = cronScheduleRegExp.test(expression);
      let parsed = true;
      let problem = '';
      try {
        parseCron(expression);
      } catch (error) {
        assert.ok(error instanceof CronSyntaxError, String(error));
        parsed = false;
        problem = error.message;
      }
      if (parsed) assert.ok(admitted, `parsed but the CRD refuses: ${expression}`);
      if (admitted && !parsed) assert.match(problem, /runs backwards|never fires/, expression);
      if (admitted && parsed) bothAccepted++;
    }
    assert.ok(bothAccepted > 100, `only ${bothAccepted} valid expressions drawn`);
  });
});

describe('dueRun', () => {
  const nightly = parseCron('0 3 * * *');
  const utc = TimeZone.of('UTC');

  it('runs only the latest of the fire times missed while away, and says how many were passed over', () => {
    const run = dueRun(nightly, utc, at('2026-12-01T03:00:00Z'), at('2026-12-04T03:00:30Z'));
    assert.equal(run.due?.toISOString(), '2026-12-04T03:00:00.000Z');
    assert.equal(run.skipped, 2);
    assert.equal(run.next?.toISOString(), '2026-12-05T03:00:00.000Z');
  });

  it('nothing is due between fire times', () => {
    const run = dueRun(nightly, utc, at('2026-12-04T03:00:00Z'), at('2026-12-04T20:00:00Z'));
    assert.equal(run.due, undefined);
    assert.equal(run.skipped, 0);
    assert.equal(run.next?.toISOString(), '2026-12-05T03:00:00.000Z');
  });

  it('a minutely schedule after eight days away is due at the last minute, quickly', () => {
    const started = performance.now();
    const run = dueRun(parseCron('* * * * *'), TimeZone.of('Europe/Berlin'), at('2026-12-01T00:00:00Z'), at('2026-12-09T00:00:30Z'));
    assert.equal(run.due?.toISOString(), '2026-12-09T00:00:00.000Z');
    assert.ok(run.skipped >= 9_999);
    assert.ok(performance.now() - started < 5_000, 'took too long');
  });
});

describe('runDue', () => {
  const nightly = parseCron('0 3 * * *');
  const base = { zone: TimeZone.of('UTC'), suspend: false, created: at('2026-12-01T10:00:00Z'), lastRunId: undefined, lastScheduleTime: undefined, now: at('2026-12-02T03:00:20Z') };
  const iso = (d: Date | undefined): string | undefined => d?.toISOString();
  const cases: { what: string; input: Partial<RunDueInput>; due?: string; next?: string }[] = [
    { what: 'a one-off not run yet: due at its creation', input: { schedule: undefined }, due: '2026-12-01T10:00:00.000Z' },
    { what: 'a one-off whose run is recorded: nothing', input: { schedule: undefined, lastRunId: '20261201T100000Z' } },
    { what: 'a one-off whose record names another run (an object re-created under its name): due again', input: { schedule: undefined, lastRunId: '20261101T100000Z' }, due: '2026-12-01T10:00:00.000Z' },
    { what: 'a schedule fired since its creation', input: { schedule: nightly }, due: '2026-12-02T03:00:00.000Z', next: '2026-12-03T03:00:00.000Z' },
    { what: 'a schedule whose last fire time ran', input: { schedule: nightly, lastScheduleTime: '2026-12-02T03:00:00Z' }, next: '2026-12-03T03:00:00.000Z' },
    { what: 'a schedule created after its fire time today', input: { schedule: nightly, created: at('2026-12-02T03:00:10Z') }, next: '2026-12-03T03:00:00.000Z' },
    { what: 'a suspended schedule: nothing, not even a next time', input: { schedule: nightly, suspend: true } },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const result = runDue({ ...base, schedule: undefined, ...c.input });
      assert.deepEqual({ due: iso(result.due), next: iso(result.next) }, { due: c.due, next: c.next });
    });
  }
});

describe('jitter', () => {
  it('is stable, within [0, jitterSeconds) in milliseconds, and spreads schedules that share a minute', () => {
    const keys = Array.from({ length: 30 }, (_, i) => `site-${i}/nightly`);
    const offsets = keys.map((key) => jitterOffsetMs(key, 300));
    assert.deepEqual(offsets, keys.map((key) => jitterOffsetMs(key, 300)));
    for (const offset of offsets) assert.ok(Number.isInteger(offset) && offset >= 0 && offset < 300_000, String(offset));
    assert.equal(new Set(offsets).size, 30, 'thirty distinct instants');
    // Spread over the window: each fifth of it holds at least one schedule.
    for (let fifth = 0; fifth < 5; fifth++) assert.ok(offsets.some((o) => o >= fifth * 60_000 && o < (fifth + 1) * 60_000), `nothing in minute ${fifth}`);
    // A window of a few seconds still gives distinct instants.
    assert.equal(new Set(keys.map((key) => jitterOffsetMs(key, 20))).size, 30);
  });

  it('no jitter window means no delay; a negative one is refused', () => {
    assert.equal(jitterOffsetMs('a/b', 0), 0);
    assert.throws(() => jitterOffsetMs('a/b', -1), /jitterSeconds must be a whole number/);
  });

  it('the jittered start is the due time plus the offset', () => {
    const due = at('2026-12-02T03:00:00Z');
    assert.equal(jitteredStart(due, 'site-a/nightly', 300).getTime() - due.getTime(), jitterOffsetMs('site-a/nightly', 300));
  });
});

describe('TimeZone', () => {
  it('refuses an unknown zone by name', () => {
    assert.throws(() => TimeZone.of('Mars/Olympus'), /unknown time zone "Mars\/Olympus"/);
  });

  it('a skipped wall time has no instant, a repeated one has two', () => {
    const berlin = TimeZone.of('Europe/Berlin');
    assert.deepEqual(berlin.instantsOf(Date.UTC(2026, 2, 29, 2, 30)), []);
    assert.deepEqual(berlin.instantsOf(Date.UTC(2026, 9, 25, 2, 30)).map((t) => new Date(t).toISOString()), ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
  });
});
