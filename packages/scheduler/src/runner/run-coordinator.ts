// Runs DAG runs in this process: creates, starts, resumes and cancels them, and routes the executor's
// reports to each run's driver (run-driver.ts), which feeds its pure engine, writes one store
// transition per batch of events and hands runnable attempts to the executor. Event-driven: a
// finished attempt moves its downstream at once; nothing polls.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { type DagSpec, type TaskState, TERMINAL_TASK_STATES } from '../dag/model.js';
import { resolveParams } from '../dag/params.js';
import { BatutaError } from '../errors.js';
import type { Executor, ExecutorListener, TaskJob, TaskResult } from '../executor.js';
import { RunEngine } from '../run/engine.js';
import { compilePlan, type ExecutionPlan } from '../run/plan.js';
import { type MarkState, planRepair, type RepairPlan, type RepairRequest } from '../run/repair.js';
import type { DagRunRecord, RunKind, StateStore, TaskInstanceRecord } from '../store/state-store.js';
import { adHocRunId } from '../triggers/run-ids.js';
import { applyRepairChange, reopenedRunPatch, repairOutputReads, repairOutputWrites } from './repair-records.js';
import { type DriverRepairResult, RunDriver } from './run-driver.js';
import { RunEffects } from './run-effects.js';

// Re-exported for the daemon, which reads dataset streams.
export { datasetStream } from './dataset-stream.js';

import type { RunListener } from './run-listener.js';

/** What createRuns did with one request. */
export type CreateRunOutcome = { created: boolean; run: DagRunRecord } | { created: false; error: Error };

/** How to start a run. */
export interface RunRequest {
  /** Defaults to `<kind>__<logical date ISO>__<dag id>__<random>`; scheduled runs pass their deterministic id. */
  runId?: string;
  kind?: RunKind;
  conf?: Record<string, unknown>;
  logicalDateMs?: number;
  dataIntervalStartMs?: number;
  dataIntervalEndMs?: number;
}

/** A started run; `done` settles with the final record. */
export interface RunHandle {
  runId: string;
  done: Promise<DagRunRecord>;
}

/** Options of `clearTasks` (Airflow's `tasks clear`). */
export interface ClearTasksOptions {
  /** Also every task below the named ones, recursively. */
  downstream?: boolean;
  /** Also every task above the named ones, recursively. */
  upstream?: boolean;
  /** Only instances that failed or are upstream_failed. */
  onlyFailed?: boolean;
  /** Only instances whose attempt is out (scheduled, queued, running). */
  onlyRunning?: boolean;
  /** Plan only: say what would change and change nothing. */
  dryRun?: boolean;
}

/** Options of `markTasks` (Airflow's mark success/failed/skipped). */
export interface MarkTasksOptions {
  downstream?: boolean;
  upstream?: boolean;
  /** Only these instances of the named mapped tasks. */
  mapIndexes?: readonly number[];
  dryRun?: boolean;
}

/** What a clear or mark did (or, in a dry run, would do) to a run. */
export interface RepairOutcome {
  runId: string;
  /** False for a dry run and when nothing matched. */
  applied: boolean;
  plan: RepairPlan;
  /** Settles with the run's final record once it ends again (when applied). */
  done?: Promise<DagRunRecord>;
}

export interface RunCoordinatorOptions {
  store: StateStore;
  executor: Executor;
  clock?: Clock;
  listener?: RunListener;
}

/** A fresh id for a run made on request: `<kind>__<logical date ISO>__<dagId>__<8 random hex>`. */
export function newRunId(kind: RunKind, dagId: string, logicalDateMs: number): string {
  return adHocRunId(kind, dagId, logicalDateMs, randomUUID().slice(0, 8));
}

/** Runs DAG runs in this process against a StateStore and an Executor. */
export class RunCoordinator implements ExecutorListener {
  private readonly store: StateStore;
  private readonly executor: Executor;
  private readonly clock: Clock;
  private readonly listener: RunListener;
  private readonly effects: RunEffects;
  private readonly drivers = new Map<string, RunDriver>();
  private readonly plans = new WeakMap<DagSpec, ExecutionPlan>();
  private listening = false;

