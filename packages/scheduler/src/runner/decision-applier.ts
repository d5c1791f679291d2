// The applying half of a run's driver, with no I/O: it turns the engine's decisions (and the events
// the driver absorbed) into the run's instance records, the attempts to admit under maxActiveTasks,
// and one RunStep — the single store transition to write and the effects to carry out once it is
// written (jobs to submit, retry timers to arm, callbacks to fire). Dataset updates a step publishes
// are events of its transition, so they are stored exactly when the success that made them is.
// Deciding stays in the engine (ADR 001): nothing here chooses a state or an output.
import type { DagSpec, RunState, TaskEvent, TaskSpec, TaskState } from '../dag/model.js';
import type { TaskJob } from '../executor.js';
import type { RunEngine } from '../run/engine.js';
import type { Decision, InstanceKey } from '../run/types.js';
import type { DagRunRecord, TaskInstanceRecord, Transition } from '../store/state-store.js';
import { DATASET_UPDATED, datasetStream } from './dataset-stream.js';
import type { ReadyQueue } from './ready-queue.js';

/** The driver's in-memory picture of one run: what the applier reads and changes. */
export interface RunBook {
  readonly dag: DagSpec;
  readonly tasks: ReadonlyMap<string, TaskSpec>;
  record: DagRunRecord;
  /** Instance records by `instanceKey`, as last written (or about to be). */
  readonly instances: Map<string, TaskInstanceRecord>;
  /** Attempts decided but not yet handed to the executor, highest priority first. */
  readonly ready: ReadyQueue<TaskJob>;
  /** Attempts handed to the executor whose outcome has not arrived. */
  inFlight: number;
}

/** A task callback's name (Airflow's on_execute, on_success, on_failure, on_retry, on_skipped). */
export type TaskCallbackName = 'onExecute' | 'onSuccess' | 'onFailure' | 'onRetry' | 'onSkipped';

/** A task callback to fire once the step is written, with the event it receives. */
export interface TaskCallbackCall {
  taskId: string;
  name: TaskCallbackName;
  event: TaskEvent;
}

/** An output to store with the step. */
export interface StoredOutput {
  taskId: string;
  mapIndex: number;
  value: unknown;
}

/** What one batch amounts to: one store transition, then the effects that follow it. */
export interface RunStep {
  /** Keys of the instance records the transition writes. */
  readonly touched: Set<string>;
  readonly outputs: StoredOutput[];
  readonly callbacks: TaskCallbackCall[];
  /** Retry timers to arm: call the engine's retryDue for `key` at `atMs`. */
  readonly retries: Array<{ key: InstanceKey; atMs: number }>;
  /** Datasets a task that just succeeded publishes (its `outlets`). */
  readonly datasets: Array<{ dataset: string; taskId: string }>;
  /** Attempts admitted in this step: they are queued in the transition and submitted after it. */
  readonly toSubmit: TaskJob[];
  finish: Extract<Decision, { kind: 'finish' }> | undefined;
}

/** An empty step. */
export function newRunStep(): RunStep {
  return { touched: new Set(), outputs: [], callbacks: [], retries: [], datasets: [], toSubmit: [], finish: undefined };
}

/** The key of an instance in a RunBook: `taskId#mapIndex`. */
export function instanceKey(taskId: string, mapIndex: number): string {
  return `${taskId}#${mapIndex}`;
}

/** The run's record of an instance, created in state none when first seen. */
export function instanceOf(book: RunBook, taskId: string, mapIndex: number): TaskInstanceRecord {
  const key = instanceKey(taskId, mapIndex);
  let record = book.instances.get(key);
  if (!record) {
    record = { runId: book.record.runId, taskId, mapIndex, state: 'none', tryNumber: 0 };
    book.instances.set(key, record);
  }
  return record;
}

const CALLBACK_FOR_STATE: Partial<Record<TaskState, TaskCallbackName>> = {
  success: 'onSuccess',
  failed: 'onFailure',
  skipped: 'onSkipped',
};

/** Queues a callback of the task if it declares one, with the instance as it is now. */
export function addCallback(
  book: RunBook,
  step: RunStep,
  taskId: string,
  name: TaskCallbackName,
  record: TaskInstanceRecord,
  reason: string,
): void {
  if (!book.tasks.get(taskId)?.callbacks?.[name]) return;
  const event: TaskEvent = {
    dagId: book.dag.id,
    runId: book.record.runId,
    taskId,
    mapIndex: record.mapIndex,
    tryNumber: record.tryNumber,
    state: record.state as TaskState,
    reason,
    ...(record.error ? { error: record.error } : {}),
  };
  step.callbacks.push({ taskId, name, event });
}

/**
 * Applies the engine's decisions to the run's records, in order, then admits what maxActiveTasks
 * allows (queued in the same transition). Everything to do afterwards is added to `step`.
 */
