// Drives DAG runs: feeds executor events to each run's pure engine, applies the engine's decisions to
// the store in one transition per batch, and hands runnable attempts to the executor. Event-driven:
// a finished attempt moves its downstream at once; nothing polls.
import { randomUUID } from 'node:crypto';
import pRetry from 'p-retry';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import {
  type DagSpec,
  type RunState,
  type TaskError,
  type TaskEvent,
  type TaskState,
  TERMINAL_TASK_STATES,
} from '../dag/model.js';
import { resolveParams } from '../dag/params.js';
import { BatutaError } from '../errors.js';
import type { Executor, ExecutorListener, TaskJob, TaskResult } from '../executor.js';
import { RunEngine } from '../run/engine.js';
import { compilePlan, type ExecutionPlan } from '../run/plan.js';
import type { Decision, InstanceKey, Outcome } from '../run/types.js';
import { toStoredJson } from '../store/json-value.js';
import type { DagRunRecord, RunKind, StateStore, TaskInstanceRecord } from '../store/state-store.js';
import { ReadyQueue } from './ready-queue.js';

/** What a coordinator reports as runs progress (the CLI's live view listens here). */
export interface RunListener {
  taskChanged?(run: DagRunRecord, instance: TaskInstanceRecord): void;
  runChanged?(run: DagRunRecord): void;
  log?(runId: string, taskId: string, mapIndex: number, message: string): void;
  progress?(runId: string, taskId: string, mapIndex: number, fraction: number): void;
  /** A user callback threw; the run goes on. */
  callbackFailed?(runId: string, what: string, error: unknown): void;
}

/** How to start a run. */
/** What createRuns did with one request. */
export type CreateRunOutcome = { created: boolean; run: DagRunRecord } | { created: false; error: Error };

export interface RunRequest {
  /** Defaults to `<kind>__<logical date ISO>__<random>`; scheduled runs pass their deterministic id. */
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

export interface RunCoordinatorOptions {
  store: StateStore;
  executor: Executor;
  clock?: Clock;
  listener?: RunListener;
}

type InboxEvent =
  | { type: 'started'; job: TaskJob; atMs: number; worker: string | undefined }
  | { type: 'finished'; result: TaskResult }
  | { type: 'retryDue'; key: InstanceKey }
  | { type: 'cancel'; reason: string };

interface ActiveRun {
  dag: DagSpec;
  plan: ExecutionPlan;
  tasks: Map<string, DagSpec['tasks'][number]>;
  engine: RunEngine;
  record: DagRunRecord;
  instances: Map<string, TaskInstanceRecord>;
  ready: ReadyQueue<TaskJob>;
  inFlight: number;
  inbox: InboxEvent[];
  draining: boolean;
  timers: Map<string, () => void>;
  mappedOutputs: Map<string, Array<unknown | typeof NOT_SUCCEEDED>>;
  finished: boolean;
  done: Promise<DagRunRecord>;
  resolve: (record: DagRunRecord) => void;
  reject: (error: unknown) => void;
}

/** The stream where a dataset's updates are appended (a task with `outlets` succeeded). */
export function datasetStream(dataset: string): string {
  return `dataset:${dataset}`;
}

/** How often a store write is retried while the store is unreachable (~1 minute with the backoff). */
const STORE_RETRIES = 35;

/** Marks a mapped instance that did not succeed: it contributes nothing to the aggregate list. */
const NOT_SUCCEEDED: unique symbol = Symbol('not succeeded');

const CALLBACK_FOR_STATE: Partial<Record<TaskState, 'onSuccess' | 'onFailure' | 'onSkipped'>> = {
  success: 'onSuccess',
  failed: 'onFailure',
  skipped: 'onSkipped',
};

const keyOf = (taskId: string, mapIndex: number) => `${taskId}#${mapIndex}`;

/** Outputs travel through the store as JSON: a value that cannot fails its attempt, with the path. */
function storableOutcome(outcome: Outcome, taskId: string, mapIndex: number): Outcome {
  if (outcome.status !== 'success' || outcome.output === undefined) return outcome;
  try {
    toStoredJson(outcome.output, `the output of task '${mapIndex >= 0 ? `${taskId}#${mapIndex}` : taskId}'`);
    return outcome;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      status: 'failed',
      error: { message, name: 'BatutaError', code: 'STORE_NOT_SERIALIZABLE', retryable: false },
    };
  }
}

/** Runs DAG runs in this process against a StateStore and an Executor. */
export class RunCoordinator implements ExecutorListener {
  private readonly store: StateStore;
  private readonly executor: Executor;
  private readonly clock: Clock;
  private readonly listener: RunListener;
  private readonly runs = new Map<string, ActiveRun>();
  private readonly plans = new WeakMap<DagSpec, ExecutionPlan>();
  private listening = false;