  constructor(options: RunCoordinatorOptions) {
    this.store = options.store;
    this.executor = options.executor;
    this.clock = options.clock ?? systemClock;
    this.listener = options.listener ?? {};
    this.effects = new RunEffects(this.listener);
  }

  /** Starts listening to the executor. Called by `startRun` when needed. */
  async start(): Promise<void> {
    if (this.listening) return;
    this.listening = true;
    await this.executor.start(this);
  }

  /** Creates the run in the store and starts its root tasks. */
  async startRun(dag: DagSpec, request: RunRequest = {}): Promise<RunHandle> {
    return this.beginRun(dag, await this.createRun(dag, request));
  }

  /**
   * First half of `startRun`: records the run (state running) and nothing else; throws RUN_EXISTS when
   * another process created it first. The scheduler creates every due run before starting any, so
   * creation is not delayed by the work of the runs created just before.
   */
  async createRun(dag: DagSpec, request: RunRequest = {}): Promise<DagRunRecord> {
    const { created, run } = await this.store.createRun(this.newRunRecord(dag, request));
    if (!created) {
      throw new BatutaError(
        'RUN_EXISTS',
        `run '${run.runId}' of DAG '${run.dagId}' already exists (state ${run.state})`,
      );
    }
    return run;
  }

  /**
   * createRun for many runs in one store call (a scheduler's fire): one outcome per request, in order;
   * `created: false` with the existing record where a run with that id exists, and `error` for a request
   * that cannot become a run (its conf breaks the DAG's params), which does not hold up the others.
   */
  async createRuns(requests: ReadonlyArray<{ dag: DagSpec; request: RunRequest }>): Promise<CreateRunOutcome[]> {
    const outcomes = new Array<CreateRunOutcome>(requests.length);
    const records: DagRunRecord[] = [];
    const slots: number[] = [];
    for (const [index, { dag, request }] of requests.entries()) {
      try {
        records.push(this.newRunRecord(dag, request));
        slots.push(index);
      } catch (error) {
        outcomes[index] = { created: false, error: error as Error };
      }
    }
    const results = records.length > 0 ? await this.store.createRuns(records) : [];
    results.forEach((result, index) => {
      outcomes[slots[index]!] = result;
    });
    return outcomes;
  }

  /** The record createRun stores: state running, created and started now. */
  private newRunRecord(dag: DagSpec, request: RunRequest): DagRunRecord {
    const now = this.clock.now();
    const kind = request.kind ?? 'manual';
    const logicalDateMs = request.logicalDateMs ?? now;
    return {
      runId: request.runId ?? newRunId(kind, dag.id, logicalDateMs),
      dagId: dag.id,
      kind,
      state: 'running',
      logicalDateMs,
      conf: resolveParams(dag.params, request.conf ?? {}, 'conf', dag.paramsSchema),
      createdMs: now,
      startMs: now,
      ...(request.dataIntervalStartMs === undefined ? {} : { dataIntervalStartMs: request.dataIntervalStartMs }),
      ...(request.dataIntervalEndMs === undefined ? {} : { dataIntervalEndMs: request.dataIntervalEndMs }),
    };
  }

  /** Second half of `startRun`: drives a run this process just created. */
  async beginRun(dag: DagSpec, run: DagRunRecord): Promise<RunHandle> {
    await this.start();
    const engine = await this.newEngine(dag, run);
    const driver = this.track(dag, engine, run);
    this.listener.runChanged?.(run);
    await driver.begin(engine.start(this.clock.now()));
    return { runId: run.runId, done: driver.done };
  }