export function applyDecisions(
  book: RunBook,
  engine: RunEngine,
  decisions: readonly Decision[],
  step: RunStep,
  nowMs: number,
): void {
  for (const decision of decisions) {
    switch (decision.kind) {
      case 'run':
        applyRun(book, decision, step);
        break;
      case 'mark':
        applyMark(book, decision, step, nowMs);
        break;
      case 'retry': {
        const record = instanceOf(book, decision.taskId, decision.mapIndex);
        record.state = 'up_for_retry';
        record.reason = decision.reason;
        record.nextTryAtMs = decision.atMs;
        step.touched.add(instanceKey(decision.taskId, decision.mapIndex));
        step.retries.push({ key: { taskId: decision.taskId, mapIndex: decision.mapIndex }, atMs: decision.atMs });
        addCallback(book, step, decision.taskId, 'onRetry', record, decision.reason);
        break;
      }
      case 'expand':
        // The instances' records appear with their 'run' decisions; nothing to keep here.
        break;
      case 'finish':
        step.finish = decision;
        break;
    }
  }
  if (!step.finish) admit(book, engine, step, nowMs);
}

function applyRun(book: RunBook, decision: Extract<Decision, { kind: 'run' }>, step: RunStep): void {
  const task = book.tasks.get(decision.taskId)!;
  const record = instanceOf(book, decision.taskId, decision.mapIndex);
  record.state = 'scheduled';
  record.tryNumber = decision.tryNumber;
  record.reason = decision.reason;
  delete record.nextTryAtMs;
  // A new try's times are its own: an earlier try's end kept beside this try's start made
  // `end - start` negative (seen as "try 2 -1186 ms") until this try ended.
  delete record.startMs;
  delete record.endMs;
  step.touched.add(instanceKey(decision.taskId, decision.mapIndex));
  const job: TaskJob = {
    dagId: book.dag.id,
    runId: book.record.runId,
    taskId: decision.taskId,
    mapIndex: decision.mapIndex,
    tryNumber: decision.tryNumber,
    resources: task.resources,
    priorityWeight: task.priorityWeight,
    ...(task.pool === undefined ? {} : { pool: task.pool }),
    ...(task.timeoutMs === undefined ? {} : { timeoutMs: task.timeoutMs }),
    ...(decision.item === undefined ? {} : { item: decision.item }),
  };
  book.ready.push(job, task.priorityWeight);
}

function applyMark(book: RunBook, decision: Extract<Decision, { kind: 'mark' }>, step: RunStep, nowMs: number): void {
  const { taskId, mapIndex, state, reason } = decision;
  const record = instanceOf(book, taskId, mapIndex);
  const previous = record.state;
  record.state = state;
  record.reason = reason;
  if (record.endMs === undefined) record.endMs = nowMs;
  step.touched.add(instanceKey(taskId, mapIndex));
  if (decision.output !== undefined) step.outputs.push({ taskId, mapIndex, value: decision.output });
  if (previous !== state) {
    const name = CALLBACK_FOR_STATE[state];
    if (name) addCallback(book, step, taskId, name, record, reason);
  }
  if (state === 'success' && mapIndex === -1) {
    for (const dataset of book.tasks.get(taskId)?.outlets ?? []) step.datasets.push({ dataset, taskId });
  }
}

/** Moves ready attempts to queued while the DAG's maxActiveTasks allows. */
function admit(book: RunBook, engine: RunEngine, step: RunStep, nowMs: number): void {
  while (book.inFlight < book.dag.maxActiveTasks && book.ready.size > 0) {
    const job = book.ready.pop()!;
    const record = instanceOf(book, job.taskId, job.mapIndex);
    record.state = 'queued';
    record.queuedMs = nowMs;
    engine.queued(job, nowMs);
    step.touched.add(instanceKey(job.taskId, job.mapIndex));
    book.inFlight++;
    step.toSubmit.push(job);
  }
}

/**
 * The one store transition a step writes: whole records (so a repeat is harmless), outputs, the dataset
 * updates (appended only if the transition applies, so a crash cannot lose one), the run's end.
 */
export function transitionOf(
  book: RunBook,
  step: RunStep,
  nowMs: number,
): { transition: Transition; written: TaskInstanceRecord[]; runPatch: Partial<DagRunRecord> | undefined } {
  const runPatch: Partial<DagRunRecord> | undefined = step.finish
    ? { state: step.finish.state as RunState, endMs: nowMs, reason: step.finish.reason }
    : undefined;
  const written = [...step.touched].map((key) => ({ ...book.instances.get(key)! }));
  const transition: Transition = {
    instances: written.map((record) => ({ record })),
    outputs: step.outputs,
    ...(runPatch ? { run: { patch: runPatch } } : {}),
    ...(step.datasets.length > 0
      ? {
          events: step.datasets.map(({ dataset, taskId }) => ({
            stream: datasetStream(dataset),
            type: DATASET_UPDATED,
            payload: { dataset, dagId: book.dag.id, runId: book.record.runId, taskId },
            atMs: nowMs,
          })),
        }
      : {}),
  };
  return { transition, written, runPatch };
}
