// Durations in DAG files are strings such as '30s', '10m', '4h', '1d', '250ms' or '1h30m'.
// A bare number is refused: `timeout: 30` reads as seconds to an Airflow user and as milliseconds
// to a JavaScript one, so the file must say which.
import { BatutaError } from '../errors.js';

/** Milliseconds per unit, largest first; a duration uses them in this order, each at most once. */
export const DURATION_UNITS_MS: Readonly<Record<'d' | 'h' | 'm' | 's' | 'ms', number>> = {
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
};

const UNIT_ORDER = ['d', 'h', 'm', 's', 'ms'] as const;
type DurationUnit = (typeof UNIT_ORDER)[number];

/** The grammar as a regular expression, for the JSON Schema (editors flag a bad duration as you type). */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$';

const SEGMENT = /([0-9]+(?:\.[0-9]+)?)([a-zA-Zµ]*)/y;

const isUnit = (text: string): text is DurationUnit => (UNIT_ORDER as readonly string[]).includes(text);

function unitHint(unit: string): string {
  const lower = unit.toLowerCase();
  if (unit === 'M') return "'M' is ambiguous; use 'm' for minutes (months are not a fixed duration)";
  if (isUnit(lower)) return `units are lower case: '${lower}'`;
  if (['w', 'wk', 'week', 'weeks'].includes(lower)) return "weeks are not a unit; write days, e.g. '7d'";
  if (['sec', 'secs', 'second', 'seconds'].includes(lower)) return "write seconds as 's'";
  if (['min', 'mins', 'minute', 'minutes'].includes(lower)) return "write minutes as 'm'";
  if (['hr', 'hrs', 'hour', 'hours'].includes(lower)) return "write hours as 'h'";
  if (['day', 'days'].includes(lower)) return "write days as 'd'";
  if (['us', 'µs', 'ns'].includes(lower)) return "the smallest unit is 'ms'";
  return 'use ms, s, m, h or d';
}

/** Why `text` is not a valid duration, or undefined when it is one. The message says what to write instead. */
export function durationProblem(text: string): string | undefined {
  const result = scan(text);
  return typeof result === 'string' ? result : undefined;
}

/** Parses a duration string to milliseconds; throws a BatutaError with code BAD_DURATION. */
export function parseDuration(text: string): number {
  if (typeof text !== 'string') {
    throw new BatutaError(
      'BAD_DURATION',
      `expected a duration string such as '30s', '10m' or '4h', got ${typeof text} ${String(text)}`,
    );
  }
  const result = scan(text);
  if (typeof result === 'string') throw new BatutaError('BAD_DURATION', result);
  return result;
}

/** Formats milliseconds the way a DAG file writes them: 5_400_000 → '1h30m', 250 → '250ms'. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0 || !Number.isInteger(ms)) return `${ms}ms`;
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of UNIT_ORDER) {
    const size = DURATION_UNITS_MS[unit];
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

function scan(text: string): number | string {
  const shown = JSON.stringify(text);
  if (text.trim() === '') return "a duration cannot be empty; write e.g. '30s', '10m' or '4h'";
  if (/\s/.test(text)) return `${shown} contains spaces; write it without them, e.g. '1h30m'`;
  if (text.startsWith('-')) return `${shown} is negative; a duration is at least '0s'`;
  if (/^[0-9]+(\.[0-9]+)?$/.test(text)) {
    return `${shown} has no unit; write e.g. '${text}s' for seconds or '${text}ms' for milliseconds`;
  }
  let total = 0;
  let position = 0;
  let previousRank = -1;
  while (position < text.length) {
    SEGMENT.lastIndex = position;
    const match = SEGMENT.exec(text);
    if (!match || match[0] === '') {
      return `${shown} is not a duration; write e.g. '30s', '10m', '4h', '1d', '250ms' or '1h30m'`;
    }
    const [, amount = '', unit = ''] = match;
    if (unit === '') {
      return position + match[0].length === text.length
        ? `${shown} ends with a number without a unit; add one of ms, s, m, h, d`
        : `${shown} is not a duration; write e.g. '30s', '10m', '4h', '1d', '250ms' or '1h30m'`;
    }
    if (!isUnit(unit)) return `${shown} has an unknown unit '${unit}'; ${unitHint(unit)}`;
    const rank = UNIT_ORDER.indexOf(unit);
    if (rank <= previousRank) {
      return `${shown}: units go from largest to smallest, each once (d, h, m, s, ms), as in '1h30m'`;
    }
    previousRank = rank;
    total += Number(amount) * DURATION_UNITS_MS[unit];
    position += match[0].length;
  }
  // Decimal amounts multiply in floating point ('0.1s' → 100.00000000000001); round off that noise only.
  const rounded = Math.round(total);
  if (Math.abs(total - rounded) > 1e-6) return `${shown} is not a whole number of milliseconds`;
  if (!Number.isSafeInteger(rounded)) return `${shown} is too long`;
  return rounded;
}