  /**
   * Starts a run that `batuta dags trigger` (or another process) created in state `queued`. The switch to
   * `running` is guarded, so when several schedulers see the same queued run exactly one starts it;
   * the others get `undefined`.
   */
  async startQueuedRun(dag: DagSpec, runId: string): Promise<RunHandle | undefined> {
    await this.start();
    const record = await this.store.getRun(runId);
    if (record?.state !== 'queued') return undefined;
    const now = this.clock.now();
    let conf: Record<string, unknown>;
    try {
      conf = resolveParams(dag.params, record.conf, 'conf', dag.paramsSchema);
    } catch (error) {
      const reason = `rejected: ${(error as Error).message}`;
      await this.store.applyTransition(runId, {
        run: { patch: { state: 'failed', endMs: now, reason }, expectState: 'queued' },
      });
      return undefined;
    }
    const took = await this.store.applyTransition(runId, {
      run: { patch: { state: 'running', startMs: now, conf }, expectState: 'queued' },
    });
    if (!took) return undefined;
    const run: DagRunRecord = { ...record, state: 'running', startMs: now, conf };
    const engine = await this.newEngine(dag, run);
    const driver = this.track(dag, engine, run);
    this.listener.runChanged?.(run);
    await driver.begin(engine.start(now));
    return { runId, done: driver.done };
  }

  /**
   * Takes over a run that another process (or an earlier life of this one) was driving: rebuilds its
   * engine from the stored instances and outputs, re-arms retry timers and re-submits attempts that
   * were out (same try number: an executor with idempotent job ids does not run them twice).
   */
  async resumeRun(dag: DagSpec, runId: string): Promise<RunHandle> {
    await this.start();
    const active = this.drivers.get(runId);
    if (active) return { runId, done: active.done };
    const record = await this.store.getRun(runId);
    if (!record) throw new BatutaError('UNKNOWN_RUN', `run '${runId}' is not in the store`);
    if (record.state === 'success' || record.state === 'failed') return { runId, done: Promise.resolve(record) };
    const stored = await this.store.getTaskInstances(runId);
    const engine = await this.restoreEngine(dag, record, stored);
    const driver = this.track(dag, engine, record);
    driver.adopt(stored);
    await driver.begin(engine.resume(this.clock.now()));
    return { runId, done: driver.done };
  }

  /** An engine rebuilt from a run's stored instances and the outputs it needs. */
  private async restoreEngine(
    dag: DagSpec,
    record: DagRunRecord,
    stored: readonly TaskInstanceRecord[],
  ): Promise<RunEngine> {
    const runId = record.runId;
    const outputs = await this.store.getOutputs(runId, outputsToRestore(dag, stored));
    const previousStates = await this.previousStates(dag, record.logicalDateMs);
    return RunEngine.restore(
      this.planOf(dag),
      previousStates ? { runId, previousStates } : { runId },
      stored.map((i) => ({
        taskId: i.taskId,
        mapIndex: i.mapIndex,
        state: i.state,
        tryNumber: i.tryNumber,
        reason: i.reason ?? '',
        ...(i.nextTryAtMs === undefined ? {} : { nextTryAtMs: i.nextTryAtMs }),
        ...(i.error ? { error: i.error } : {}),
        ...(i.triesBeforeClear === undefined ? {} : { triesBeforeClear: i.triesBeforeClear }),
      })),
      outputs,
    );
  }

  /**
   * Airflow's `tasks clear`: the chosen instances go back to no state (running attempts are stopped first)
   * and run again in the same run, as their next try with their full retries; the run is running again.
   * Call it in the process that drives the run, or for an ended run in any process (it is resumed here);
   * the scheduler daemon routes requests to the run's lease holder.
   */
  clearTasks(
    dag: DagSpec,
    runId: string,
    taskIds: readonly string[],
    options: ClearTasksOptions = {},
  ): Promise<RepairOutcome> {
    const { dryRun, ...rest } = options;
    return this.repairRun(dag, runId, { action: 'clear', taskIds, ...rest }, dryRun ?? false);
  }

  /** Airflow's `runs clear` (clear of a whole DAG run): every task of the run, or only the failed ones. */
  clearRun(
    dag: DagSpec,
    runId: string,
    options: { onlyFailed?: boolean; dryRun?: boolean } = {},
  ): Promise<RepairOutcome> {
    const taskIds = dag.tasks.map((task) => task.id);
    return this.clearTasks(dag, runId, taskIds, options);
  }

