// Wall-clock time in an IANA time zone, from the time zone database that
// Node.js carries (Intl), without a library. Schedules fire and retention
// sorts backups into days, weeks and months by the wall clock of the
// MySQLBackup's spec.timeZone.
//
// A wall-clock time is written here as "naive milliseconds": the epoch
// milliseconds that the same calendar fields would have in UTC. They compare
// and add like instants, and `new Date(naive).getUTC*()` reads the fields.

const minute = 60_000;
const day = 24 * 60 * minute;

export class TimeZone {
  readonly name: string;
  readonly #format: Intl.DateTimeFormat;

  private constructor(name: string, format: Intl.DateTimeFormat) {
    this.name = name;
    this.#format = format;
  }

  /** The zone of an IANA name such as Europe/Berlin or UTC; throws a RangeError naming it when Node.js does not know it. */
  static of(name: string): TimeZone {
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (error) {
      throw new RangeError(`unknown time zone ${JSON.stringify(name)}: use an IANA name such as Europe/Berlin or UTC`, { cause: error });
    }
    return new TimeZone(name, format);
  }

  /** The wall-clock time at an instant, as naive milliseconds. */
  wallTime(instant: number): number {
    const fields: Record<string, number> = {};
    for (const part of this.#format.formatToParts(instant)) {
      if (part.type !== 'literal') fields[part.type] = Number(part.value);
    }
    const { year, month, day: date, hour, minute: min, second } = fields;
    if (year === undefined || month === undefined || date === undefined || hour === undefined || min === undefined || second === undefined) {
      throw new Error(`Intl gave incomplete fields for ${new Date(instant).toISOString()} in ${this.name}`);
    }
    // Years before 100 do not occur here; Date.UTC would read them as 19xx.
    return Date.UTC(year, month - 1, date, hour, min, second, ((instant % 1000) + 1000) % 1000);
  }

  /** Offset of the zone from UTC at an instant, in milliseconds (east positive). */
  offsetAt(instant: number): number {
    return this.wallTime(instant) - instant;
  }

  /**
   * Every instant whose wall-clock time is `naive`, earliest first: one as a
   * rule, two when the clocks are set back and the time occurs twice, none
   * when the clocks skip it.
   */
  instantsOf(naive: number): number[] {
    // Offsets change at most a few times a year; those around the wall time
    // are all the candidates.
    const offsets = new Set([this.offsetAt(naive - day), this.offsetAt(naive), this.offsetAt(naive + day)]);
    const instants = [...offsets].map((offset) => naive - offset).filter((instant) => this.wallTime(instant) === naive);
    return [...new Set(instants)].sort((a, b) => a - b);
  }

  /**
   * The instant the clocks reach `naive`: the first one that shows it, or,
   * when the clocks skip it, the moment they jump past it (a time in the gap
   * of a daylight-saving change happens "at the change").
   */
  firstInstantAtOrAfter(naive: number): number {
    const instants = this.instantsOf(naive);
    if (instants[0] !== undefined) return instants[0];
    const offsets = [this.offsetAt(naive - day), this.offsetAt(naive + day)];
    // Inside a gap the offset before is smaller than after. Binary search for
    // the first instant whose wall time is at or past `naive`.
    let low = naive - Math.max(...offsets);
    let high = naive - Math.min(...offsets);
    if (this.wallTime(low) >= naive || this.wallTime(high) < naive) {
      throw new Error(`no instant reaches ${new Date(naive).toISOString().slice(0, 19)} in ${this.name}: the zone's offsets around it are not a simple gap`);
    }
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (this.wallTime(middle) >= naive) high = middle;
      else low = middle;
    }
    return high;
  }
}

export const naiveMinute = minute;
export const naiveDay = day;
