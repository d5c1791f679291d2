// Schedule forms of a DAG file → ScheduleSpec, with the checks both the YAML loader and validateDag use.
// cron-parser only parses here; stepping across DST transitions belongs to triggers/.
import { CronExpressionParser } from 'cron-parser';
import { DagValidationError } from '../errors.js';
import { durationProblem, parseDuration } from './duration.js';
import { didYouMean, type PathIssue, type PathSegment, toDagIssue } from './issues.js';
import type { ScheduleSpec } from './model.js';

/** Airflow's cron presets and the expressions they stand for (`@once` is not a cron; it has its own kind). */
export const CRON_PRESETS: Readonly<Record<string, string>> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@quarterly': '0 0 1 */3 *',
  '@yearly': '0 0 1 1 *',
};

/** Every preset a schedule string may name. */
export const SCHEDULE_PRESETS: readonly string[] = ['@once', ...Object.keys(CRON_PRESETS)];

/** The time zone of a schedule that names none. */
export const DEFAULT_TIMEZONE = 'UTC';

const CRON_FIELDS = 'minute hour day-of-month month day-of-week';

/** A schedule as a DAG file writes it (after type checks); null means "no schedule: triggered only". */
export type ScheduleInput =
  | string
  | null
  | {
      cron?: string | undefined;
      timezone?: string | undefined;
      every?: string | undefined;
      events?: string[] | undefined;
      event?: string | undefined;
      datasets?: string[] | undefined;
    };

/** Collapses runs of whitespace, so `0  0 * * *` and `0 0 * * *` are the same schedule. */
const tidy = (expression: string): string => expression.trim().split(/\s+/).join(' ');

/** Why `expression` is not a usable cron expression or cron preset, or undefined when it is one. */
export function cronProblem(expression: string): string | undefined {
  const text = tidy(expression);
  // Parsing a cron expression costs ~0.1 ms; a folder of DAGs repeats a handful of them.
  if (cronProblems.has(text)) return cronProblems.get(text);
  const problem = findCronProblem(text);
  if (cronProblems.size >= CACHE_LIMIT) cronProblems.clear();
  cronProblems.set(text, problem);
  return problem;
}

const CACHE_LIMIT = 10_000;
const cronProblems = new Map<string, string | undefined>();
const validZones = new Map<string, boolean>();

function findCronProblem(text: string): string | undefined {
  if (text === '') return `a cron expression cannot be empty; write 5 fields (${CRON_FIELDS}) or a preset`;
  if (text.startsWith('@')) {
    if (text === '@once') return "'@once' is not a cron expression; write `schedule: '@once'`";
    if (Object.hasOwn(CRON_PRESETS, text)) return undefined;
    return `unknown preset '${text}'${didYouMean(text, SCHEDULE_PRESETS)} (presets: ${SCHEDULE_PRESETS.join(', ')})`;
  }
  const fields = text.split(' ');
  if (fields.length !== 5) {
    const seconds = fields.length === 6 ? '; a seconds field is not supported' : '';
    return `'${text}' has ${fields.length} field${fields.length === 1 ? '' : 's'}; a cron expression has 5 (${CRON_FIELDS})${seconds}`;
  }
  // Jenkins' `H` picks a pseudo-random value; a schedule must mean the same thing on every machine.
  if (fields.some((field) => /(^|,)H(\(|\/|,|$)/i.test(field))) {
    return `'${text}' uses 'H' (hashed values), which is not supported; write the minute or hour explicitly`;
  }
  try {
    CronExpressionParser.parse(text, { tz: DEFAULT_TIMEZONE });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `'${text}' is not a valid cron expression (${CRON_FIELDS}): ${reason}`;
  }
  return undefined;
}

/** The cron expression a valid cron string or preset stands for (`@daily` → `0 0 * * *`). */
export function resolveCron(expression: string): string {
  const text = tidy(expression);
  return CRON_PRESETS[text] ?? text;
}

let zoneNames: string[] | undefined;
const knownZones = (): string[] => {
  zoneNames ??= ['UTC', ...Intl.supportedValuesOf('timeZone')];
  return zoneNames;
};

/** True when the runtime knows `timezone` as an IANA zone name. */
export function isValidTimezone(timezone: string): boolean {
  if (timezone.trim() === '') return false;
  // Building an Intl formatter costs ~1 ms; remember the answer per name.
  let valid = validZones.get(timezone);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone });
      valid = true;
    } catch {
      valid = false;
    }
    if (validZones.size >= CACHE_LIMIT) validZones.clear();
    validZones.set(timezone, valid);
  }
  return valid;
}

