// Dates in DAG files (startDate, endDate): ISO-8601, or YAML 1.1 timestamps, read as text.

const DATE_TIME =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:[ \t]*(Z|z|[+-]\d{1,2}(?::?\d{2})?))?)?$/;

/**
 * Parses an ISO-8601 date or date-time, or a YAML timestamp (`2001-12-14 21:59:43.10 -5`), to ms since the
 * epoch. A value without an offset is UTC (Airflow's default time zone). Undefined when it is not one.
 */
export function parseDateTime(text: string): number | undefined {
  const match = DATE_TIME.exec(text.trim());
  if (!match) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', offset] = match;
  const parts = [Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)] as const;
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
  const local = Date.UTC(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], ms);
  const check = new Date(local);
  const same =
    check.getUTCFullYear() === parts[0] &&
    check.getUTCMonth() === parts[1] &&
    check.getUTCDate() === parts[2] &&
    check.getUTCHours() === parts[3] &&
    check.getUTCMinutes() === parts[4] &&
    check.getUTCSeconds() === parts[5];
  if (!same) return undefined;
  if (offset === undefined || offset === 'Z' || offset === 'z') return local;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const offsetHours = Number(digits.length <= 2 ? digits : digits.slice(0, -2));
  const offsetMinutes = digits.length <= 2 ? 0 : Number(digits.slice(-2));
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  return local - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}
