// The fire planner: which time-scheduled runs a scheduler creates now, and when it looks again. Pure:
// it is given the DAGs, what the store said of their last scheduled runs, the clock's now, the live
// schedulers and the in-flight counts, and it keeps per DAG only where it stands in its timetable.
import type { DagSpec } from '../dag/model.js';
import { datasetRunsDue } from './datasets.js';
import { type FireShares, isInShare } from './fire-shares.js';
import { skippedFires } from './skipped-fires.js';
import { dueRuns, type PlannedRun, Timetable } from './timetable.js';

/** Where one DAG stands in its timetable, as this scheduler last planned it. */
interface FireState {
  lastFireMs: number | undefined;
  nextFireMs: number | undefined;
}

/** The DAGs due at a pass: `unknown` ones have no fire state yet and need `learn` before `plan`. */
export interface DueDags {
  due: DagSpec[];
  unknown: DagSpec[];
}

/** What the store said ahead of the fire: runs queued or running per DAG, and which DAGs are paused. */
export interface FireCounts {
  active: ReadonlyMap<string, number>;
  paused: ReadonlyMap<string, boolean>;
}

/**
 * One run to create at a fire; `owed` says older fires of its DAG wait for a free slot; `skipped` lists
 * the older fires that will never run (catchup off and they were missed, e.g. during an outage).
 */
export interface PlannedFireRun {
  dag: DagSpec;
  run: PlannedRun;
  owed: boolean;
  skipped?: { logicalDatesMs: number[]; more: boolean };
}

/** True for a DAG whose runs come (at least partly) from the clock. */
export function isTimed(dag: DagSpec): boolean {
  const schedule = dag.schedule;
  return (
    schedule?.kind === 'cron' ||
    schedule?.kind === 'every' ||
    schedule?.kind === 'once' ||
    (schedule?.kind === 'datasets' && schedule.orCron !== undefined)
  );
}

/** Plans the fires of the time-scheduled DAGs; one per scheduler, fed by it on every pass. */
export class FirePlanner {
  /** How soon a DAG that still owes fires (catchup, no free slot) is looked at again. */
  private readonly pollMs: number;
  private readonly states = new Map<string, FireState>();

  constructor(options: { pollMs: number }) {
    this.pollMs = options.pollMs;
  }

  /**
   * The timed DAGs due at `nowMs`: their fire time has come (a grace later outside this scheduler's
   * share), or they are new here. Forgets DAGs no longer timed or no longer in `dags`, so a renamed or
   * removed DAG leaves no fire behind for `nextDueMs` to wake for, forever.
   */
  due(dags: ReadonlyMap<string, DagSpec>, nowMs: number, shares: FireShares): DueDags {
    const due: DagSpec[] = [];
    const unknown: DagSpec[] = [];
    for (const dag of dags.values()) {
      if (!isTimed(dag)) {
        this.states.delete(dag.id);
        continue;
      }
      const state = this.states.get(dag.id);
      if (state === undefined) {
        due.push(dag);
        unknown.push(dag);
        continue;
      }
      const dueAt = this.dueAtMs(dag.id, state, shares);
      if (dueAt !== undefined && dueAt <= nowMs) due.push(dag);
    }
    for (const dagId of this.states.keys()) if (!dags.has(dagId)) this.states.delete(dagId);
    return { due, unknown };
  }

  /** Records what the store holds for a DAG new here: the logical date of its latest scheduled run. */
  learn(dagId: string, lastFireMs: number | undefined): void {
    this.states.set(dagId, { lastFireMs, nextFireMs: undefined });
  }

  /** Forgets DAGs, so the next `due` treats them as new (e.g. their first fire failed). */
  forget(dagIds: Iterable<string>): void {
    for (const dagId of dagIds) this.states.delete(dagId);
  }

  /** The fire time a set of due DAGs answers: the earliest of their fires (`nowMs` for new DAGs). */
  fireTimeOf(due: readonly DagSpec[], nowMs: number): number {
    return Math.min(...due.map((dag) => this.states.get(dag.id)?.nextFireMs ?? nowMs));
  }