  constructor(options: RunCoordinatorOptions) {
    this.store = options.store;
    this.executor = options.executor;
    this.clock = options.clock ?? systemClock;
    this.listener = options.listener ?? {};
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
    const runId =
      request.runId ?? `${kind}__${new Date(logicalDateMs).toISOString()}__${dag.id}__${randomUUID().slice(0, 8)}`;
    return {
      runId,
      dagId: dag.id,
      kind,
      state: 'running',
      logicalDateMs,
      conf: resolveParams(dag.params, request.conf ?? {}),
      createdMs: now,
      startMs: now,
      ...(request.dataIntervalStartMs === undefined ? {} : { dataIntervalStartMs: request.dataIntervalStartMs }),
      ...(request.dataIntervalEndMs === undefined ? {} : { dataIntervalEndMs: request.dataIntervalEndMs }),
    };
  }

  /** Second half of `startRun`: drives a run this process just created. */
  async beginRun(dag: DagSpec, run: DagRunRecord): Promise<RunHandle> {
    await this.start();
    const runId = run.runId;
    const previousStates = await this.previousStates(dag, run.logicalDateMs);
    const plan = this.planOf(dag);
    const active = this.activate(
      dag,
      plan,
      new RunEngine(plan, previousStates ? { runId, previousStates } : { runId }),
      run,
    );
    this.listener.runChanged?.(run);
    await this.process(active, active.engine.start(this.clock.now()));
    void this.drain(active);
    return { runId, done: active.done };
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
      conf = resolveParams(dag.params, record.conf);
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
    const previousStates = await this.previousStates(dag, run.logicalDateMs);
    const plan = this.planOf(dag);
    const active = this.activate(
      dag,
      plan,
      new RunEngine(plan, previousStates ? { runId, previousStates } : { runId }),
      run,
    );
    this.listener.runChanged?.(run);
    await this.process(active, active.engine.start(now));
    void this.drain(active);
    return { runId, done: active.done };
  }

