// UTC offsets and transitions of an IANA time zone, read from Intl (the runtime's ICU data) and cached.
// A schedule asks "which offset applies at this instant, and since/until when"; answering from a sorted
// array of transitions costs a binary search, where one Intl call costs several microseconds.
import { BatutaError } from '../errors.js';
import { DAY_MS, daysFromCivil, utcYearOf, utcYearStartMs } from './calendar.js';

/** A stretch of time with one UTC offset. `wall = instant + offsetMs` inside it. */
export interface ZoneSegment {
  /** The transition that starts the segment (or an arbitrary point when no transition is near). */
  startMs: number;
  /** The next transition (exclusive), or an arbitrary later point when none is near. */
  endMs: number;
  offsetMs: number;
  /** The offset just before `startMs`: larger than `offsetMs` after a fall-back, smaller after a spring-forward. */
  previousOffsetMs: number;
}

const SECOND_MS = 1000;
const DIGITS = /(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)/;
const zones = new Map<string, TimeZone>();

/**
 * One IANA zone's offsets. Transitions are found by sampling each UTC year once a day and bisecting to
 * the second where the offset changes; two transitions less than a day apart that cancel out would go
 * unseen (the tz database has none).
 */
export class TimeZone {
  readonly name: string;
  private readonly formatter: Intl.DateTimeFormat;
  /** Covered UTC years → the offset in force just before the year starts. */
  private readonly offsetBeforeYear = new Map<number, number>();
  private transitions: number[] = [];
  private offsetsBefore: number[] = [];
  private offsetsAfter: number[] = [];
  private lastSegment: ZoneSegment | undefined;

  /** The shared instance for `name` (formatters and transitions are cached per zone). */
  static of(name: string): TimeZone {
    let zone = zones.get(name);
    if (!zone) {
      zone = new TimeZone(name);
      zones.set(name, zone);
    }
    return zone;
  }

  private constructor(name: string) {
    this.name = name;
    try {
      this.formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new BatutaError(
        'BAD_TIMEZONE',
        `unknown time zone '${name}'; write an IANA name such as 'Europe/Madrid' or 'UTC'`,
      );
    }
  }

  /** The UTC offset (ms) in force at `instantMs`. */
  offsetAt(instantMs: number): number {
    return this.segmentAt(instantMs).offsetMs;
  }

  /** The segment of constant offset that contains `instantMs`. */
  segmentAt(instantMs: number): ZoneSegment {
    const last = this.lastSegment;
    if (last && instantMs >= last.startMs && instantMs < last.endMs) return last;
    const year = utcYearOf(instantMs);
    for (let y = year - 1; y <= year + 1; y++) this.cover(y);
    const lowMs = utcYearStartMs(year - 1);
    const highMs = utcYearStartMs(year + 2);
    // Index of the last transition at or before the instant.
    let lo = 0;
    let hi = this.transitions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.transitions[mid]! <= instantMs) lo = mid + 1;
      else hi = mid;
    }
    const index = lo - 1;
    let segment: ZoneSegment;
    const nextTransition = this.transitions[index + 1];
    const endMs = nextTransition !== undefined && nextTransition < highMs ? nextTransition : highMs;
    if (index >= 0 && this.transitions[index]! >= lowMs) {
      segment = {
        startMs: this.transitions[index]!,
        endMs,
        offsetMs: this.offsetsAfter[index]!,
        previousOffsetMs: this.offsetsBefore[index]!,
      };
    } else {
      // No transition since the start of the covered years: the offset is the one in force then.
      const offsetMs = this.offsetBeforeYear.get(year - 1)!;
      segment = { startMs: lowMs, endMs, offsetMs, previousOffsetMs: offsetMs };
    }
    this.lastSegment = segment;
    return segment;
  }

  /** Finds the transitions of one UTC year, once. */
  private cover(year: number): void {
    if (this.offsetBeforeYear.has(year)) return;
    const startMs = utcYearStartMs(year);
    const endMs = utcYearStartMs(year + 1);
    const found: Array<[number, number, number]> = [];
    let previousMs = startMs - SECOND_MS;
    let previousOffset = this.probe(previousMs);
    this.offsetBeforeYear.set(year, previousOffset);
    for (let sampleMs = startMs - SECOND_MS + DAY_MS; previousMs < endMs - SECOND_MS; sampleMs += DAY_MS) {
      const atMs = Math.min(sampleMs, endMs - SECOND_MS);
      const offset = this.probe(atMs);
      let fromMs = previousMs;
      let fromOffset = previousOffset;
      while (fromOffset !== offset) {
        // Bisect (fromMs, atMs] down to the first second with another offset.
        let low = fromMs;
        let high = atMs;
        let highOffset = offset;
        while (high - low > SECOND_MS) {
          const mid = low + Math.floor((high - low) / (2 * SECOND_MS)) * SECOND_MS;
          const midOffset = this.probe(mid);
          if (midOffset === fromOffset) low = mid;
          else {
            high = mid;
            highOffset = midOffset;
          }
        }
        found.push([high, fromOffset, highOffset]);
        fromMs = high;
        fromOffset = highOffset;
      }
      previousMs = atMs;
      previousOffset = offset;
    }
    if (found.length === 0) return;
    const merged = this.transitions.map((at, i): [number, number, number] => [
      at,
      this.offsetsBefore[i]!,
      this.offsetsAfter[i]!,
    ]);
    merged.push(...found);
    merged.sort((a, b) => a[0] - b[0]);
    this.transitions = merged.map((entry) => entry[0]);
    this.offsetsBefore = merged.map((entry) => entry[1]);
    this.offsetsAfter = merged.map((entry) => entry[2]);
    this.lastSegment = undefined;
  }

  /** The offset at a whole second, straight from Intl. */
  private probe(instantMs: number): number {
    const secondMs = Math.floor(instantMs / SECOND_MS) * SECOND_MS;
    const match = DIGITS.exec(this.formatter.format(secondMs));
    if (!match) throw new BatutaError('BAD_TIMEZONE', `cannot read the UTC offset of '${this.name}' at ${secondMs}`);
    const [, month, day, year, hour, minute, second] = match.map(Number) as number[];
    const wallMs =
      daysFromCivil(year!, month!, day!) * DAY_MS + hour! * 3_600_000 + minute! * 60_000 + second! * SECOND_MS;
    return wallMs - secondMs;
  }
}
