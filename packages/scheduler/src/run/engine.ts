// The pure run engine: it hears what happened to a run's task attempts and decides what follows
// (runs, retries, auto-marks, expansions, the run's end). No I/O and no clock: time arrives as
// `nowMs`. This class checks each event against the instance's state (a bad event throws and
// changes nothing) and owns the run's lifecycle; RunDecider does the deciding.
//
// Each event costs O(edges of the tasks it changes). Measured with test/run/engine-perf.ts
// (Node 20, start + complete every run decision with success, warm): 10,000 tasks in ~3–10 ms,
// 100,000 in ~55–110 ms, for a chain, a fan-out (one root → N leaves) and a diamond lattice alike.
import type { RunState, TaskState } from '../dag/model.js';
import { BatutaError } from '../errors.js';
import { taskError } from '../task-error.js';
import { RunDecider } from './decider.js';
import { describeError, InstanceTable, type Slot } from './instance-table.js';
import type { ExecutionPlan } from './plan.js';
import { type RestoreFollowUp, restoreTable } from './restore.js';
import {
  FAILED,
  isAttemptActive,
  isTerminal,
  NONE,
  QUEUED,
  RUNNING,
  SCHEDULED,
  SKIPPED,
  STATE_NAMES,
  SUCCESS,
  UP_FOR_RETRY,
} from './states.js';
import type { Decision, InstanceKey, InstanceSnapshot, Outcome } from './types.js';

/** Per-run settings of the engine. */
export interface RunEngineOptions {
  runId: string;
  /** states of the same tasks in the previous run, for dependsOnPast; undefined = first run (exempt) */
  previousStates?: ReadonlyMap<string, TaskState> | undefined;
}

/**
 * Drives one DAG run: feed it events, apply the decisions it returns, in order. Every instance that
 * reaches a final state gets a 'mark' decision, including the one an outcome was reported for.
 */
export class RunEngine {
  private readonly plan: ExecutionPlan;
  private readonly runId: string;
  private readonly table: InstanceTable;
  private readonly decider: RunDecider;
  private runState: RunState = 'queued';
  private finished = false;
  /** Set by restore(): work resume() must redo. */
  private followUp: RestoreFollowUp | undefined;

  constructor(plan: ExecutionPlan, options: RunEngineOptions) {
    this.plan = plan;
    this.runId = options.runId;
    this.table = new InstanceTable(plan);
    this.decider = new RunDecider(this.table, options.runId, options.previousStates);
  }

  /** The compiled DAG this engine runs. */
  executionPlan(): ExecutionPlan {
    return this.plan;
  }

  /** The run's state: queued before start, running, then success or failed once every instance is terminal. */
  get state(): RunState {
    return this.runState;
  }

  /** Roots (and anything already runnable) → 'run' decisions; may also produce marks/finish (e.g. empty DAG finishes success at once). */
  start(_nowMs: number): Decision[] {
    if (this.runState !== 'queued') {
      throw new BatutaError(
        'ENGINE_BAD_EVENT',
        `run '${this.runId}': start() called on a run that is ${this.runState}; call it once, on a new run`,
      );
    }
    this.runState = 'running';
    const { tasks, upstreamTotal } = this.plan;
    // With nothing done yet, only roots and `always` tasks can act; the rest wait for an upstream.
    for (let t = 0; t < tasks.length; t++) {
      if (upstreamTotal[t] === 0 || tasks[t]!.triggerRule === 'always') this.decider.enqueue(t);
    }
    return this.settle();
  }

  /** The executor accepted an attempt: scheduled → queued. A repeat, or a report after running, is ignored. */
  queued(key: InstanceKey, _nowMs: number): void {
    const slot = this.slot(key, 'queued');
    const code = this.table.stateAt(slot);
    if (code === QUEUED || code === RUNNING) return;
    if (code !== SCHEDULED) throw this.badEvent('queued', key, code, 'only a scheduled attempt can be queued');
    this.decider.setActive(slot, QUEUED, `queued: try ${this.table.tryAt(slot)}; waiting for a worker`);
  }