/** Why `timezone` is not usable, or undefined. */
export function timezoneProblem(timezone: string): string | undefined {
  if (isValidTimezone(timezone)) return undefined;
  if (timezone.trim() === '') return "a time zone cannot be empty; write an IANA name such as 'Europe/Madrid' or 'UTC'";
  const suggestion = didYouMean(timezone, knownZones());
  return `unknown time zone '${timezone}'${suggestion}${suggestion === '' ? "; write an IANA name such as 'Europe/Madrid' or 'UTC'" : ''}`;
}

/** Problems with a schedule as written in a file; paths start at `schedule`. */
export function scheduleInputIssues(input: ScheduleInput, base: readonly PathSegment[] = ['schedule']): PathIssue[] {
  if (input === null) return [];
  if (typeof input === 'string') {
    if (tidy(input) === '@once') return [];
    const problem = cronProblem(input);
    return problem ? [{ code: 'BAD_CRON', message: problem, path: [...base] }] : [];
  }
  const issues: PathIssue[] = [];
  const at = (field: string): PathSegment[] => [...base, field];
  const forms = (['cron', 'every', 'events', 'event', 'datasets'] as const).filter((key) => input[key] !== undefined);
  if (forms.length === 0) {
    issues.push({
      code: 'MISSING_FIELD',
      message: "a schedule map needs one of 'cron', 'every', 'events' (or 'event') or 'datasets'",
      path: [...base],
    });
  }
  if (input.events !== undefined && input.event !== undefined) {
    issues.push({ code: 'INVALID_VALUE', message: "write either 'event' or 'events', not both", path: at('event') });
  }
  const kinds = forms.filter((key) => key !== 'event' || input.events === undefined);
  const combined = kinds.length === 2 && kinds.includes('datasets') && kinds.includes('cron');
  if (kinds.length > 1 && !combined) {
    const [first, second] = kinds;
    issues.push({
      code: 'INVALID_VALUE',
      message: `a schedule is one form: {cron, timezone}, {every}, {events} or {datasets[, cron, timezone]}; found both '${first}' and '${second}'`,
      path: at(String(second)),
    });
  }
  if (input.cron !== undefined) {
    const problem = cronProblem(input.cron);
    if (problem) issues.push({ code: 'BAD_CRON', message: problem, path: at('cron') });
  }
  if (input.timezone !== undefined) {
    if (input.cron === undefined) {
      issues.push({
        code: 'INVALID_VALUE',
        message: "'timezone' applies to a cron schedule only; 'every' keeps fixed UTC spacing",
        path: at('timezone'),
      });
    } else {
      const problem = timezoneProblem(input.timezone);
      if (problem) issues.push({ code: 'BAD_TIMEZONE', message: problem, path: at('timezone') });
    }
  }
  if (input.every !== undefined) {
    const problem = durationProblem(input.every);
    if (problem) issues.push({ code: 'BAD_DURATION', message: problem, path: at('every') });
    else if (parseDuration(input.every) === 0) {
      issues.push({ code: 'BAD_DURATION', message: "'every' must be longer than 0s", path: at('every') });
    }
  }
  issues.push(...nameListIssues(input.events, at('events'), 'event'));
  if (input.event !== undefined && input.event.trim() === '') {
    issues.push({ code: 'INVALID_VALUE', message: 'an event name cannot be empty', path: at('event') });
  }
  issues.push(...nameListIssues(input.datasets, at('datasets'), 'dataset'));
  return issues;
}