  /**
   * Takes over a run that another process (or an earlier life of this one) was driving: rebuilds its
   * engine from the stored instances and outputs, re-arms retry timers and re-submits attempts that
   * were out (same try number: an executor with idempotent job ids does not run them twice).
   */
  async resumeRun(dag: DagSpec, runId: string): Promise<RunHandle> {
    await this.start();
    const active = this.runs.get(runId);
    if (active) return { runId, done: active.done };
    const record = await this.store.getRun(runId);
    if (!record) throw new BatutaError('UNKNOWN_RUN', `run '${runId}' is not in the store`);
    if (record.state === 'success' || record.state === 'failed') return { runId, done: Promise.resolve(record) };
    const plan = this.planOf(dag);
    const stored = await this.store.getTaskInstances(runId);
    const needed: Array<{ taskId: string; mapIndex: number }> = [];
    const mappedTasks = new Set(dag.tasks.filter((t) => t.map).map((t) => t.id));
    const keepOutput = new Set<string>();
    for (const task of dag.tasks) {
      if (task.branch || task.shortCircuit) keepOutput.add(task.id);
      for (const source of Object.values(task.map?.over ?? {}))
        if ('fromTask' in source) keepOutput.add(source.fromTask);
    }
    for (const id of keepOutput) needed.push({ taskId: id, mapIndex: -1 });
    for (const instance of stored) {
      if (instance.mapIndex >= 0 && instance.state === 'success')
        needed.push({ taskId: instance.taskId, mapIndex: instance.mapIndex });
    }
    const outputs = await this.store.getOutputs(runId, needed);
    const previousStates = await this.previousStates(dag, record.logicalDateMs);
    const engine = RunEngine.restore(
      plan,
      previousStates ? { runId, previousStates } : { runId },
      stored.map((i) => ({
        taskId: i.taskId,
        mapIndex: i.mapIndex,
        state: i.state,
        tryNumber: i.tryNumber,
        reason: i.reason ?? '',
        ...(i.nextTryAtMs === undefined ? {} : { nextTryAtMs: i.nextTryAtMs }),
        ...(i.error ? { error: i.error } : {}),
      })),
      outputs,
    );
    const run = this.activate(dag, plan, engine, record);
    for (const instance of stored) run.instances.set(keyOf(instance.taskId, instance.mapIndex), { ...instance });
    for (const taskId of mappedTasks) {
      const parent = run.instances.get(keyOf(taskId, -1));
      if (parent && TERMINAL_TASK_STATES.has(parent.state)) continue;
      const count = stored.filter((i) => i.taskId === taskId && i.mapIndex >= 0).length;
      if (count === 0) continue;
      const list: Array<unknown | typeof NOT_SUCCEEDED> = new Array(count).fill(NOT_SUCCEEDED);
      for (const [key, value] of outputs) {
        const [id, index] = key.split('#');
        if (id === taskId && Number(index) >= 0) list[Number(index)] = value;
      }
      for (const i of stored)
        if (i.taskId === taskId && i.state === 'success' && list[i.mapIndex] === NOT_SUCCEEDED) list[i.mapIndex] = null;
      run.mappedOutputs.set(taskId, list);
    }
    await this.apply(run, engine.resume(this.clock.now()), new Set(), []);
    void this.drain(run);
    return { runId, done: run.done };
  }

  /** Cancels a run in this process: queued attempts are dropped, running ones aborted, the run fails. */
  async cancelRun(runId: string, reason = 'cancelled by user'): Promise<boolean> {
    const run = this.runs.get(runId);
    if (!run || run.finished) return false;
    this.enqueue(run, { type: 'cancel', reason });
    return true;
  }

  /** Runs currently driven by this coordinator. */
  activeRunIds(): string[] {
    return [...this.runs.keys()];
  }

  /** Stops the executor; runs still in flight stay in the store as they are. */
  async close(): Promise<void> {
    for (const run of this.runs.values()) for (const cancel of run.timers.values()) cancel();
    await this.executor.close();
  }

  // ExecutorListener
  started(job: TaskJob, atMs: number, worker?: string): void {
    const run = this.runs.get(job.runId);
    if (run) this.enqueue(run, { type: 'started', job, atMs, worker });
  }

  finished(result: TaskResult): void {
    const run = this.runs.get(result.job.runId);
    if (run) this.enqueue(run, { type: 'finished', result });
  }

  progress(job: TaskJob, fraction: number): void {
    this.listener.progress?.(job.runId, job.taskId, job.mapIndex, fraction);
  }

  log(job: TaskJob, message: string): void {
    this.listener.log?.(job.runId, job.taskId, job.mapIndex, message);
  }

  private planOf(dag: DagSpec): ExecutionPlan {
    let plan = this.plans.get(dag);
    if (!plan) {
      plan = compilePlan(dag);
      this.plans.set(dag, plan);
    }
    return plan;
  }

  private activate(dag: DagSpec, plan: ExecutionPlan, engine: RunEngine, record: DagRunRecord): ActiveRun {
    let resolve!: (record: DagRunRecord) => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<DagRunRecord>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const active: ActiveRun = {
      dag,
      plan,
      tasks: new Map(dag.tasks.map((t) => [t.id, t])),
      engine,
      record,
      instances: new Map(),
      ready: new ReadyQueue(),
      inFlight: 0,
      inbox: [],
      draining: false,
      timers: new Map(),
      mappedOutputs: new Map(),
      finished: false,
      done,
      resolve,
      reject,
    };
    this.runs.set(record.runId, active);
    return active;
  }