  /** The executor started an attempt: scheduled/queued → running. A repeat is ignored. */
  running(key: InstanceKey, _nowMs: number): void {
    const slot = this.slot(key, 'running');
    const code = this.table.stateAt(slot);
    if (code === RUNNING) return;
    if (code !== SCHEDULED && code !== QUEUED) {
      throw this.badEvent('running', key, code, 'only a scheduled or queued attempt can start');
    }
    this.decider.setActive(slot, RUNNING, `running: try ${this.table.tryAt(slot)} of ${this.table.maxTries(slot)}`);
  }

  /** An attempt ended. Returns everything that follows: retry, marks (cascades), new runs, expansions, finish. */
  complete(key: InstanceKey, outcome: Outcome, nowMs: number): Decision[] {
    const slot = this.slot(key, 'complete');
    const code = this.table.stateAt(slot);
    if (!isAttemptActive(code)) {
      const expected = 'an outcome is accepted only for a scheduled, queued or running attempt';
      throw this.badEvent('complete', key, code, expected);
    }
    const status: string = outcome.status;
    if (status !== 'success' && status !== 'failed' && status !== 'skipped') {
      throw new BatutaError(
        'ENGINE_BAD_EVENT',
        `run '${this.runId}': complete() for '${key.taskId}' got outcome status '${status}'; expected success, failed or skipped`,
      );
    }
    if (outcome.status === 'success') this.decider.succeed(slot, outcome.output, nowMs);
    else if (outcome.status === 'failed') this.decider.fail(slot, outcome.error, nowMs);
    else {
      const tryNumber = this.table.tryAt(slot);
      this.decider.endAttempt(slot, SKIPPED, `skipped by the task itself on try ${tryNumber}: ${outcome.reason}`);
    }
    return this.settle();
  }

  /** The retry time of an up_for_retry instance has come: returns its 'run' decision (tryNumber+1). */
  retryDue(key: InstanceKey, nowMs: number): Decision[] {
    const slot = this.slot(key, 'retryDue');
    const code = this.table.stateAt(slot);
    if (code !== UP_FOR_RETRY) {
      throw this.badEvent('retryDue', key, code, 'only an up_for_retry instance can be retried');
    }
    const next = this.table.tryAt(slot) + 1;
    const dueMs = this.table.nextTryAt(slot);
    const early = nowMs < dueMs ? ` (${dueMs - nowMs} ms before its planned time)` : '';
    const previous = this.table.errorAt(slot);
    const after = previous ? ` after ${describeError(previous)}` : '';
    this.decider.schedule(slot, next, `retry: try ${next} of ${this.table.maxTries(slot)}${after}${early}`);
    return this.settle();
  }

  /** Cancel the run: non-terminal instances not yet running → skipped ("run cancelled"); running/queued → failed; then finish failed. */
  cancel(reason: string, _nowMs: number): Decision[] {
    if (this.finished) return [];
    const table = this.table;
    const skip = `skipped: run cancelled (${reason})`;
    const fail = `failed: run cancelled while the attempt was out (${reason})`;
    const error = taskError(`run cancelled: ${reason}`, { code: 'RUN_CANCELLED', retryable: false });
    // Everything is marked right here, so nothing needs to cascade.
    for (let t = 0; t < this.plan.taskCount; t++) {
      if (isTerminal(table.states[t]!)) continue;
      const group = table.groups.get(t);
      if (group) {
        for (let i = 0; i < group.count; i++) {
          const code = group.states[i]!;
          if (isTerminal(code)) continue;
          const wasOut = code === QUEUED || code === RUNNING;
          if (wasOut) group.errors.set(i, error);
          group.finish(i, wasOut ? FAILED : SKIPPED, wasOut ? fail : skip);
          this.decider.emitMark(t, i, group.states[i]!, group.reasons[i]!);
        }
        const aggregate = group.aggregate();
        const summary = `${STATE_NAMES[aggregate]}: run cancelled (${reason}); ${group.describe()}`;
        this.decider.setTerminal(t, aggregate, summary, aggregate === SUCCESS ? group.successOutputs() : undefined);
      } else {
        const wasOut = table.states[t] === QUEUED || table.states[t] === RUNNING;
        if (wasOut) table.errors.set(t, error);
        this.decider.setTerminal(t, wasOut ? FAILED : SKIPPED, wasOut ? fail : skip);
      }
    }
    this.decider.clearQueue();
    this.finished = true;
    this.runState = 'failed';
    this.decider.push({ kind: 'finish', state: 'failed', reason: `run cancelled: ${reason}` });
    return this.decider.take();
  }

