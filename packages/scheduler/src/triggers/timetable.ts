// When a DAG runs on time: its fire times within its start and end dates, each run's data interval, and
// which scheduled runs are due now under catchup and maxActiveRuns. Pure: the caller passes "now" and
// what the store knows; the answer is the same on every scheduler, so two schedulers create the same ids.
import type { DagSpec, ScheduleSpec } from '../dag/model.js';
import { CronSchedule } from './cron-schedule.js';
import { IntervalSchedule } from './interval-schedule.js';
import { OnceSchedule } from './once-schedule.js';
import { scheduledRunId } from './run-ids.js';
import type { Schedule } from './schedule.js';

/** The fields of a DAG that decide when it runs. */
export type TimedDag = Pick<DagSpec, 'id' | 'schedule' | 'startDateMs' | 'endDateMs' | 'catchup' | 'maxActiveRuns'>;

/** `[startMs, endMs)`: the period a run covers. */
export interface DataInterval {
  startMs: number;
  endMs: number;
}

/** A run the scheduler should create: its deterministic id, logical date and data interval. */
export interface PlannedRun {
  runId: string;
  logicalDateMs: number;
  dataIntervalStartMs: number;
  dataIntervalEndMs: number;
}

const cronCache = new Map<string, CronSchedule>();
const CRON_CACHE_LIMIT = 10_000;

/** A (cached) CronSchedule: parsing costs more than a hundred next() calls. */
export function cronScheduleOf(cron: string, timezone: string): CronSchedule {
  const key = `${timezone}\n${cron}`;
  let schedule = cronCache.get(key);
  if (!schedule) {
    if (cronCache.size >= CRON_CACHE_LIMIT) cronCache.clear();
    schedule = new CronSchedule(cron, timezone);
    cronCache.set(key, schedule);
  }
  return schedule;
}

/**
 * The time-based part of a schedule: cron (and the cron of a dataset-or-time schedule), `every`
 * (anchored at the start date, else the epoch) and `@once` (at the start date, else the epoch);
 * undefined for event and dataset-only schedules and for no schedule.
 */
export function timeScheduleOf(spec: ScheduleSpec | undefined, startDateMs?: number): Schedule | undefined {
  switch (spec?.kind) {
    case 'cron':
      return cronScheduleOf(spec.cron, spec.timezone);
    case 'every':
      return new IntervalSchedule(spec.everyMs, startDateMs ?? 0);
    case 'once':
      return new OnceSchedule(startDateMs ?? 0);
    case 'datasets':
      return spec.orCron ? cronScheduleOf(spec.orCron.cron, spec.orCron.timezone) : undefined;
    default:
      return undefined;
  }
}

/** A schedule bounded by a DAG's start and end dates (both inclusive). */
export class Timetable {
  readonly schedule: Schedule;
  readonly startDateMs: number | undefined;
  readonly endDateMs: number | undefined;

  constructor(schedule: Schedule, bounds: { startDateMs?: number | undefined; endDateMs?: number | undefined } = {}) {
    this.schedule = schedule;
    this.startDateMs = bounds.startDateMs;
    this.endDateMs = bounds.endDateMs;
  }

  /** The DAG's timetable, or undefined when it has no time-based schedule. */
  static of(dag: Pick<DagSpec, 'schedule' | 'startDateMs' | 'endDateMs'>): Timetable | undefined {
    const schedule = timeScheduleOf(dag.schedule, dag.startDateMs);
    return schedule && new Timetable(schedule, { startDateMs: dag.startDateMs, endDateMs: dag.endDateMs });
  }

  /** The first fire strictly after `afterMs` within the start and end dates. */
  nextFire(afterMs: number): number | undefined {
    const from = this.startDateMs !== undefined ? Math.max(afterMs, this.startDateMs - 1) : afterMs;
    const fire = this.schedule.next(from);
    return fire !== undefined && (this.endDateMs === undefined || fire <= this.endDateMs) ? fire : undefined;
  }

  /** The last fire strictly before `beforeMs` within the start and end dates. */
  previousFire(beforeMs: number): number | undefined {
    const to = this.endDateMs !== undefined ? Math.min(beforeMs, this.endDateMs + 1) : beforeMs;
    const fire = this.schedule.previous(to);
    return fire !== undefined && (this.startDateMs === undefined || fire >= this.startDateMs) ? fire : undefined;
  }

  /**
   * `[previous fire, fireMs)`: what the run at `fireMs` covers. The previous fire is the schedule's, not
   * clamped to the start date, so the first run covers a whole period as every later one does.
   */
  dataInterval(fireMs: number): DataInterval {
    return { startMs: this.schedule.previous(fireMs) ?? fireMs, endMs: fireMs };
  }
}

/** What dueRuns needs: the DAG, the time, and what the store knows about its scheduled runs. */
export interface DueRunsInput {
  dag: TimedDag;
  nowMs: number;
  /** Logical date of the DAG's latest scheduled run; undefined when it has none. */
  lastScheduledFireMs: number | undefined;
  /** Runs of the DAG now queued or running (any kind): they count against maxActiveRuns. */
  activeRunCount: number;
}

/**
 * The scheduled runs to create now, oldest first. A fire is due when it is at or before `nowMs`, after
 * the last scheduled run, and within the start and end dates.
 * - catchup off: only the latest due fire (older missed fires are dropped, so unpausing or restarting
 *   after downtime creates at most one run);
 * - catchup on: every due fire since the last scheduled run (or the start date), in order. Without
 *   either there is nothing to catch up from, and only the latest due fire is created.
 * Never more than `maxActiveRuns − activeRunCount`; with catchup on, the rest comes on later calls.
 */
export function dueRuns(input: DueRunsInput): PlannedRun[] {
  const { dag, nowMs, lastScheduledFireMs, activeRunCount } = input;
  const timetable = Timetable.of(dag);
  const slots = dag.maxActiveRuns - activeRunCount;
  if (!timetable || slots <= 0 || Number.isNaN(nowMs)) return [];
  const plan = (fire: number): PlannedRun => {
    const interval = timetable.dataInterval(fire);
    return {
      runId: scheduledRunId(dag.id, fire),
      logicalDateMs: fire,
      dataIntervalStartMs: interval.startMs,
      dataIntervalEndMs: interval.endMs,
    };
  };
  const isNew = (fire: number): boolean => lastScheduledFireMs === undefined || fire > lastScheduledFireMs;
  if (!dag.catchup || (lastScheduledFireMs === undefined && dag.startDateMs === undefined)) {
    const latest = timetable.previousFire(Math.floor(nowMs) + 1);
    return latest !== undefined && isNew(latest) ? [plan(latest)] : [];
  }
  const runs: PlannedRun[] = [];
  let after = lastScheduledFireMs ?? Number.NEGATIVE_INFINITY;
  while (runs.length < slots) {
    const fire = timetable.nextFire(after);
    if (fire === undefined || fire > nowMs) break;
    runs.push(plan(fire));
    after = fire;
  }
  return runs;
}