  private enqueue(run: ActiveRun, event: InboxEvent): void {
    run.inbox.push(event);
    if (!run.draining) void this.drain(run);
  }

  private async drain(run: ActiveRun): Promise<void> {
    if (run.draining || run.finished) return;
    run.draining = true;
    try {
      // Let events that arrive in the same tick join one batch (one store transition).
      await Promise.resolve();
      while (run.inbox.length > 0 && !run.finished) {
        const events = run.inbox.splice(0);
        const decisions: Decision[] = [];
        const touched = new Set<string>();
        const outputs: Array<{ taskId: string; mapIndex: number; value: unknown }> = [];
        const now = this.clock.now();
        for (const event of events) this.absorb(run, event, now, decisions, touched, outputs);
        await this.apply(run, decisions, touched, outputs);
      }
    } catch (error) {
      run.finished = true;
      this.runs.delete(run.record.runId);
      run.reject(error);
    } finally {
      run.draining = false;
    }
    if (run.inbox.length > 0 && !run.finished) void this.drain(run);
  }

  /** Turns one event into engine calls and record changes. */
  private absorb(
    run: ActiveRun,
    event: InboxEvent,
    now: number,
    decisions: Decision[],
    touched: Set<string>,
    outputs: Array<{ taskId: string; mapIndex: number; value: unknown }>,
  ): void {
    switch (event.type) {
      case 'started': {
        const { job } = event;
        const record = this.instance(run, job.taskId, job.mapIndex);
        if (record.tryNumber !== job.tryNumber || record.state === 'running') return;
        run.engine.running(job, event.atMs);
        record.state = 'running';
        record.startMs = event.atMs;
        if (event.worker) record.worker = event.worker;
        touched.add(keyOf(job.taskId, job.mapIndex));
        this.callback(run, job.taskId, 'onExecute', record, 'started');
        return;
      }
      case 'finished': {
        const { job } = event.result;
        const outcome = storableOutcome(event.result.outcome, job.taskId, job.mapIndex);
        run.inFlight--;
        const record = this.instance(run, job.taskId, job.mapIndex);
        // A late report (an attempt already timed out, cancelled or superseded) changes nothing.
        if (record.tryNumber !== job.tryNumber || TERMINAL_TASK_STATES.has(record.state)) return;
        record.endMs = event.result.endedMs;
        if (record.startMs === undefined) record.startMs = event.result.startedMs;
        if (outcome.status === 'success') {
          record.reason = `succeeded on try ${job.tryNumber}`;
          if (outcome.output !== undefined)
            outputs.push({ taskId: job.taskId, mapIndex: job.mapIndex, value: outcome.output });
          if (job.mapIndex >= 0) this.collectMapped(run, job.taskId, job.mapIndex, outcome.output);
        } else if (outcome.status === 'skipped') {
          record.reason = outcome.reason;
        } else {
          record.reason = `failed on try ${job.tryNumber}: ${outcome.error.message}`;
          record.error = outcome.error;
        }
        touched.add(keyOf(job.taskId, job.mapIndex));
        // The engine's first decision is this instance's own final state (or its retry); callbacks fire there.
        const follow = run.engine.complete(job, outcome, now);
        for (const d of follow) decisions.push(d);
        return;
      }
      case 'retryDue': {
        run.timers.delete(keyOf(event.key.taskId, event.key.mapIndex));
        for (const d of run.engine.retryDue(event.key, now)) decisions.push(d);
        return;
      }
      case 'cancel': {
        const dropped = run.ready.removeWhere(() => true);
        for (const job of dropped) {
          const record = this.instance(run, job.taskId, job.mapIndex);
          record.reason = event.reason;
        }
        for (const cancel of run.timers.values()) cancel();
        run.timers.clear();
        void this.executor.cancel({ runId: run.record.runId }, event.reason);
        for (const d of run.engine.cancel(event.reason, now)) decisions.push(d);
        return;
      }
    }
  }

