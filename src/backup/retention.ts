// Which complete backups a MySQLBackup keeps. Pure: the controller lists the
// backups (their manifests), calls selectKept after each run, deletes what is
// pruned and writes the kept ones, with their reasons, to status.backups.
//
// The rules, as restic and borg read them (docs/backups.md):
// - keepLast N: the N newest backups;
// - keepWithin D: every backup younger than D;
// - daily / weekly / monthly N: the newest backup of each of the last N days
//   (ISO weeks, Monday to Sunday; calendar months) that have a backup, in the
//   schedule's time zone;
// - a backup is kept when any rule keeps it; then maxAge removes those older
//   than it, whatever kept them;
// - the newest complete backup is always kept, so that no policy (all rules
//   at 0, or a maxAge shorter than the gap since the last success) can leave
//   a site without a backup.
// Incomplete runs (no manifest) are never counted, kept or pruned here: the
// controller deletes them once their deadline has passed.
import { defaultRetention, type RetentionPolicy } from '../api/mysqlbackup.ts';
import { durationPattern } from '../api/backup-target.ts';
import type { TimeZone } from './time-zone.ts';

export interface RetainedBackup {
  readonly id: string;
  /** When the run was due (its id as a time): backups are sorted into days, weeks and months by it. */
  readonly time: Date;
  /** Whether its manifest.json was written after its data. */
  readonly complete: boolean;
}

export type KeepReason = 'last' | 'age' | 'daily' | 'weekly' | 'monthly' | 'newest';

export interface Retention {
  readonly keepLast: number;
  readonly daily: number;
  readonly weekly: number;
  readonly monthly: number;
  /** Milliseconds; undefined = no such rule. */
  readonly keepWithinMs?: number;
  /** Milliseconds; undefined = no limit. */
  readonly maxAgeMs?: number;
}

export interface Selection<B extends RetainedBackup> {
  /** Newest first, each with the rules that keep it. */
  readonly kept: readonly { readonly backup: B; readonly reasons: readonly KeepReason[] }[];
  /** Newest first: delete these. */
  readonly pruned: readonly { readonly backup: B; readonly reason: 'NotKept' | 'OlderThanMaxAge' }[];
  /** Incomplete runs, untouched. */
  readonly incomplete: readonly B[];
}

const unitMs: Record<string, number> = { w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };

/** "1w2d", "36h", "90d" → milliseconds. Throws a RangeError naming the text otherwise. */
export function parseDuration(text: string): number {
  if (!new RegExp(durationPattern).test(text)) throw new RangeError(`${JSON.stringify(text)} is not a duration such as 36h, 14d or 1w2d`);
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9]+)([wdhms])/g)) total += Number(amount) * (unitMs[unit ?? ''] ?? 0);
  return total;
}

/** spec.retention with its defaults (the API server fills them in; this covers objects built by hand). */
export function retentionOf(spec: RetentionPolicy | undefined): Retention {
  const retention: { -readonly [K in keyof Retention]: Retention[K] } = {
    keepLast: spec?.keepLast ?? defaultRetention.keepLast,
    daily: spec?.daily ?? defaultRetention.daily,
    weekly: spec?.weekly ?? defaultRetention.weekly,
    monthly: spec?.monthly ?? defaultRetention.monthly,
  };
  if (spec?.keepWithin !== undefined) retention.keepWithinMs = parseDuration(spec.keepWithin);
  if (spec?.maxAge !== undefined) retention.maxAgeMs = parseDuration(spec.maxAge);
  return retention;
}

/** Calendar buckets of a wall-clock date (naive milliseconds, see time-zone.ts). */
function dayOf(naive: number): string {
  return new Date(naive).toISOString().slice(0, 10);
}

function monthOf(naive: number): string {
  return new Date(naive).toISOString().slice(0, 7);
}

/** ISO 8601 week, such as 2026-W53: weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeekOf(naive: number): string {
  const date = new Date(Math.floor(naive / 86_400_000) * 86_400_000);
  const mondayBased = (date.getUTCDay() + 6) % 7;
  const thursday = new Date(date.getTime() + (3 - mondayBased) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function newestFirst(a: RetainedBackup, b: RetainedBackup): number {
  return b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

export function selectKept<B extends RetainedBackup>(backups: readonly B[], policy: Retention, now: Date, zone: TimeZone): Selection<B> {
  for (const [rule, count] of Object.entries({ keepLast: policy.keepLast, daily: policy.daily, weekly: policy.weekly, monthly: policy.monthly })) {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`retention.${rule} must be a whole number ≥ 0, not ${count}`);
  }
  const complete = backups.filter((b) => b.complete).sort(newestFirst);
  const incomplete = backups.filter((b) => !b.complete);
  const reasons = new Map<B, KeepReason[]>(complete.map((b) => [b, []]));
  const keep = (backup: B, reason: KeepReason): void => {
    reasons.get(backup)?.push(reason);
  };

  for (const b of complete.slice(0, policy.keepLast)) keep(b, 'last');
  if (policy.keepWithinMs !== undefined) {
    const since = now.getTime() - policy.keepWithinMs;
    for (const b of complete) if (b.time.getTime() > since) keep(b, 'age');
  }
  const calendarRules: [KeepReason, number, (naive: number) => string][] = [
    ['daily', policy.daily, dayOf],
    ['weekly', policy.weekly, isoWeekOf],
    ['monthly', policy.monthly, monthOf],
  ];
  for (const [reason, count, bucketOf] of calendarRules) {
    let previous: string | undefined;
    let taken = 0;
    for (const b of complete) {
      if (taken >= count) break;
      const bucket = bucketOf(zone.wallTime(b.time.getTime()));
      if (bucket === previous) continue;
      // The newest backup of a bucket comes first, since the list is newest first.
      previous = bucket;
      taken++;
      keep(b, reason);
    }
  }
  const newest = complete[0];

  const kept: { backup: B; reasons: KeepReason[] }[] = [];
  const pruned: { backup: B; reason: 'NotKept' | 'OlderThanMaxAge' }[] = [];
  for (const b of complete) {
    const why = reasons.get(b) ?? [];
    const tooOld = policy.maxAgeMs !== undefined && now.getTime() - b.time.getTime() > policy.maxAgeMs;
    if (b === newest) {
      // "newest" is named only where it is what keeps the backup.
      kept.push({ backup: b, reasons: why.length === 0 || tooOld ? [...why, 'newest'] : why });
    }
    else if (tooOld) pruned.push({ backup: b, reason: 'OlderThanMaxAge' });
    else if (why.length > 0) kept.push({ backup: b, reasons: why });
    else pruned.push({ backup: b, reason: 'NotKept' });
  }
  return { kept, pruned, incomplete };
}
