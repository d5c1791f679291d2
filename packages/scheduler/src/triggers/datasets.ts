// Dataset schedules, evaluated purely: a DAG scheduled on datasets runs once every listed dataset has
// been updated since its last dataset-triggered run; all the updates since then collapse into that one
// run. A dataset-or-time schedule (`orCron`) also runs on its cron, independently: cron runs are ordinary
// scheduled runs and consume no dataset updates (Airflow's DatasetOrTimeSchedule).
import { datasetRunId } from './run-ids.js';
import { dueRuns, type PlannedRun, type TimedDag } from './timetable.js';

/** The latest update of a dataset: the id of the event that recorded it (ids increase) and its time. */
export interface DatasetUpdate {
  eventId: string;
  atMs: number;
}

/** What the store knows about a DAG's datasets. */
export interface DatasetState {
  /** Per dataset, the event id the DAG's last dataset-triggered run consumed; absent: never consumed. */
  lastConsumedEventIds: Readonly<Record<string, string | undefined>>;
  /** Per dataset, its latest update; absent: never updated. */
  latestUpdates: Readonly<Record<string, DatasetUpdate | undefined>>;
}

/** Whether a dataset-triggered run is due and, if so, which updates it consumes. */
export type DatasetTriggerDecision =
  | {
      due: true;
      /** Dataset → the update the run consumes (the latest; older ones collapse into it). */
      consumes: Record<string, DatasetUpdate>;
      /** The time of the newest consumed update. */
      logicalDateMs: number;
      /** From the oldest to the newest consumed update. */
      dataIntervalStartMs: number;
      dataIntervalEndMs: number;
      reason: string;
    }
  | { due: false; waitingFor: string[]; reason: string };

/** Due when every dataset in `datasets` has an update newer than the one last consumed. */
export function evaluateDatasetTrigger(datasets: readonly string[], state: DatasetState): DatasetTriggerDecision {
  if (datasets.length === 0) return { due: false, waitingFor: [], reason: 'the schedule lists no dataset' };
  const waitingFor: string[] = [];
  const consumes: Record<string, DatasetUpdate> = {};
  for (const dataset of datasets) {
    const latest = state.latestUpdates[dataset];
    const consumed = state.lastConsumedEventIds[dataset];
    if (latest === undefined || (consumed !== undefined && compareEventIds(latest.eventId, consumed) <= 0)) {
      waitingFor.push(dataset);
    } else {
      consumes[dataset] = latest;
    }
  }
  if (waitingFor.length > 0) {
    const updated = `${datasets.length - waitingFor.length} of ${datasets.length} datasets updated since the last run`;
    return { due: false, waitingFor, reason: `waiting: ${updated}; not yet ${waitingFor.join(', ')}` };
  }
  const times = Object.values(consumes).map((update) => update.atMs);
  return {
    due: true,
    consumes,
    logicalDateMs: Math.max(...times),
    dataIntervalStartMs: Math.min(...times),
    dataIntervalEndMs: Math.max(...times),
    reason: `all ${datasets.length} datasets updated since the last run`,
  };
}

/** A dataset-triggered run to create; record `consumes` as consumed in the same atomic step. */
export interface DatasetRun extends PlannedRun {
  consumes: Record<string, DatasetUpdate>;
}

export interface DatasetRunsInput extends DatasetState {
  dag: TimedDag;
  nowMs: number;
  /** Logical date of the DAG's latest scheduled (cron) run, for a dataset-or-time schedule. */
  lastScheduledFireMs: number | undefined;
  activeRunCount: number;
}

/** The runs a dataset schedule calls for now: cron runs first, then the dataset run, within maxActiveRuns. */
export interface DatasetRunsDue {
  timeRuns: PlannedRun[];
  datasetRun: DatasetRun | undefined;
  decision: DatasetTriggerDecision;
}

/**
 * Evaluates a `datasets` schedule (with its optional cron). A due dataset run waiting for a free
 * maxActiveRuns slot is not lost: its updates stay unconsumed and fold into the run created later.
 */
export function datasetRunsDue(input: DatasetRunsInput): DatasetRunsDue {
  const { dag } = input;
  const schedule = dag.schedule;
  if (schedule?.kind !== 'datasets') {
    return {
      timeRuns: [],
      datasetRun: undefined,
      decision: { due: false, waitingFor: [], reason: `the DAG is not scheduled on datasets` },
    };
  }
  const timeRuns = dueRuns(input);
  const decision = evaluateDatasetTrigger(schedule.datasets, input);
  const slots = dag.maxActiveRuns - input.activeRunCount - timeRuns.length;
  if (!decision.due) return { timeRuns, datasetRun: undefined, decision };
  if (slots <= 0) {
    return {
      timeRuns,
      datasetRun: undefined,
      decision: {
        due: false,
        waitingFor: [],
        reason: `due, but waiting for a free run slot (maxActiveRuns ${dag.maxActiveRuns})`,
      },
    };
  }
  const consumedIds: Record<string, string> = {};
  for (const [dataset, update] of Object.entries(decision.consumes)) consumedIds[dataset] = update.eventId;
  return {
    timeRuns,
    decision,
    datasetRun: {
      runId: datasetRunId(dag.id, decision.logicalDateMs, consumedIds),
      logicalDateMs: decision.logicalDateMs,
      dataIntervalStartMs: decision.dataIntervalStartMs,
      dataIntervalEndMs: decision.dataIntervalEndMs,
      consumes: decision.consumes,
    },
  };
}

/**
 * Orders event ids: Redis stream ids (`<ms>-<seq>`) and the memory store's zero-padded counters compare
 * numerically part by part; anything else compares as text.
 */
export function compareEventIds(a: string, b: string): number {
  const numeric = /^\d+(-\d+)*$/;
  if (!numeric.test(a) || !numeric.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  const left = a.split('-');
  const right = b.split('-');
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = (left[i] ?? '0').replace(/^0+(?=\d)/, '');
    const y = (right[i] ?? '0').replace(/^0+(?=\d)/, '');
    if (x.length !== y.length) return x.length - y.length;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