  /** Airflow's mark success/failed/skipped: sets the state without running anything; downstreams re-evaluate. */
  markTasks(
    dag: DagSpec,
    runId: string,
    taskIds: readonly string[],
    state: MarkState,
    options: MarkTasksOptions = {},
  ): Promise<RepairOutcome> {
    const { dryRun, ...rest } = options;
    return this.repairRun(dag, runId, { action: 'mark', taskIds, state, ...rest }, dryRun ?? false);
  }

  /** Plans a repair against the run as stored, and applies it unless `dryRun`. */
  async repairRun(dag: DagSpec, runId: string, request: RepairRequest, dryRun = false): Promise<RepairOutcome> {
    if (dryRun) {
      const record = await this.requireRun(dag, runId);
      const plan = planRepair(this.planOf(dag), await this.store.getTaskInstances(record.runId), request);
      return { runId, applied: false, plan };
    }
    await this.start();
    for (;;) {
      const driver = this.drivers.get(runId);
      if (driver && !driver.isFinished) {
        const result = await new Promise<DriverRepairResult>((resolve) => {
          if (!driver.enqueue({ type: 'repair', request, settle: resolve })) resolve({ status: 'run_ended' });
        });
        if (result.status === 'refused') throw result.error;
        if (result.status === 'applied') {
          const applied = result.plan.changes.length > 0;
          return { runId, applied, plan: result.plan, ...(applied ? { done: driver.done } : {}) };
        }
        continue; // the run ended before the repair's turn: repair the ended run
      }
      const record = await this.requireRun(dag, runId);
      if (record.state === 'running') {
        // Driven by nobody here: take it over first (the daemon does so only holding the run's lease).
        await this.resumeRun(dag, runId);
        if (this.drivers.has(runId)) continue;
      }
      const outcome = await this.repairEndedRun(dag, record, request);
      if (outcome) return outcome;
    }
  }

  /** A repair of a run nobody drives (ended, or queued): one guarded transition, then the run is resumed here. */
  private async repairEndedRun(
    dag: DagSpec,
    record: DagRunRecord,
    request: RepairRequest,
  ): Promise<RepairOutcome | undefined> {
    const runId = record.runId;
    const stored = await this.store.getTaskInstances(runId);
    const plan = planRepair(this.planOf(dag), stored, request);
    if (plan.changes.length === 0 || record.state === 'queued') return { runId, applied: false, plan };
    const now = this.clock.now();
    const byKey = new Map(stored.map((instance) => [`${instance.taskId}#${instance.mapIndex}`, instance]));
    const writes = plan.changes.map((change) => {
      const before = byKey.get(`${change.taskId}#${change.mapIndex}`);
      const next: TaskInstanceRecord = before
        ? { ...before }
        : { runId, taskId: change.taskId, mapIndex: change.mapIndex, state: 'none', tryNumber: 0 };
      applyRepairChange(next, change, now);
      return { record: next, expectState: before ? before.state : ('absent' as const) };
    });
    const reads = repairOutputReads(plan);
    const outputs = repairOutputWrites(plan, reads.length > 0 ? await this.store.getOutputs(runId, reads) : new Map());
    const ok = await this.store.applyTransition(runId, {
      instances: writes,
      outputs,
      run: { patch: reopenedRunPatch(plan.runReason), expectState: record.state },
    });
    if (!ok) return undefined; // it changed meanwhile (another scheduler took it): plan again
    const handle = await this.resumeRun(dag, runId);
    return { runId, applied: true, plan, done: handle.done };
  }

  private async requireRun(dag: DagSpec, runId: string): Promise<DagRunRecord> {
    const record = await this.store.getRun(runId);
    if (!record) throw new BatutaError('UNKNOWN_RUN', `run '${runId}' is not in the store`);
    if (record.dagId !== dag.id) {
      throw new BatutaError('UNKNOWN_RUN', `run '${runId}' belongs to DAG '${record.dagId}', not '${dag.id}'`);
    }
    return record;
  }

  /** Cancels a run in this process: queued attempts are dropped, running ones aborted, the run fails. */
  async cancelRun(runId: string, reason = 'cancelled by user'): Promise<boolean> {
    const driver = this.drivers.get(runId);
    if (!driver || driver.isFinished) return false;
    driver.enqueue({ type: 'cancel', reason });
    return true;
  }