  /** One instance's snapshot; undefined for an unknown task or map index. */
  instance(key: InstanceKey): InstanceSnapshot | undefined {
    const t = this.plan.taskIndex.get(key.taskId);
    if (t === undefined) return undefined;
    if (key.mapIndex === -1) return this.table.snapshot({ t, m: -1, group: undefined }, this.started);
    const group = this.table.groups.get(t);
    if (!group || !Number.isInteger(key.mapIndex) || key.mapIndex < 0 || key.mapIndex >= group.count) return undefined;
    return this.table.snapshot({ t, m: key.mapIndex, group }, this.started);
  }

  /** Every instance, in task declaration order, mapped instances after their parent. */
  instances(): InstanceSnapshot[] {
    const list: InstanceSnapshot[] = [];
    for (let t = 0; t < this.plan.taskCount; t++) {
      list.push(this.table.snapshot({ t, m: -1, group: undefined }, this.started));
      const group = this.table.groups.get(t);
      if (group) for (let m = 0; m < group.count; m++) list.push(this.table.snapshot({ t, m, group }, this.started));
    }
    return list;
  }

  /** How many instances a mapped task expanded into (0 for an empty list); undefined before expansion or for unmapped tasks. */
  mapCount(taskId: string): number | undefined {
    const t = this.plan.taskIndex.get(taskId);
    if (t === undefined || this.table.mapCounts[t]! < 0) return undefined;
    return this.table.mapCounts[t];
  }

  /** Why a task is (not) running, Airflow ti_deps style: "waiting: 1 of 2 upstreams done; rule all_success", "success after 2 tries" … */
  explain(taskId: string, mapIndex = -1): string {
    const t = this.plan.taskIndex.get(taskId);
    if (t === undefined) throw new BatutaError('UNKNOWN_TASK', `DAG '${this.plan.dag.id}' has no task '${taskId}'`);
    if (mapIndex === -1) return this.table.describe({ t, m: -1, group: undefined }, this.started);
    const group = this.table.groups.get(t);
    if (!group) {
      const state = STATE_NAMES[this.table.states[t]!];
      return `'${taskId}' has no mapped instances (it is ${state}, not expanded)`;
    }
    if (!Number.isInteger(mapIndex) || mapIndex < 0 || mapIndex >= group.count) {
      return `'${taskId}' has no map index ${mapIndex}; it expanded into ${group.count} instances`;
    }
    return this.table.describe({ t, m: mapIndex, group }, this.started);
  }

  /** Rebuild after a crash from persisted snapshots (+ outputs of map sources and completed branch/short-circuit tasks, keyed `${taskId}#${mapIndex}`). */
  static restore(
    plan: ExecutionPlan,
    options: RunEngineOptions,
    instances: InstanceSnapshot[],
    outputs: ReadonlyMap<string, unknown>,
  ): RunEngine {
    const engine = new RunEngine(plan, options);
    engine.followUp = restoreTable(engine.table, options.runId, instances, outputs);
    engine.runState = 'running';
    return engine;
  }

