// Backfill planning (`batuta dags backfill DAG --from --to [--reprocess …] [--newest-first] [--dry-run]`):
// which logical dates to run or re-run, with the reason for each, and the ids to create them under.
//
// Ids: a date that has no run yet is backfilled under its *scheduled* id, so a scheduler catching up on
// the same date, a second backfill, or a retried CLI call all collide on one id and the store creates it
// once. A date re-run on purpose (reprocess) gets `backfill__<date>__<dag>__<n>`, n = its runs so far + 1,
// which is just as deterministic.
import type { DagSpec, RunState } from '../dag/model.js';
import { BatutaError } from '../errors.js';
import type { RunKind } from '../store/state-store.js';
import { backfillRunId, scheduledRunId } from './run-ids.js';
import { Timetable, timeScheduleOf } from './timetable.js';

/** Which dates that already have a run are run again (Airflow's reprocess_behavior). */
export type BackfillReprocess = 'none' | 'failed' | 'completed';

/** An existing run of the DAG, as the store lists it. */
export interface ExistingRun {
  logicalDateMs: number;
  state: RunState;
  /** Manual, event, dataset and test runs are ignored: they never stand in for a scheduled date. */
  kind?: RunKind;
}

export interface BackfillRequest {
  dag: Pick<DagSpec, 'id' | 'schedule' | 'startDateMs'>;
  /** First logical date considered (inclusive). */
  fromMs: number;
  /** Last logical date considered (inclusive). */
  toMs: number;
  reprocess: BackfillReprocess;
  existing: readonly ExistingRun[];
  newestFirst?: boolean;
  /** Refuse plans longer than this (default 100,000): a typo in a range should not create a million runs. */
  maxRuns?: number;
}

/** One date of the plan. */
export interface BackfillItem {
  logicalDateMs: number;
  runId: string;
  dataIntervalStartMs: number;
  dataIntervalEndMs: number;
  /** `create`: the date has no run; `rerun`: reprocessed; `skip`: left alone. */
  action: 'create' | 'rerun' | 'skip';
  reason: string;
}

/** `runs` to create in order (oldest first unless newestFirst) and the dates `skipped`, with reasons. */
export interface BackfillPlan {
  runs: BackfillItem[];
  skipped: BackfillItem[];
}

const DEFAULT_MAX_RUNS = 100_000;
const IGNORED_KINDS: ReadonlySet<RunKind> = new Set<RunKind>(['manual', 'event', 'dataset', 'test']);

/** Plans a backfill over the fire times of the DAG's schedule in `[fromMs, toMs]`. Pure: the dry run prints it. */
export function planBackfill(request: BackfillRequest): BackfillPlan {
  const { dag, fromMs, toMs, reprocess, existing } = request;
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || fromMs > toMs) {
    throw new BatutaError(
      'BACKFILL_BAD_RANGE',
      `backfill of '${dag.id}': --from must be a date at or before --to (got ${describe(fromMs)} → ${describe(toMs)})`,
    );
  }
  const schedule = timeScheduleOf(dag.schedule, dag.startDateMs);
  if (!schedule) {
    throw new BatutaError(
      'BACKFILL_NO_SCHEDULE',
      `backfill of '${dag.id}': the DAG has no time-based schedule (${dag.schedule?.kind ?? 'none'}); ` +
        'backfill needs cron, every or @once; run event- and dataset-driven DAGs by triggering them',
    );
  }
  const timetable = new Timetable(schedule);
  const maxRuns = request.maxRuns ?? DEFAULT_MAX_RUNS;
  const byDate = new Map<number, ExistingRun[]>();
  for (const run of existing) {
    if (run.kind !== undefined && IGNORED_KINDS.has(run.kind)) continue;
    const runs = byDate.get(run.logicalDateMs);
    if (runs) runs.push(run);
    else byDate.set(run.logicalDateMs, [run]);
  }

  const plan: BackfillPlan = { runs: [], skipped: [] };
  let dates = 0;
  for (const fire of schedule.between(fromMs, toMs + 1)) {
    if (++dates > maxRuns) {
      throw new BatutaError(
        'BACKFILL_TOO_LARGE',
        `backfill of '${dag.id}': more than ${maxRuns} dates between ${describe(fromMs)} and ${describe(toMs)}; ` +
          'narrow the range or raise the limit',
      );
    }
    const interval = timetable.dataInterval(fire);
    const item = (action: BackfillItem['action'], runId: string, reason: string): BackfillItem => ({
      logicalDateMs: fire,
      runId,
      dataIntervalStartMs: interval.startMs,
      dataIntervalEndMs: interval.endMs,
      action,
      reason,
    });
    const runs = byDate.get(fire) ?? [];
    const rerunId = backfillRunId(dag.id, fire, runs.length + 1);
    const status = dateStatus(runs);
    if (status === 'absent') plan.runs.push(item('create', scheduledRunId(dag.id, fire), 'no run for this date yet'));
    else if (status === 'active') plan.skipped.push(item('skip', rerunId, 'a run of this date is queued or running'));
    else if (status === 'failed' && reprocess !== 'none')
      plan.runs.push(item('rerun', rerunId, `its last run failed; reprocess ${reprocess}`));
    else if (status === 'success' && reprocess === 'completed')
      plan.runs.push(item('rerun', rerunId, 'it succeeded before; reprocess completed'));
    else {
      const hint = status === 'failed' ? 'failed|completed' : 'completed';
      plan.skipped.push(item('skip', rerunId, `it already has a ${status} run; --reprocess ${hint} runs it again`));
    }
  }
  if (request.newestFirst) {
    plan.runs.reverse();
    plan.skipped.reverse();
  }
  return plan;
}

/** The state that decides a date: any active run wins, then any success, else failed. */
function dateStatus(runs: readonly ExistingRun[]): 'absent' | 'active' | 'success' | 'failed' {
  if (runs.length === 0) return 'absent';
  if (runs.some((run) => run.state === 'queued' || run.state === 'running')) return 'active';
  return runs.some((run) => run.state === 'success') ? 'success' : 'failed';
}

function describe(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