  /**
   * The runs to create now for `due` (all of them learnt), oldest first per DAG. A paused DAG gets none
   * and moves to its next fire (on unpause, catchup decides what the missed fires become); a DAG with
   * nothing due moves to its next fire. The DAGs with runs move on in `settle`, once the store answered.
   */
  plan(due: readonly DagSpec[], nowMs: number, counts: FireCounts): PlannedFireRun[] {
    const planned: PlannedFireRun[] = [];
    for (const dag of due) {
      const state = this.stateOf(dag.id);
      if (counts.paused.get(dag.id) === true) {
        state.nextFireMs = Timetable.of(dag)?.nextFire(nowMs);
        continue;
      }
      const activeRunCount = counts.active.get(dag.id) ?? 0;
      const input = { dag, nowMs, lastScheduledFireMs: state.lastFireMs, activeRunCount };
      const runs =
        dag.schedule?.kind === 'datasets'
          ? datasetRunsDue({ ...input, lastConsumedEventIds: {}, latestUpdates: {} }).timeRuns
          : dueRuns(input);
      if (runs.length === 0) {
        state.nextFireMs = Timetable.of(dag)?.nextFire(Math.max(nowMs, state.lastFireMs ?? nowMs));
        continue;
      }
      // With catchup and no free slot left, older fires are still owed: look again at the next poll.
      const owed = dag.catchup && activeRunCount + runs.length >= dag.maxActiveRuns;
      const skipped = this.skippedBefore(dag, state.lastFireMs, runs);
      for (const [index, run] of runs.entries()) {
        planned.push({ dag, run, owed, ...(index === 0 && skipped ? { skipped } : {}) });
      }
    }
    return planned;
  }

  /** Without catchup, the missed fires between the last scheduled run and the one created now. */
  private skippedBefore(
    dag: DagSpec,
    lastFireMs: number | undefined,
    runs: readonly PlannedRun[],
  ): PlannedFireRun['skipped'] {
    const first = runs[0];
    const timetable = Timetable.of(dag);
    if (dag.catchup || lastFireMs === undefined || !first || !timetable) return undefined;
    const skipped = skippedFires(timetable, lastFireMs, first.logicalDateMs);
    return skipped.logicalDatesMs.length > 0 ? skipped : undefined;
  }

  /** Moves a DAG past a planned run the store has answered for (created, found, or rejected). */
  settle(planned: PlannedFireRun, nowMs: number): void {
    const state = this.stateOf(planned.dag.id);
    const logicalDateMs = planned.run.logicalDateMs;
    state.lastFireMs = logicalDateMs;
    state.nextFireMs = planned.owed
      ? nowMs + this.pollMs
      : Timetable.of(planned.dag)?.nextFire(Math.max(nowMs, logicalDateMs));
  }

  /** When the next DAG falls due here (`+Infinity` when none will). */
  nextDueMs(shares: FireShares): number {
    let next = Number.POSITIVE_INFINITY;
    for (const [dagId, state] of this.states) {
      const due = this.dueAtMs(dagId, state, shares);
      if (due !== undefined && due < next) next = due;
    }
    return next;
  }

  /** The DAGs of `dags` whose fire time comes at or before `horizonMs` (to read ahead for them). */
  firingBy(dags: ReadonlyMap<string, DagSpec>, horizonMs: number): DagSpec[] {
    return [...dags.values()].filter((dag) => {
      const next = this.states.get(dag.id)?.nextFireMs;
      return next !== undefined && next <= horizonMs;
    });
  }

  /** The next fire time per planned DAG (for `batuta status`). */
  nextFires(): Map<string, number | undefined> {
    return new Map([...this.states].map(([dagId, state]) => [dagId, state.nextFireMs]));
  }

  /** When a DAG is next due here: its fire time, or `graceMs` later outside this scheduler's share. */
  private dueAtMs(dagId: string, state: FireState, shares: FireShares): number | undefined {
    if (state.nextFireMs === undefined) return undefined;
    return isInShare(dagId, shares) ? state.nextFireMs : state.nextFireMs + shares.graceMs;
  }

  private stateOf(dagId: string): FireState {
    let state = this.states.get(dagId);
    if (state === undefined) {
      // plan and settle expect learnt DAGs; an unlearnt one is treated as having no scheduled run yet.
      state = { lastFireMs: undefined, nextFireMs: undefined };
      this.states.set(dagId, state);
    }
    return state;
  }
}
