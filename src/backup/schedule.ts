// Cron schedules of MySQLBackups: parsing, the next time a schedule fires in
// its time zone, the run that is due now, and each schedule's fixed jitter.
//
// Daylight-saving changes, decided once and documented in docs/backups.md:
// - a wall-clock time the clocks skip (02:30 on the spring-forward night in
//   Europe/Berlin) fires at the moment of the change (03:00 CEST), once, even
//   when several skipped times match (so "*/15 2 * * *" fires once then);
// - a wall-clock time that occurs twice (02:30 on the fall-back night) fires
//   once, the first time. A schedule every few minutes therefore pauses for
//   the repeated hour; a backup schedule loses nothing by that.
// Each wall-clock time fires at most once, so a nightly backup runs exactly
// once a night whatever the clocks do.
import { createHash } from 'node:crypto';
import { cronFields, cronScheduleRegExp, type CronField } from './cron-syntax.ts';
import { formatRunId } from './manifest.ts';
import { naiveDay, naiveMinute, TimeZone } from './time-zone.ts';

export class CronSyntaxError extends Error {
  constructor(expression: string, problem: string) {
    super(`schedule ${JSON.stringify(expression)}: ${problem}`);
    this.name = 'CronSyntaxError';
  }
}

export interface CronSchedule {
  readonly expression: string;
  /** Sorted values of each field; day of week 0–6 with Sunday 0. */
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  /**
   * Vixie cron's rule: when both day fields are restricted (neither starts
   * with "*"), a day matches if either does; otherwise both must.
   */
  readonly dayFieldsEitherMatch: boolean;
}

function parseValue(expression: string, field: CronField, text: string): number {
  const lower = text.toLowerCase();
  const byName = field.names?.indexOf(lower) ?? -1;
  if (byName >= 0) return byName + field.min;
  if (!/^[0-9]+$/.test(text)) throw new CronSyntaxError(expression, `${field.name}: ${JSON.stringify(text)} is not a number${field.names === undefined ? '' : ' or a name'}`);
  const value = Number(text);
  if (value < field.min || value > field.max) {
    throw new CronSyntaxError(expression, `${field.name}: ${value} is outside ${field.min}-${field.max}`);
  }
  return value;
}

function parseField(expression: string, field: CronField, text: string): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [range = '', stepText, extra] = item.split('/');
    if (extra !== undefined || range === '') throw new CronSyntaxError(expression, `${field.name}: ${JSON.stringify(item)} is not a value, range or step`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^[0-9]+$/.test(stepText) || Number(stepText) < 1) throw new CronSyntaxError(expression, `${field.name}: step ${JSON.stringify(stepText)} must be a positive number`);
      step = Number(stepText);
    }
    let low: number;
    let high: number;
    if (range === '*') {
      low = field.min;
      high = field.max;
    } else {
      const bounds = range.split('-');
      if (bounds.length > 2) throw new CronSyntaxError(expression, `${field.name}: ${JSON.stringify(range)} is not a range a-b`);
      low = parseValue(expression, field, bounds[0] ?? '');
      // "5/15" means from 5 to the end of the field, every 15.
      high = bounds[1] !== undefined ? parseValue(expression, field, bounds[1]) : stepText !== undefined ? field.max : low;
      if (high < low) throw new CronSyntaxError(expression, `${field.name}: range ${range} runs backwards`);
    }
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return values;
}

/** Days in a month of a leap year: the most a month can have. */
const mostDaysInMonth = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Parses a 5-field cron expression; throws CronSyntaxError saying what is wrong. */
export function parseCron(expression: string): CronSchedule {
  const texts = expression.trim().split(/[ \t]+/);
  if (texts.length !== 5) throw new CronSyntaxError(expression, `has ${texts.length} fields; a schedule has 5: minute hour day-of-month month day-of-week`);
  const [minuteField, hourField, domField, monthField, dowField] = cronFields;
  const [minuteText = '', hourText = '', domText = '', monthText = '', dowText = ''] = texts;
  const daysOfWeek = new Set([...parseField(expression, dowField, dowText)].map((d) => d % 7));
  const schedule: CronSchedule = {
    expression,
    minutes: [...parseField(expression, minuteField, minuteText)].sort((a, b) => a - b),
    hours: [...parseField(expression, hourField, hourText)].sort((a, b) => a - b),
    daysOfMonth: parseField(expression, domField, domText),
    months: parseField(expression, monthField, monthText),
    daysOfWeek,
    dayFieldsEitherMatch: !domText.startsWith('*') && !dowText.startsWith('*'),
  };
  // The grammar the CRD checks must admit everything parsed here.
  if (!cronScheduleRegExp.test(expression)) throw new CronSyntaxError(expression, 'is not a 5-field cron expression');
  const dayOfWeekDecides = schedule.dayFieldsEitherMatch || domText.startsWith('*');
  const someDayExists = [...schedule.months].some((month) => [...schedule.daysOfMonth].some((d) => d <= (mostDaysInMonth[month - 1] ?? 0)));
  if (!dayOfWeekDecides && !someDayExists) throw new CronSyntaxError(expression, 'never fires: no month it names has such a day');
  return schedule;
}

function dayMatches(schedule: CronSchedule, naiveDate: Date): boolean {
  if (!schedule.months.has(naiveDate.getUTCMonth() + 1)) return false;
  const dom = schedule.daysOfMonth.has(naiveDate.getUTCDate());
  const dow = schedule.daysOfWeek.has(naiveDate.getUTCDay());
  return schedule.dayFieldsEitherMatch ? dom || dow : dom && dow;
}

