// The brute-force reference the cron tests compare CronSchedule against. It shares no code with the
// implementation: it walks every UTC minute of a span, asks Intl for the local wall-clock time of each,
// matches the entry's fields (parsed here, simple forms only) and applies Vixie cron's rule the way cron
// itself does, minute by minute:
// - a fixed-time entry (no `*` in minute or hour) fires at a minute whose wall time matches and is later
//   than any wall time shown before (a repeated wall time fires only the first time); when the wall
//   clock jumps forward, it also fires at the first minute after the jump if a skipped wall time matched;
// - any other entry fires at every minute whose wall time matches.

const MINUTE = 60_000;

/** Local wall-clock time (as if UTC, ms) of every UTC minute in `[fromMs, toMs)`. */
export interface WallTimeline {
  fromMs: number;
  walls: Float64Array;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** The local wall time of one instant, read from Intl ("dd/mm/yyyy, hh:mm" in en-GB). */
export function wallTimeOf(zone: string, instantMs: number): number {
  const text = formatterFor(zone).format(instantMs);
  const match = /^(\d{2})\/(\d{2})\/(\d{4}), (\d{2}):(\d{2})$/.exec(text);
  if (!match) throw new Error(`unexpected Intl output '${text}'`);
  const [, day, month, year, hour, minute] = match.map(Number) as number[];
  return Date.UTC(year!, month! - 1, day!, hour!, minute!);
}

const timelines = new Map<string, WallTimeline>();

/** Walks every UTC minute of `[fromMs, toMs)` (cached per zone and span). */
export function wallTimeline(zone: string, fromMs: number, toMs: number): WallTimeline {
  const key = `${zone} ${fromMs} ${toMs}`;
  let timeline = timelines.get(key);
  if (!timeline) {
    const count = Math.ceil((toMs - fromMs) / MINUTE);
    const walls = new Float64Array(count);
    for (let i = 0; i < count; i++) walls[i] = wallTimeOf(zone, fromMs + i * MINUTE);
    timeline = { fromMs, walls };
    timelines.set(key, timeline);
  }
  return timeline;
}

/** Instants in `[fromMs, toMs)` where the zone's UTC offset changes (hour resolution, then minute). */
export function transitionsOf(zone: string, fromMs: number, toMs: number): number[] {
  const offset = (ms: number) => wallTimeOf(zone, ms) - ms;
  const found: number[] = [];
  let previous = offset(fromMs);
  for (let hour = fromMs + 3_600_000; hour < toMs; hour += 3_600_000) {
    const current = offset(hour);
    if (current !== previous) {
      let t = hour - 3_600_000;
      while (offset(t) === previous) t += MINUTE;
      found.push(t);
      previous = current;
    }
  }
  return found;
}

function parseField(text: string, min: number, max: number): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let low: number;
    let high: number;
    if (range === '*') {
      low = min;
      high = max;
    } else if (range.includes('-')) {
      [low, high] = range.split('-').map(Number) as [number, number];
    } else {
      low = Number(range);
      high = stepText === undefined ? low : max;
    }
    if (!Number.isInteger(low) || !Number.isInteger(high) || !Number.isInteger(step)) {
      throw new Error(`the reference parses simple fields only, not '${text}'`);
    }
    for (let v = low; v <= high; v += step) values.add(v === 7 && max === 7 ? 0 : v);
  }
  return values;
}

/** A cron entry of simple fields (numbers, ranges, steps, lists, `*`), matched on wall-clock times. */
export class ReferenceEntry {
  readonly fixedTime: boolean;
  private readonly minutes: Set<number>;
  private readonly hours: Set<number>;
  private readonly daysOfMonth: Set<number>;
  private readonly months: Set<number>;
  private readonly weekdays: Set<number>;
  private readonly dayOfMonthStar: boolean;
  private readonly dayOfWeekStar: boolean;

  constructor(expression: string) {
    const fields = expression.trim().split(/\s+/);
    if (fields.length !== 5) throw new Error(`five fields expected in '${expression}'`);
    const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
    this.fixedTime = !minute.includes('*') && !hour.includes('*');
    this.minutes = parseField(minute, 0, 59);
    this.hours = parseField(hour, 0, 23);
    this.daysOfMonth = parseField(dayOfMonth, 1, 31);
    this.months = parseField(month, 1, 12);
    this.weekdays = parseField(dayOfWeek, 0, 7);
    this.dayOfMonthStar = dayOfMonth === '*';
    this.dayOfWeekStar = dayOfWeek === '*';
  }

  matches(wallMs: number): boolean {
    const date = new Date(wallMs);
    if (!this.minutes.has(date.getUTCMinutes()) || !this.hours.has(date.getUTCHours())) return false;
    if (!this.months.has(date.getUTCMonth() + 1)) return false;
    const dayOfMonth = this.daysOfMonth.has(date.getUTCDate());
    const dayOfWeek = this.weekdays.has(date.getUTCDay());
    if (this.dayOfMonthStar || this.dayOfWeekStar) return dayOfMonth && dayOfWeek;
    return dayOfMonth || dayOfWeek;
  }
}

/**
 * Fire times of `entry` over a timeline, by the rule. The timeline must start away from a transition
 * (its first minute has no "before" to compare with).
 */
export function referenceFires(entry: ReferenceEntry, timeline: WallTimeline): number[] {
  const fires: number[] = [];
  let highWater = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < timeline.walls.length; i++) {
    const instant = timeline.fromMs + i * MINUTE;
    const wall = timeline.walls[i]!;
    if (!entry.fixedTime) {
      if (entry.matches(wall)) fires.push(instant);
      continue;
    }
    if (wall <= highWater) continue; // a repeated wall time: fired (or not) the first time
    let fire = entry.matches(wall);
    if (!fire && highWater !== Number.NEGATIVE_INFINITY) {
      for (let skipped = highWater + MINUTE; skipped < wall && !fire; skipped += MINUTE) fire = entry.matches(skipped);
    }
    if (fire) fires.push(instant);
    highWater = wall;
  }
  return fires;
}