  /** After restore(): re-issues attempts that were out (same tryNumber) and pending retries, then whatever is runnable. */
  resume(nowMs: number): Decision[] {
    const followUp = this.followUp;
    if (!followUp) {
      throw new BatutaError(
        'ENGINE_BAD_EVENT',
        `run '${this.runId}': resume() follows RunEngine.restore() (once); a new run begins with start()`,
      );
    }
    this.followUp = undefined;
    if (this.finished) return [];
    const { tasks, taskCount, topologicalOrder } = this.plan;
    const table = this.table;
    for (const [t, group] of table.groups) {
      if (!isTerminal(table.states[t]!) && group.complete) this.decider.aggregate(t, group);
    }
    for (const { t, output } of followUp.reapply) this.decider.applyBranchAndShortCircuit(t, output);
    for (let t = 0; t < taskCount; t++) {
      const group = table.groups.get(t);
      if (!group) {
        this.decider.reissue({ t, m: -1, group: undefined }, nowMs);
        continue;
      }
      if (isTerminal(table.states[t]!)) continue;
      if (followUp.reexpand.has(t)) {
        const reason = `resumed after restart: '${tasks[t]!.id}' expanded into ${group.count} mapped instances`;
        this.decider.push({ kind: 'expand', taskId: tasks[t]!.id, count: group.count, reason });
      }
      for (let m = 0; m < group.count; m++) this.decider.reissue({ t, m, group }, nowMs);
    }
    for (let r = 0; r < taskCount; r++) {
      const t = topologicalOrder[r]!;
      if (table.states[t] === NONE) this.decider.enqueue(t);
    }
    return this.settle();
  }

  private get started(): boolean {
    return this.runState !== 'queued';
  }

  /** Ends an event: drains cascades, finishes the run when everything is terminal, hands back the decisions. */
  private settle(): Decision[] {
    this.decider.drain();
    if (!this.finished && this.runState === 'running' && this.table.terminalCount === this.plan.taskCount) {
      const finish = this.decider.finishDecision();
      this.finished = true;
      this.runState = finish.state;
      this.decider.push(finish);
    }
    return this.decider.take();
  }

  // ---- event validation -----------------------------------------------------------------------

  private slot(key: InstanceKey, event: string): Slot {
    const t = this.plan.taskIndex.get(key.taskId);
    if (t === undefined) {
      throw new BatutaError(
        'ENGINE_BAD_EVENT',
        `run '${this.runId}': ${event}() for unknown task '${key.taskId}'; DAG '${this.plan.dag.id}' has no such task`,
      );
    }
    const task = this.plan.tasks[t]!;
    if (key.mapIndex === -1) {
      if (task.map) {
        throw new BatutaError(
          'ENGINE_BAD_EVENT',
          `run '${this.runId}': ${event}() for '${key.taskId}' map index -1, but it is a mapped task; ` +
            'events go to its instances (map index 0..N-1)',
        );
      }
      return { t, m: -1, group: undefined };
    }
    const group = this.table.groups.get(t);
    if (!group || !Number.isInteger(key.mapIndex) || key.mapIndex < 0 || key.mapIndex >= group.count) {
      const has = group ? `map indexes 0..${group.count - 1}` : task.map ? 'no instances yet' : 'only map index -1';
      throw new BatutaError(
        'ENGINE_BAD_EVENT',
        `run '${this.runId}': ${event}() for '${key.taskId}' map index ${key.mapIndex}, but the task has ${has}`,
      );
    }
    return { t, m: key.mapIndex, group };
  }

  private badEvent(event: string, key: InstanceKey, code: number, expectation: string): BatutaError {
    const where = key.mapIndex === -1 ? `'${key.taskId}'` : `'${key.taskId}' map index ${key.mapIndex}`;
    const duplicate = isTerminal(code) ? ' (a duplicate or late event?)' : '';
    return new BatutaError(
      'ENGINE_BAD_EVENT',
      `run '${this.runId}': ${event}() for ${where}, which is ${STATE_NAMES[code]}${duplicate}; ${expectation}`,
    );
  }
}