  /** Applies decisions, writes one transition, then submits what may start. */
  private async process(run: ActiveRun, decisions: Decision[]): Promise<void> {
    await this.apply(run, decisions, new Set(), []);
  }

  private async apply(
    run: ActiveRun,
    decisions: Decision[],
    touched: Set<string>,
    outputs: Array<{ taskId: string; mapIndex: number; value: unknown }>,
  ): Promise<void> {
    let finish: Extract<Decision, { kind: 'finish' }> | undefined;
    for (const decision of decisions) {
      switch (decision.kind) {
        case 'run': {
          const task = run.tasks.get(decision.taskId)!;
          const record = this.instance(run, decision.taskId, decision.mapIndex);
          record.state = 'scheduled';
          record.tryNumber = decision.tryNumber;
          record.reason = decision.reason;
          delete record.nextTryAtMs;
          touched.add(keyOf(decision.taskId, decision.mapIndex));
          const job: TaskJob = {
            dagId: run.dag.id,
            runId: run.record.runId,
            taskId: decision.taskId,
            mapIndex: decision.mapIndex,
            tryNumber: decision.tryNumber,
            resources: task.resources,
            priorityWeight: task.priorityWeight,
            ...(task.pool === undefined ? {} : { pool: task.pool }),
            ...(task.timeoutMs === undefined ? {} : { timeoutMs: task.timeoutMs }),
            ...(decision.item === undefined ? {} : { item: decision.item }),
          };
          run.ready.push(job, task.priorityWeight);
          break;
        }
        case 'mark': {
          const record = this.instance(run, decision.taskId, decision.mapIndex);
          const previous = record.state;
          record.state = decision.state;
          record.reason = decision.reason;
          if (record.endMs === undefined) record.endMs = this.clock.now();
          touched.add(keyOf(decision.taskId, decision.mapIndex));
          const task = run.tasks.get(decision.taskId);
          if (decision.mapIndex === -1 && task?.map && decision.state === 'success') {
            outputs.push({
              taskId: decision.taskId,
              mapIndex: -1,
              value: run.mappedOutputs.get(decision.taskId) ?? [],
            });
            run.mappedOutputs.delete(decision.taskId);
          }
          if (previous !== decision.state) {
            const name = CALLBACK_FOR_STATE[decision.state];
            if (name) this.callback(run, decision.taskId, name, record, decision.reason);
          }
          break;
        }
        case 'retry': {
          const record = this.instance(run, decision.taskId, decision.mapIndex);
          record.state = 'up_for_retry';
          record.reason = decision.reason;
          record.nextTryAtMs = decision.atMs;
          touched.add(keyOf(decision.taskId, decision.mapIndex));
          const key = { taskId: decision.taskId, mapIndex: decision.mapIndex };
          run.timers.set(
            keyOf(key.taskId, key.mapIndex),
            this.clock.setTimer(decision.atMs, () => this.enqueue(run, { type: 'retryDue', key })),
          );
          this.callback(run, decision.taskId, 'onRetry', record, decision.reason);
          break;
        }
        case 'expand':
          run.mappedOutputs.set(decision.taskId, new Array(decision.count).fill(NOT_SUCCEEDED));
          break;
        case 'finish':
          finish = decision;
          break;
      }
    }

    // Admit what the DAG's maxActiveTasks allows; those become queued in the same transition.
    const toSubmit: TaskJob[] = [];
    while (!finish && run.inFlight < run.dag.maxActiveTasks && run.ready.size > 0) {
      const job = run.ready.pop()!;
      const record = this.instance(run, job.taskId, job.mapIndex);
      record.state = 'queued';
      record.queuedMs = this.clock.now();
      run.engine.queued(job, record.queuedMs);
      touched.add(keyOf(job.taskId, job.mapIndex));
      run.inFlight++;
      toSubmit.push(job);
    }

    const now = this.clock.now();
    const runPatch: Partial<DagRunRecord> | undefined = finish
      ? { state: finish.state as RunState, endMs: now, reason: finish.reason }
      : undefined;
    const written = [...touched].map((key) => ({ record: { ...run.instances.get(key)! } }));
    const transition = { instances: written, outputs, ...(runPatch ? { run: { patch: runPatch } } : {}) };
    // Writes carry whole records, so repeating one whose outcome is unknown is harmless.
    const ok = await pRetry(() => this.store.applyTransition(run.record.runId, transition), {
      retries: STORE_RETRIES,
      minTimeout: 50,
      maxTimeout: 2_000,
      shouldRetry: ({ error }) => (error as { code?: string }).code === 'STORE_UNAVAILABLE',
    });
    if (!ok) throw new BatutaError('STORE_CONFLICT', `run '${run.record.runId}' could not be updated in the store`);
    if (runPatch) run.record = { ...run.record, ...runPatch };
    for (const decision of decisions) {
      if (decision.kind !== 'mark' || decision.state !== 'success' || decision.mapIndex !== -1) continue;
      for (const dataset of run.tasks.get(decision.taskId)?.outlets ?? []) {
        await this.store.appendEvent(
          datasetStream(dataset),
          'dataset-updated',
          {
            dataset,
            dagId: run.dag.id,
            runId: run.record.runId,
            taskId: decision.taskId,
          },
          now,
        );
      }
    }
    if (this.listener.taskChanged) for (const w of written) this.listener.taskChanged(run.record, w.record);

    for (const job of toSubmit) {
      try {
        await this.executor.submit(job);
      } catch (error) {
        const taskError: TaskError = {
          message: error instanceof Error ? error.message : String(error),
          name: error instanceof Error ? error.name : 'Error',
          retryable: false,
          ...(error instanceof BatutaError || (error as { code?: unknown })?.code
            ? { code: String((error as { code: unknown }).code) }
            : {}),
        };
        const at = this.clock.now();
        this.finished({ job, outcome: { status: 'failed', error: taskError }, startedMs: at, endedMs: at });
      }
    }

    if (finish) this.finish(run, finish);
  }