  /** Runs currently driven by this coordinator. */
  activeRunIds(): string[] {
    return [...this.drivers.keys()];
  }

  /** Stops the executor; runs still in flight stay in the store as they are. */
  async close(): Promise<void> {
    for (const driver of this.drivers.values()) driver.stopTimers();
    await this.executor.close();
  }

  // ExecutorListener
  started(job: TaskJob, atMs: number, worker?: string): void {
    this.drivers.get(job.runId)?.enqueue({ type: 'started', job, atMs, worker });
  }

  finished(result: TaskResult): void {
    this.drivers.get(result.job.runId)?.enqueue({ type: 'finished', result });
  }

  progress(job: TaskJob, fraction: number): void {
    this.listener.progress?.(job.runId, job.taskId, job.mapIndex, fraction);
  }

  log(job: TaskJob, message: string): void {
    this.listener.log?.(job.runId, job.taskId, job.mapIndex, message);
  }

  private track(dag: DagSpec, engine: RunEngine, record: DagRunRecord): RunDriver {
    const context = {
      store: this.store,
      executor: this.executor,
      clock: this.clock,
      listener: this.listener,
      effects: this.effects,
      ended: (runId: string) => this.drivers.delete(runId),
      restore: (dagSpec: DagSpec, run: DagRunRecord, instances: readonly TaskInstanceRecord[]) =>
        this.restoreEngine(dagSpec, run, instances),
    };
    const driver = new RunDriver(context, dag, engine, record);
    this.drivers.set(record.runId, driver);
    return driver;
  }

  private async newEngine(dag: DagSpec, run: DagRunRecord): Promise<RunEngine> {
    const previousStates = await this.previousStates(dag, run.logicalDateMs);
    const runId = run.runId;
    return new RunEngine(this.planOf(dag), previousStates ? { runId, previousStates } : { runId });
  }

  private planOf(dag: DagSpec): ExecutionPlan {
    let plan = this.plans.get(dag);
    if (!plan) {
      plan = compilePlan(dag);
      this.plans.set(dag, plan);
    }
    return plan;
  }

  /** The states of the previous run's tasks, for dependsOnPast; undefined when no task needs them. */
  private async previousStates(dag: DagSpec, logicalDateMs: number): Promise<Map<string, TaskState> | undefined> {
    if (!dag.tasks.some((t) => t.dependsOnPast)) return undefined;
    const runs = await this.store.listRuns({ dagId: dag.id });
    const previous = runs.find((r) => r.logicalDateMs < logicalDateMs);
    if (!previous) return undefined;
    const states = new Map<string, TaskState>();
    for (const instance of await this.store.getTaskInstances(previous.runId)) {
      if (instance.mapIndex === -1) states.set(instance.taskId, instance.state);
    }
    return states;
  }
}

/**
 * The outputs a restored engine needs: those of branch, short-circuit and map-source tasks, and of
 * the successful instances of mapped tasks still open (their aggregate output is yet to be made).
 */
function outputsToRestore(
  dag: DagSpec,
  stored: readonly TaskInstanceRecord[],
): Array<{ taskId: string; mapIndex: number }> {
  const keep = new Set<string>();
  for (const task of dag.tasks) {
    if (task.branch || task.shortCircuit) keep.add(task.id);
    for (const source of Object.values(task.map?.over ?? {})) if ('fromTask' in source) keep.add(source.fromTask);
  }
  const closed = new Set<string>();
  for (const instance of stored) {
    if (instance.mapIndex === -1 && TERMINAL_TASK_STATES.has(instance.state)) closed.add(instance.taskId);
  }
  const needed = [...keep].map((taskId) => ({ taskId, mapIndex: -1 }));
  for (const instance of stored) {
    if (instance.mapIndex < 0 || instance.state !== 'success') continue;
    if (closed.has(instance.taskId) && !keep.has(instance.taskId)) continue;
    needed.push({ taskId: instance.taskId, mapIndex: instance.mapIndex });
  }
  return needed;
}