/**
 * Nine years of days: every schedule that fires at all fires within them (the
 * rarest day, 29 February, comes back within eight years).
 */
const searchDays = 9 * 366;

/**
 * The first time after `after` (strictly) that the schedule fires in the
 * zone, or undefined when it never does. See the top of this file for
 * daylight-saving changes.
 */
export function nextFireTime(schedule: CronSchedule, zone: TimeZone, after: Date): Date | undefined {
  const afterMs = after.getTime();
  const startWall = Math.floor(zone.wallTime(afterMs) / naiveMinute) * naiveMinute;
  const firstDay = Math.floor(startWall / naiveDay) * naiveDay;
  for (let index = 0; index < searchDays; index++) {
    const dayStart = firstDay + index * naiveDay;
    if (!dayMatches(schedule, new Date(dayStart))) continue;
    for (const hour of schedule.hours) {
      for (const minute of schedule.minutes) {
        const wall = dayStart + hour * 60 * naiveMinute + minute * naiveMinute;
        if (wall < startWall) continue;
        // First instants of successive wall times never decrease, so the
        // first one after `after` is the answer.
        const instant = zone.firstInstantAtOrAfter(wall);
        if (instant > afterMs) return new Date(instant);
      }
    }
  }
  return undefined;
}

export interface DueRun {
  /** The latest time the schedule fired in (since, now]: the run to start. Undefined when it did not fire. */
  readonly due?: Date;
  /** Earlier fire times in (since, now] that are passed over (counted up to 10 000): only the latest is run. */
  readonly skipped: number;
  /** The next fire time after now. */
  readonly next?: Date;
}

/** Fire times beyond this many in one call are not counted one by one (a minutely schedule over a week of downtime). */
const maxCounted = 10_000;

/**
 * The run due at `now` given the last time a run was due (`since`, e.g.
 * status.lastScheduleTime, or the object's creation time). Runs missed while
 * the operator was away are not all replayed: only the latest starts, as a
 * CronJob does.
 */
export function dueRun(schedule: CronSchedule, zone: TimeZone, since: Date, now: Date): DueRun {
  let due: Date | undefined;
  let fired = 0;
  let cursor = nextFireTime(schedule, zone, since);
  while (cursor !== undefined && cursor.getTime() <= now.getTime()) {
    due = cursor;
    fired++;
    if (fired >= maxCounted) {
      // Skip ahead to the last day before now; its last fire time is the one to run.
      const lastDay = nextFireTime(schedule, zone, new Date(Math.max(cursor.getTime(), now.getTime() - naiveDay)));
      cursor = lastDay;
      while (cursor !== undefined && cursor.getTime() <= now.getTime()) {
        due = cursor;
        cursor = nextFireTime(schedule, zone, cursor);
      }
      break;
    }
    cursor = nextFireTime(schedule, zone, cursor);
  }
  const result: { due?: Date; skipped: number; next?: Date } = { skipped: Math.max(0, fired - 1) };
  if (due !== undefined) result.due = due;
  const next = nextFireTime(schedule, zone, now);
  if (next !== undefined) result.next = next;
  return result;
}

/** What decides whether a backup object (MySQLBackup, VolumeBackup) has a run due. */
export interface RunDueInput {
  /** Undefined: a one-off backup. */
  readonly schedule: CronSchedule | undefined;
  readonly zone: TimeZone;
  readonly suspend: boolean;
  /** When the object was created. */
  readonly created: Date;
  /** status.lastRun.id: a one-off is done once it names the run due at creation. */
  readonly lastRunId: string | undefined;
  /** status.lastScheduleTime: the fire time of the last run a schedule started. */
  readonly lastScheduleTime: string | undefined;
  readonly now: Date;
}

/**
 * The run an object has due now, if any, and a schedule's next fire time: a
 * one-off's one run is due at its creation until lastRunId names it; a
 * schedule's is the latest fire time since its last run (or since its
 * creation), none while suspended.
 */
export function runDue(input: RunDueInput): { readonly due?: Date; readonly next?: Date } {
  if (input.schedule === undefined) return input.lastRunId === formatRunId(input.created) ? {} : { due: input.created };
  if (input.suspend) return {};
  const since = input.lastScheduleTime === undefined ? input.created : new Date(input.lastScheduleTime);
  const { due, next } = dueRun(input.schedule, input.zone, since, input.now);
  return { ...(due === undefined ? {} : { due }), ...(next === undefined ? {} : { next }) };
}

/**
 * A schedule's fixed delay after each fire time, in milliseconds within
 * [0, jitterSeconds × 1000): a hash of its key ("namespace/name"), so that the
 * same MySQLBackup starts at the same offset every night and on every
 * operator replica, while schedules sharing a minute spread over the window.
 * Milliseconds, not seconds: thirty schedules in a window of a few seconds
 * then still start at distinct instants, each in its queue order, instead of
 * several at the same instant in whatever order their reconciles run.
 */
export function jitterOffsetMs(key: string, jitterSeconds: number): number {
  if (!Number.isInteger(jitterSeconds) || jitterSeconds < 0) throw new RangeError(`jitterSeconds must be a whole number ≥ 0, not ${jitterSeconds}`);
  if (jitterSeconds === 0) return 0;
  return createHash('sha256').update(key).digest().readUInt32BE(0) % (jitterSeconds * 1000);
}

/** When a run due at `due` may start: its due time plus its schedule's jitter. */
export function jitteredStart(due: Date, key: string, jitterSeconds: number): Date {
  return new Date(due.getTime() + jitterOffsetMs(key, jitterSeconds));
}

export { TimeZone };
