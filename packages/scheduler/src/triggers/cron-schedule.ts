// A cron entry in an IANA time zone, stepping across DST transitions by Vixie cron's rule (AIRFLOW.md,
// "Scheduling"). cron-parser parses and expands the fields; the stepping is ours, because cron-parser's
// own next() breaks that rule around transitions and costs ~100 µs per call in a DST zone.
//
// The rule, on the zone's wall clock:
// - a fixed-time entry (no `*` in its minute or hour field) fires once at the first instant each matching
//   wall time occurs; a matching wall time skipped by a spring-forward fires at the transition instant
//   (several skipped times collapse into that one fire);
// - an entry with `*` in its minute or hour field fires at every instant whose wall time matches: slots
//   inside a skipped hour do not exist, slots inside a repeated hour fire twice.
import { CronExpressionParser } from 'cron-parser';
import { cronProblem, DEFAULT_TIMEZONE, resolveCron, timezoneProblem } from '../dag/schedule.js';
import { BatutaError } from '../errors.js';
import { DAY_MS, daysFromCivil } from './calendar.js';
import { CronFieldMatcher } from './cron-fields.js';
import type { Schedule } from './schedule.js';
import { TimeZone } from './time-zone.js';

/** How far next()/previous() look for a fire before answering "none". */
const HORIZON_MS = 400 * 366 * DAY_MS;
/**
 * Wider than any jump of a zone's wall clock (Samoa skipped a whole day in 2011) plus the widest offset,
 * so skipping ahead to "near the next matching wall time" never skips a fire.
 */
const JUMP_MARGIN_MS = 2 * DAY_MS;
/** Instants served: what Date (so Intl) holds, from year 4 on, less room for the zone's look-around. */
const LAST_INSTANT_MS = 8.64e15 - 3 * 366 * DAY_MS;
const FIRST_INSTANT_MS = daysFromCivil(4, 1, 1) * DAY_MS;

/** A cron entry evaluated on the wall clock of a time zone, with Vixie cron's DST rule. */
export class CronSchedule implements Schedule {
  /** The five-field expression (presets resolved). */
  readonly expression: string;
  readonly timezone: string;
  /**
   * True for a fixed-time entry (no `*` in the minute or hour field): skipped times fire once after the
   * jump, repeated times fire once. False: the entry follows the wall clock through transitions.
   */
  readonly fixedTime: boolean;
  private readonly fields: CronFieldMatcher;
  private readonly zone: TimeZone;

  /** Throws a BatutaError (`BAD_CRON`, `BAD_TIMEZONE`) that says what to fix. */
  constructor(expression: string, timezone: string = DEFAULT_TIMEZONE) {
    const trimmed = expression.trim();
    if (/(^|\s|,)[0-9L]*W/i.test(trimmed.split(/\s+/)[2] ?? '')) {
      throw new BatutaError(
        'BAD_CRON',
        `'${trimmed}' uses 'W' (nearest weekday), which cron-parser does not support; list the days explicitly`,
      );
    }
    const problem = cronProblem(trimmed);
    if (problem) throw new BatutaError('BAD_CRON', problem);
    const zoneProblem = timezoneProblem(timezone);
    if (zoneProblem) throw new BatutaError('BAD_TIMEZONE', zoneProblem);
    this.expression = resolveCron(trimmed);
    this.timezone = timezone;
    const [minute = '', hour = ''] = this.expression.split(' ');
    this.fixedTime = !/[*?]/.test(minute) && !/[*?]/.test(hour);
    this.fields = new CronFieldMatcher(CronExpressionParser.parse(this.expression, { tz: 'UTC' }).fields);
    this.zone = TimeZone.of(timezone);
  }

  /** The first fire time strictly after `afterMs`. */
  next(afterMs: number): number | undefined {
    if (!Number.isFinite(afterMs)) return undefined;
    let cursor = Math.max(Math.floor(afterMs) + 1, FIRST_INSTANT_MS); // the earliest instant still eligible
    const horizon = Math.min(cursor + HORIZON_MS, LAST_INSTANT_MS);
    while (cursor <= horizon) {
      const segment = this.zone.segmentAt(cursor);
      const offset = segment.offsetMs;
      if (this.fixedTime && segment.startMs === cursor && this.firesAtGap(segment.startMs, segment)) return cursor;
      // A fixed-time entry never fires again for wall times the clock already showed before a fall-back.
      const floorWall = this.fixedTime
        ? Math.max(cursor + offset, segment.startMs + segment.previousOffsetMs)
        : cursor + offset;
      const endWall = segment.endMs + offset;
      const wall = this.fields.nextMatch(floorWall, endWall);
      if (wall !== undefined) return wall - offset;
      // Nothing in this segment: skip ahead to shortly before the next matching wall time.
      const ahead = this.fields.nextMatch(endWall - JUMP_MARGIN_MS);
      if (ahead === undefined) return undefined;
      cursor = Math.max(segment.endMs, ahead - JUMP_MARGIN_MS);
    }
    return undefined;
  }

  /** The last fire time strictly before `beforeMs`. */
  previous(beforeMs: number): number | undefined {
    if (!Number.isFinite(beforeMs)) return undefined;
    let cursor = Math.min(Math.ceil(beforeMs) - 1, LAST_INSTANT_MS); // the latest instant still eligible
    const horizon = Math.max(cursor - HORIZON_MS, FIRST_INSTANT_MS);
    while (cursor >= horizon) {
      const segment = this.zone.segmentAt(cursor);
      const offset = segment.offsetMs;
      const floorWall = this.fixedTime
        ? Math.max(segment.startMs + offset, segment.startMs + segment.previousOffsetMs)
        : segment.startMs + offset;
      const wall = this.fields.previousMatch(cursor + offset, floorWall);
      if (wall !== undefined) return wall - offset;
      if (this.fixedTime && this.firesAtGap(segment.startMs, segment)) return segment.startMs;
      const behind = this.fields.previousMatch(segment.startMs + offset + JUMP_MARGIN_MS);
      if (behind === undefined) return undefined;
      cursor = Math.min(segment.startMs - 1, behind + JUMP_MARGIN_MS);
    }
    return undefined;
  }

  /** The fire times in `[fromMs, toMs)`, in order. */
  *between(fromMs: number, toMs: number): Generator<number, void, undefined> {
    let fire = this.next(fromMs - 1);
    while (fire !== undefined && fire < toMs) {
      yield fire;
      fire = this.next(fire);
    }
  }

  /** True when the segment starts with a spring-forward that skipped a matching wall time. */
  private firesAtGap(startMs: number, segment: { offsetMs: number; previousOffsetMs: number }): boolean {
    if (segment.offsetMs <= segment.previousOffsetMs) return false;
    return this.fields.nextMatch(startMs + segment.previousOffsetMs, startMs + segment.offsetMs) !== undefined;
  }
}