  private finish(run: ActiveRun, decision: Extract<Decision, { kind: 'finish' }>): void {
    run.finished = true;
    for (const cancel of run.timers.values()) cancel();
    run.timers.clear();
    this.runs.delete(run.record.runId);
    this.listener.runChanged?.(run.record);
    const callback = decision.state === 'success' ? run.dag.callbacks?.onSuccess : run.dag.callbacks?.onFailure;
    if (callback) {
      const event = { dagId: run.dag.id, runId: run.record.runId, state: decision.state, reason: decision.reason };
      void Promise.resolve()
        .then(() => callback(event))
        .catch((error) => this.listener.callbackFailed?.(run.record.runId, `dag ${decision.state} callback`, error));
    }
    run.resolve(run.record);
  }

  private instance(run: ActiveRun, taskId: string, mapIndex: number): TaskInstanceRecord {
    const key = keyOf(taskId, mapIndex);
    let record = run.instances.get(key);
    if (!record) {
      record = { runId: run.record.runId, taskId, mapIndex, state: 'none', tryNumber: 0 };
      run.instances.set(key, record);
    }
    return record;
  }

  private collectMapped(run: ActiveRun, taskId: string, mapIndex: number, output: unknown): void {
    const list = run.mappedOutputs.get(taskId);
    // A list of outputs is JSON: an instance that returned nothing contributes null.
    if (list) list[mapIndex] = output === undefined ? null : output;
  }

  private callback(
    run: ActiveRun,
    taskId: string,
    name: 'onExecute' | 'onSuccess' | 'onFailure' | 'onRetry' | 'onSkipped',
    record: TaskInstanceRecord,
    reason: string,
  ): void {
    const callback = run.tasks.get(taskId)?.callbacks?.[name];
    if (!callback) return;
    const event: TaskEvent = {
      dagId: run.dag.id,
      runId: run.record.runId,
      taskId,
      mapIndex: record.mapIndex,
      tryNumber: record.tryNumber,
      state: record.state as TaskState,
      reason,
      ...(record.error ? { error: record.error } : {}),
    };
    void Promise.resolve()
      .then(() => callback(event))
      .catch((error) => this.listener.callbackFailed?.(run.record.runId, `${taskId}.${name}`, error));
  }

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
