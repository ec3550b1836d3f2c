// The grammar of a 5-field cron schedule, written once: the parser
// (schedule.ts) reads its fields from here, and the CRD checks a schedule
// with the regular expression built here, so a schedule the API server
// accepts is one the parser understands (a test holds the two together).
//
// The dialect is Vixie cron's, as cronie and Kubernetes CronJobs read it:
// `minute hour day-of-month month day-of-week`, each a list of `*`, `n` or
// `n-m`, optionally `/step`; a lone `n/step` means `n-max/step`; month and
// weekday names (jan…dec, sun…sat, any letter case); 0 and 7 are Sunday.

export interface CronField {
  /** The field's name, as parse errors say it. */
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names accepted for values, lower case, the first one meaning `min`. */
  readonly names?: readonly string[];
  /** A regular expression (RE2 and JavaScript alike) for one value, names included. */
  readonly valuePattern: string;
}

const monthNames = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;
const weekdayNames = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export const cronFields: readonly [CronField, CronField, CronField, CronField, CronField] = [
  { name: 'minute', min: 0, max: 59, valuePattern: '[0-5]?[0-9]' },
  { name: 'hour', min: 0, max: 23, valuePattern: '[01]?[0-9]|2[0-3]' },
  { name: 'day of month', min: 1, max: 31, valuePattern: '0?[1-9]|[12][0-9]|3[01]' },
  { name: 'month', min: 1, max: 12, names: monthNames, valuePattern: `0?[1-9]|1[0-2]|${monthNames.join('|')}` },
  // 7 is Sunday too, as in every cron since Vixie's.
  { name: 'day of week', min: 0, max: 7, names: weekdayNames, valuePattern: `[0-7]|${weekdayNames.join('|')}` },
];

/** A step: 1 to 99 (larger steps than a field's range would fire only at its start). */
const stepPattern = '[1-9][0-9]?';

function fieldPattern(field: CronField): string {
  const value = `(${field.valuePattern})`;
  const item = `([*]|${value}(-${value})?)(/${stepPattern})?`;
  return `${item}(,${item})*`;
}

/**
 * The whole schedule as an anchored, case-insensitive RE2 regular expression
 * (for CEL's `matches`). It checks each field's values and their ranges of
 * digits; what it cannot say (a range written backwards, such as `5-1`) the
 * parser refuses, and the controller reports it in the Ready condition.
 */
export const cronSchedulePattern = `(?i)^[ \\t]*${cronFields.map(fieldPattern).join('[ \\t]+')}[ \\t]*$`;

/** The same expression for JavaScript, which writes case-insensitivity as a flag. */
export const cronScheduleRegExp = new RegExp(cronSchedulePattern.slice('(?i)'.length), 'i');
