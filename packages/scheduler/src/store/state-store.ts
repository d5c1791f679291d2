// The StateStore port: DAG runs, task instances, task outputs, events and leases.
// The memory adapter is the embedded default; the Redis adapter is the system of record.
// Every adapter passes the same contract suite (test/contracts/state-store.contract.ts).
import type { RunState, TaskError, TaskState } from '../dag/model.js';

/** How a run came to be. Scheduled runs have deterministic ids (DAG id + logical date). */
export type RunKind = 'scheduled' | 'manual' | 'event' | 'dataset' | 'backfill' | 'test';

/** One DAG run as stored. */
export interface DagRunRecord {
  runId: string;
  dagId: string;
  kind: RunKind;
  state: RunState;
  logicalDateMs: number;
  dataIntervalStartMs?: number;
  dataIntervalEndMs?: number;
  conf: Record<string, unknown>;
  createdMs: number;
  startMs?: number;
  endMs?: number;
  reason?: string;
}

/** One task instance as stored. */
export interface TaskInstanceRecord {
  runId: string;
  taskId: string;
  mapIndex: number;
  state: TaskState;
  tryNumber: number;
  reason?: string;
  queuedMs?: number;
  startMs?: number;
  endMs?: number;
  nextTryAtMs?: number;
  error?: TaskError;
  worker?: string;
  /** Tries made before the instance was last cleared; its retries count from there (absent: never cleared). */
  triesBeforeClear?: number;
}

/** A try's error, without its stack and with its message cut to `TASK_TRY_TEXT_MAX_CHARS` (500). */
export interface TaskTryError {
  message: string;
  name?: string;
  code?: string;
}

/** One try of a task instance: how it ended (or, for the current try, how it stands). */
export interface TaskTryRecord {
  tryNumber: number;
  state: TaskState;
  queuedMs?: number;
  startMs?: number;
  endMs?: number;
  /** endMs − startMs, when the try has both. */
  durationMs?: number;
  worker?: string;
  error?: TaskTryError;
  reason?: string;
}

/**
 * What a grid shows of one task instance: its state and try, without the rest of the record. The store
 * keeps these beside the instances, written in the same atomic step, so they never disagree.
 */
export interface TaskInstanceCell {
  taskId: string;
  mapIndex: number;
  state: TaskState;
  tryNumber: number;
}

/** A change to one instance, applied only if its current state is `expectState` (when given). */
export interface InstanceWrite {
  record: TaskInstanceRecord;
  /** Compare-and-set guard; `'absent'` means the instance must not exist yet. */
  expectState?: TaskState | 'absent';
}

/** An event a transition appends to a stream, in the same atomic step as its writes. */
export interface TransitionEvent {
  stream: string;
  type: string;
  payload: unknown;
  atMs: number;
}

/** One atomic step: all of it is applied, or (when a guard fails) none of it. */
export interface Transition {
  instances?: InstanceWrite[];
  outputs?: Array<{ taskId: string; mapIndex: number; value: unknown }>;
  run?: { patch: Partial<Omit<DagRunRecord, 'runId' | 'dagId'>>; expectState?: RunState };
  /** Appended in order, only when the transition applies (a dataset update and the success that made it). */
  events?: TransitionEvent[];
}

/** Which ended runs `pruneRuns` removes: terminal runs older than `endedBeforeMs`, oldest first. */
export interface PruneRunsQuery {
  /** A run goes when both its logical date and its end (its creation when it has none) are before this. */
  endedBeforeMs: number;
  dagId?: string;
  /** At most this many runs per call (the batch a background pass may block the store for). */
  limit: number;
  /** List what would go without removing anything. */
  dryRun?: boolean;
}

/** A run `pruneRuns` removed (or, in a dry run, would remove). */
export interface PrunedRun {
  runId: string;
  dagId: string;
  state: RunState;
  logicalDateMs: number;
  endMs?: number;
}

/** An appended event (stream entries are ordered by id). */
/** A lease held now: its owner, when it last took or renewed it, and when it lapses. */
export interface LeaseInfo {
  owner: string;
  /** The `nowMs` of the owner's last acquire (its heartbeat, for a scheduler's lease). */
  renewedMs: number;
  expiresMs: number;
}

export interface StoredEvent {
  id: string;
  type: string;
  payload: unknown;
  atMs: number;
}

/**
 * A compact notice of one applied change, for live views: a run created, or a transition that wrote a
 * run's state and/or instances. Redis publishes it on `batuta:<ns>:changes` in the same script as the
 * change; the memory store emits it after the change.
 */
export interface StoreChange {
  runId: string;
  dagId: string;
  /** Set when the change created the run. */
  created?: true;
  /** The run's state, when the change created the run or wrote its state. */
  runState?: RunState;
  /** The instances the change wrote, with their new state. */
  tasks?: TaskInstanceCell[];
}

/** Receives store changes; it must not throw (what it throws is ignored). */
export type StoreChangeListener = (change: StoreChange) => void;

/** Query for listing runs; results are newest logical date first. */
export interface RunQuery {
  dagId?: string;
  states?: RunState[];
  limit?: number;
  /**
   * A page's end: list only the runs that come after this one in the listing order (an older logical
   * date, or the same date and a greater run id). The run itself need not exist any more, so a page
   * boundary survives a prune or a state change.
   */
  before?: RunCursor;
}

/** Where a page of `listRuns` ended: the last run's logical date and id. */
export interface RunCursor {
  logicalDateMs: number;
  runId: string;
}