function nameListIssues(names: readonly string[] | undefined, path: PathSegment[], what: string): PathIssue[] {
  if (names === undefined) return [];
  if (names.length === 0) return [{ code: 'INVALID_VALUE', message: `list at least one ${what}`, path }];
  const issues: PathIssue[] = [];
  const seen = new Set<string>();
  names.forEach((name, index) => {
    if (name.trim() === '')
      issues.push({ code: 'INVALID_VALUE', message: `a ${what} name cannot be empty`, path: [...path, index] });
    else if (seen.has(name))
      issues.push({ code: 'INVALID_VALUE', message: `'${name}' is listed twice`, path: [...path, index] });
    seen.add(name);
  });
  return issues;
}

/** A schedule as written in a file → ScheduleSpec; undefined for no schedule. Throws DagValidationError when invalid. */
export function parseSchedule(input: Exclude<ScheduleInput, null>): ScheduleSpec;
export function parseSchedule(input: ScheduleInput | undefined): ScheduleSpec | undefined;
export function parseSchedule(input: ScheduleInput | undefined): ScheduleSpec | undefined {
  if (input === undefined || input === null) return undefined;
  const issues = scheduleInputIssues(input);
  if (issues.length > 0) throw new DagValidationError(issues.map(toDagIssue));
  if (typeof input === 'string') {
    if (tidy(input) === '@once') return { kind: 'once' };
    return { kind: 'cron', cron: resolveCron(input), timezone: DEFAULT_TIMEZONE };
  }
  const timezone = input.timezone ?? DEFAULT_TIMEZONE;
  if (input.datasets !== undefined) {
    return {
      kind: 'datasets',
      datasets: [...input.datasets],
      ...(input.cron !== undefined ? { orCron: { cron: resolveCron(input.cron), timezone } } : {}),
    };
  }
  if (input.cron !== undefined) return { kind: 'cron', cron: resolveCron(input.cron), timezone };
  if (input.every !== undefined) return { kind: 'every', everyMs: parseDuration(input.every) };
  if (input.events !== undefined) return { kind: 'events', events: [...input.events] };
  return { kind: 'events', events: [input.event ?? ''] };
}

/** Problems with a normalized ScheduleSpec (what the TypeScript DSL builds); paths use the file's field names. */
export function scheduleSpecIssues(schedule: ScheduleSpec): PathIssue[] {
  const issues: PathIssue[] = [];
  const cronIssues = (cron: string, timezone: string): void => {
    const cronIssue = cronProblem(cron);
    if (cronIssue) issues.push({ code: 'BAD_CRON', message: cronIssue, path: ['schedule', 'cron'] });
    const zoneIssue = timezoneProblem(timezone);
    if (zoneIssue) issues.push({ code: 'BAD_TIMEZONE', message: zoneIssue, path: ['schedule', 'timezone'] });
  };
  switch (schedule.kind) {
    case 'cron':
      cronIssues(schedule.cron, schedule.timezone);
      break;
    case 'every':
      if (!Number.isFinite(schedule.everyMs) || schedule.everyMs <= 0) {
        issues.push({
          code: 'BAD_DURATION',
          message: `'every' must be longer than 0s, got ${schedule.everyMs}ms`,
          path: ['schedule', 'every'],
        });
      }
      break;
    case 'events':
      issues.push(...nameListIssues(schedule.events, ['schedule', 'events'], 'event'));
      break;
    case 'datasets':
      issues.push(...nameListIssues(schedule.datasets, ['schedule', 'datasets'], 'dataset'));
      if (schedule.orCron) cronIssues(schedule.orCron.cron, schedule.orCron.timezone);
      break;
    case 'once':
      break;
  }
  return issues;
}