/** The port. Values (conf, outputs, payloads) must be JSON-serializable; reads return copies. */
export interface StateStore {
  /** Creates the run if no run has this id; idempotent (a second call returns the existing run, created=false). */
  createRun(run: DagRunRecord): Promise<{ created: boolean; run: DagRunRecord }>;
  /**
   * createRun for each run, in as few round trips as the store can (a scheduler's fire creates hundreds at
   * once); results in the order of `runs`, each as createRun would give it (an id given twice: created
   * once). When the call rejects (a run that cannot be stored, the store failing), some runs may exist;
   * calling again is safe, creation being idempotent.
   */
  createRuns(runs: readonly DagRunRecord[]): Promise<Array<{ created: boolean; run: DagRunRecord }>>;
  getRun(runId: string): Promise<DagRunRecord | undefined>;
  listRuns(query?: RunQuery): Promise<DagRunRecord[]>;
  /** Applies a transition atomically; returns false (and changes nothing) if any guard fails or the run is unknown. */
  applyTransition(runId: string, transition: Transition): Promise<boolean>;
  getTaskInstances(runId: string): Promise<TaskInstanceRecord[]>;
  getTaskInstance(runId: string, taskId: string, mapIndex: number): Promise<TaskInstanceRecord | undefined>;
  /**
   * Every try of an instance, oldest first, the current one included (ADR 019). A try's entry is written
   * by the transition that ends it, in the same atomic step; a clear keeps the entries (tries keep
   * counting), pruneRuns removes them with the run. At most the newest TASK_TRY_HISTORY_LIMIT ended tries
   * are kept. Empty for an unknown instance.
   */
  getTaskTries(runId: string, taskId: string, mapIndex: number): Promise<TaskTryRecord[]>;
  /**
   * The cells (state and try of every task instance) of each run, in the order of `runIds`, each run's
   * cells in no particular order; an unknown run has none. As current as `getTaskInstances` (the same
   * atomic writes keep both), and cheaper to read: it is what a grid of many runs reads.
   */
  getRunCells(runIds: readonly string[]): Promise<TaskInstanceCell[][]>;
  /** Outputs keyed by `outputKey(taskId, mapIndex)`; missing keys are absent from the map. */
  getOutputs(runId: string, keys: Array<{ taskId: string; mapIndex: number }>): Promise<Map<string, unknown>>;
  /**
   * Removes up to `limit` terminal runs (success, failed) matching the query, oldest logical date first:
   * each with its instances, try history, outputs, index entries and run lease (`runLeaseName`), all or nothing per run.
   * Runs still queued or running are never removed.
   */
  pruneRuns(query: PruneRunsQuery): Promise<PrunedRun[]>;
  /** Appends to a named stream; ids increase within a stream. */
  appendEvent(stream: string, type: string, payload: unknown, atMs: number): Promise<string>;
  /** Events after `afterId` (exclusive; all when omitted), oldest first, at most `limit`. */
  readEvents(stream: string, afterId?: string, limit?: number): Promise<StoredEvent[]>;
  /** Removes the events of a stream up to `throughId` (inclusive), oldest first; returns how many went. */
  trimEvents(stream: string, throughId: string): Promise<number>;
  /** A persisted read position (e.g. how far a stream was turned into runs), if one was stored. */
  getCursor(name: string): Promise<string | undefined>;
  /** Moves a persisted read position forward to `eventId`; never back (an older id changes nothing). */
  advanceCursor(name: string, eventId: string): Promise<void>;
  /** Takes (or renews, for the same owner) a named lease until nowMs + ttlMs; false if another owner holds it. */
  acquireLease(name: string, owner: string, ttlMs: number, nowMs: number): Promise<boolean>;
  /** Releases a lease held by `owner`; false if it does not hold it. */
  releaseLease(name: string, owner: string): Promise<boolean>;
  /** The current holder of a lease at `nowMs`, if any. */
  getLeaseOwner(name: string, nowMs: number): Promise<string | undefined>;
  /** The lease held at `nowMs` with its times (how long ago its owner renewed it), if any. */
  getLease(name: string, nowMs: number): Promise<LeaseInfo | undefined>;
  /** Per-DAG flags (paused…), persisted. */
  setDagPaused(dagId: string, paused: boolean): Promise<void>;
  isDagPaused(dagId: string): Promise<boolean>;
  /**
   * Records DAGs as seen (a scheduler calls it for every DAG it loads). A DAG new to the store is stored
   * paused when its `pausedOnCreation` is set, unless it already has runs; a known DAG, or one paused or
   * unpaused explicitly before (setDagPaused marks it known), is left alone. Returns the ids that were new.
   */
  registerDags(dags: ReadonlyArray<{ dagId: string; pausedOnCreation: boolean }>): Promise<string[]>;
  /**
   * Calls `listener` with every change applied from now on, by this process or (Redis) any other; resolves
   * once listening. Resolves to a function that stops listening. Notices are best effort (not replayed
   * after a disconnection): a live view reads the state back when it (re)connects.
   */
  watchChanges(listener: StoreChangeListener): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** The lease that says which scheduler drives a run; `pruneRuns` removes it with the run. */
export function runLeaseName(runId: string): string {
  return `run:${runId}`;
}

/** The key of an output in `getOutputs` results. */
export function outputKey(taskId: string, mapIndex: number): string {
  return `${taskId}#${mapIndex}`;
}

/** The notice for a transition that wrote something a live view shows; undefined when it wrote nothing such. */
export function changeOfTransition(runId: string, dagId: string, transition: Transition): StoreChange | undefined {
  const runState = transition.run?.patch.state;
  const tasks = (transition.instances ?? []).map(({ record }) => ({
    taskId: record.taskId,
    mapIndex: record.mapIndex,
    state: record.state,
    tryNumber: record.tryNumber,
  }));
  if (runState === undefined && tasks.length === 0) return undefined;
  return {
    runId,
    dagId,
    ...(runState === undefined ? {} : { runState }),
    ...(tasks.length === 0 ? {} : { tasks }),
  };
}
