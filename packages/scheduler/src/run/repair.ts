// Repairing a run the Airflow way, decided here and applied by the runner: which task instances a
// clear or a mark touches, and what each becomes. Pure: the instances as stored go in, a plan comes
// out. Clear (airflow tasks clear): each chosen instance goes back to no state, keeping its try
// number, so its rerun is the next try with its full retries again (max_tries = try_number + retries);
// a mapped task cleared whole re-expands. Mark (airflow tasks mark / set_state): the chosen instances
// get the state, nothing runs; downstreams left out are re-evaluated by their trigger rules.
import type { TaskState } from '../dag/model.js';
import { BatutaError } from '../errors.js';
import type { ExecutionPlan } from './plan.js';

/** The states `mark` may set (Airflow's mark success / failed / skipped). */
export type MarkState = 'success' | 'failed' | 'skipped';

/** Which tasks a repair chooses: the named ones, plus every task below and/or above them when asked. */
export interface RepairSelection {
  taskIds: readonly string[];
  /** Every task downstream of the named ones, recursively (Airflow's --downstream). */
  downstream?: boolean;
  /** Every task upstream of the named ones, recursively (Airflow's --upstream). */
  upstream?: boolean;
}

/** A clear or a mark of some tasks of one run. */
export type RepairRequest =
  | (RepairSelection & {
      action: 'clear';
      /** Only instances that failed or are upstream_failed (Airflow's --only-failed). */
      onlyFailed?: boolean;
      /** Only instances whose attempt is out: scheduled, queued or running (Airflow's --only-running). */
      onlyRunning?: boolean;
    })
  | (RepairSelection & {
      action: 'mark';
      state: MarkState;
      /**
       * Only these instances of the named mapped tasks (Airflow's mark of chosen map indexes); tasks added by
       * downstream/upstream are marked whole.
       */
      mapIndexes?: readonly number[];
    });

/** An instance as a repair reads it (a stored TaskInstanceRecord fits). */
export interface RepairInstance {
  taskId: string;
  mapIndex: number;
  state: TaskState;
  tryNumber: number;
}

/** What one instance becomes. */
export interface RepairChange {
  taskId: string;
  /** -1 for an unmapped task and for a mapped task's parent. */
  mapIndex: number;
  from: TaskState;
  to: TaskState;
  /** Kept as it was: tries keep counting. */
  tryNumber: number;
  /** Set by a clear: the tries made so far, from which the instance's retries count again. */
  triesBeforeClear?: number;
  /** True when the instance's attempt is out with an executor and must be stopped first. */
  stopAttempt: boolean;
  reason: string;
}

/** Everything a repair changes in a run; applied as one store transition by the run's driver. */
export interface RepairPlan {
  request: RepairRequest;
  /** The tasks chosen (named + downstream/upstream), in DAG declaration order. */
  taskIds: string[];
  /** The instance changes, in DAG order, a mapped task's parent before its instances. Empty: nothing to do. */
  changes: RepairChange[];
  /** Why the run is running again, for its record. */
  runReason: string;
  /** The aggregate outputs a mark success of whole mapped tasks writes (ADR 005), in DAG order. */
  aggregates: RepairAggregate[];
}

/**
 * The aggregate output of a mapped task marked success whole: one entry per instance that is success
 * after the mark, in mapIndex order. An instance that already succeeded keeps its stored output; one the
 * mark made success produced nothing and gives null (as an instance that returned nothing does), so the
 * list stays aligned with the map indexes. A task that never expanded gets an empty list.
 */
export interface RepairAggregate {
  taskId: string;
  entries: Array<{ mapIndex: number; kept: boolean }>;
}

const ACTIVE: ReadonlySet<TaskState> = new Set<TaskState>(['scheduled', 'queued', 'running']);
const FAILED_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['failed', 'upstream_failed']);

/** The tasks a selection chooses, as plan indexes in declaration order; UNKNOWN_TASK for an id the DAG lacks. */
export function selectRepairTasks(plan: ExecutionPlan, selection: RepairSelection): number[] {
  const chosen = new Uint8Array(plan.taskCount);
  const unknown = selection.taskIds.filter((id) => !plan.taskIndex.has(id));
  if (unknown.length > 0) {
    const known = plan.tasks.map((task) => task.id).join(', ') || 'none';
    throw new BatutaError(
      'UNKNOWN_TASK',
      `DAG '${plan.dag.id}' has no task ${unknown.map((id) => `'${id}'`).join(', ')} (its tasks: ${known})`,
    );
  }
  if (selection.taskIds.length === 0) {
    throw new BatutaError('UNKNOWN_TASK', `name at least one task of DAG '${plan.dag.id}' to repair`);
  }
  const named = selection.taskIds.map((id) => plan.taskIndex.get(id)!);
  for (const t of named) chosen[t] = 1;
  if (selection.downstream) walk(named, plan.downstreamStart, plan.downstream, chosen);
  if (selection.upstream) walk(named, plan.upstreamStart, plan.upstream, chosen);
  const list: number[] = [];
  for (let t = 0; t < plan.taskCount; t++) if (chosen[t] === 1) list.push(t);
  return list;
}

function walk(from: readonly number[], start: Int32Array, edges: Int32Array, chosen: Uint8Array): void {
  const pending = from.slice();
  while (pending.length > 0) {
    const t = pending.pop()!;
    for (let e = start[t]!; e < start[t + 1]!; e++) {
      const next = edges[e]!;
      if (chosen[next] === 1) continue;
      chosen[next] = 1;
      pending.push(next);
    }
  }
}

/** Plans a clear or mark of one run from its stored instances (instances of tasks the DAG lost are left alone). */
export function planRepair(
  plan: ExecutionPlan,
  instances: readonly RepairInstance[],
  request: RepairRequest,
): RepairPlan {
  const chosen = selectRepairTasks(plan, request);
  const byTask = new Map<string, RepairInstance[]>();
  for (const instance of instances) {
    const list = byTask.get(instance.taskId) ?? [];
    list.push(instance);
    byTask.set(instance.taskId, list);
  }
  const changes: RepairChange[] = [];
  const aggregates: RepairAggregate[] = [];
  const mapIndexes = request.action === 'mark' ? request.mapIndexes : undefined;
  const named = new Set(request.taskIds);
  for (const t of chosen) {
    const task = plan.tasks[t]!;
    const own = byTask.get(task.id) ?? [];
    const parent = own.find((i) => i.mapIndex === -1);
    const mapped = own.filter((i) => i.mapIndex >= 0).sort((a, b) => a.mapIndex - b.mapIndex);
    if (request.action === 'clear') clearTask(changes, request, task.id, parent, mapped, task.map !== undefined);
    else if (mapIndexes !== undefined && named.has(task.id)) {
      markInstances(changes, request.state, plan.dag.id, task.id, task.map !== undefined, parent, mapped, mapIndexes);
    } else {
      const before = changes.length;
      markTask(changes, request.state, task.id, parent, mapped);
      if (task.map && request.state === 'success' && changes.length > before) {
        aggregates.push(aggregateOfMark(task.id, mapped));
      }
    }
  }
  const names = request.taskIds.map((id) => `'${id}'`).join(', ');
  const indexes = mapIndexes === undefined ? '' : ` map index ${mapIndexes.join(',')}`;
  const scope = `${request.downstream ? ' with downstream' : ''}${request.upstream ? ' with upstream' : ''}`;
  const runReason =
    request.action === 'clear'
      ? `running again: ${names}${scope} cleared by user (${changes.length} instances)`
      : `re-evaluated: ${names}${indexes}${scope} marked ${request.state} by user (${changes.length} instances)`;
  return { request, taskIds: chosen.map((t) => plan.tasks[t]!.id), changes, runReason, aggregates };
}

/** The aggregate a whole mapped task's mark success writes: every instance not removed is success after it. */
function aggregateOfMark(taskId: string, mapped: readonly RepairInstance[]): RepairAggregate {
  const entries = mapped
    .filter((instance) => instance.state !== 'removed')
    .map((instance) => ({ mapIndex: instance.mapIndex, kept: instance.state === 'success' }));
  return { taskId, entries };
}

function clearReason(instance: RepairInstance): string {
  const tries = instance.tryNumber === 1 ? '1 try' : `${instance.tryNumber} tries`;
  return `cleared by user after ${tries} (was ${instance.state}); it runs again with its full retries`;
}

function clearsState(request: Extract<RepairRequest, { action: 'clear' }>, state: TaskState): boolean {
  if (state === 'none' || state === 'removed') return false;
  if (request.onlyFailed && !FAILED_STATES.has(state)) return false;
  if (request.onlyRunning && !ACTIVE.has(state)) return false;
  return true;
}

function cleared(instance: RepairInstance): RepairChange {
  return {
    taskId: instance.taskId,
    mapIndex: instance.mapIndex,
    from: instance.state,
    to: 'none',
    tryNumber: instance.tryNumber,
    triesBeforeClear: instance.tryNumber,
    stopAttempt: ACTIVE.has(instance.state),
    reason: clearReason(instance),
  };
}

function clearTask(
  changes: RepairChange[],
  request: Extract<RepairRequest, { action: 'clear' }>,
  taskId: string,
  parent: RepairInstance | undefined,
  mapped: readonly RepairInstance[],
  isMapped: boolean,
): void {
  if (!isMapped) {
    if (parent && clearsState(request, parent.state)) changes.push(cleared(parent));
    return;
  }
  // A mapped task's parent is stored only once it ends; while its instances run it has no record.
  const parentState: TaskState = parent?.state ?? (mapped.length > 0 ? 'running' : 'none');
  const picked = mapped.filter((instance) => clearsState(request, instance.state));
  const filtered = request.onlyFailed || request.onlyRunning;
  if (!filtered || (mapped.length > 0 && picked.length === mapped.length)) {
    // Cleared whole: the parent goes back to none and the task expands again (Airflow re-expands it).
    if (parentState === 'none' && mapped.length === 0) return;
    if (filtered && mapped.length === 0 && !clearsState(request, parentState)) return;
    changes.push({
      taskId,
      mapIndex: -1,
      from: parentState,
      to: 'none',
      tryNumber: 0,
      stopAttempt: false,
      reason: `cleared by user (was ${parentState}); it expands again when its upstreams allow`,
    });
    for (const instance of mapped) changes.push(cleared(instance));
    return;
  }
  if (picked.length === 0) {
    // Nothing of its instances matches; a parent that failed before expanding (a bad map source) may.
    if (mapped.length === 0 && clearsState(request, parentState)) {
      changes.push({
        taskId,
        mapIndex: -1,
        from: parentState,
        to: 'none',
        tryNumber: 0,
        stopAttempt: false,
        reason: `cleared by user (was ${parentState}); it expands again when its upstreams allow`,
      });
    }
    return;
  }
  // Some instances only: the expansion stays, the parent is open again until they end.
  changes.push({
    taskId,
    mapIndex: -1,
    from: parentState,
    to: 'running',
    tryNumber: 0,
    stopAttempt: false,
    reason: `running again: ${picked.length} of ${mapped.length} mapped instances cleared by user`,
  });
  for (const instance of picked) changes.push(cleared(instance));
}

function markTask(
  changes: RepairChange[],
  state: MarkState,
  taskId: string,
  parent: RepairInstance | undefined,
  mapped: readonly RepairInstance[],
): void {
  const reason = `marked ${state} by user`;
  const mark = (instance: RepairInstance): void => {
    if (instance.state === state) return;
    changes.push({
      taskId: instance.taskId,
      mapIndex: instance.mapIndex,
      from: instance.state,
      to: state,
      tryNumber: instance.tryNumber,
      stopAttempt: ACTIVE.has(instance.state),
      reason,
    });
  };
  mark(parent ?? { taskId, mapIndex: -1, state: mapped.length > 0 ? 'running' : 'none', tryNumber: 0 });
  for (const instance of mapped) if (instance.state !== 'removed') mark(instance);
}

/**
 * Marks chosen instances of a mapped task. A parent that had ended is opened again (running), so the run's
 * engine aggregates it anew from its instances once they are all terminal: its state and, for success,
 * its aggregate output, as when the instances end on their own.
 */
function markInstances(
  changes: RepairChange[],
  state: MarkState,
  dagId: string,
  taskId: string,
  isMapped: boolean,
  parent: RepairInstance | undefined,
  mapped: readonly RepairInstance[],
  mapIndexes: readonly number[],
): void {
  if (!isMapped) {
    throw new BatutaError(
      'UNKNOWN_MAP_INDEX',
      `'${taskId}' of DAG '${dagId}' is not a mapped task; mark it without a map index`,
    );
  }
  // A parent cleared whole (none) has not expanded again: its old instances are not instances yet.
  const live = parent?.state === 'none' ? [] : mapped.filter((i) => i.state !== 'removed');
  const byIndex = new Map(live.map((i) => [i.mapIndex, i]));
  const missing = mapIndexes.filter((index) => !byIndex.has(index));
  if (missing.length > 0) {
    const has =
      byIndex.size === 0
        ? `it has no mapped instances (it is ${parent?.state ?? 'none'}, not expanded)`
        : `its map indexes are ${describeIndexes([...byIndex.keys()])}`;
    throw new BatutaError('UNKNOWN_MAP_INDEX', `'${taskId}' has no map index ${missing.join(', ')}; ${has}`);
  }
  const picked = [...new Set(mapIndexes)].sort((a, b) => a - b).map((index) => byIndex.get(index)!);
  const marked = picked.filter((instance) => instance.state !== state);
  if (marked.length === 0) return;
  if (parent && parent.state !== 'running') {
    changes.push({
      taskId,
      mapIndex: -1,
      from: parent.state,
      to: 'running',
      tryNumber: 0,
      stopAttempt: false,
      reason: `re-evaluated: ${marked.length} of ${byIndex.size} mapped instances marked ${state} by user`,
    });
  }
  for (const instance of marked) {
    changes.push({
      taskId,
      mapIndex: instance.mapIndex,
      from: instance.state,
      to: state,
      tryNumber: instance.tryNumber,
      stopAttempt: ACTIVE.has(instance.state),
      reason: `marked ${state} by user`,
    });
  }
}

/** "0..4" for a run of indexes, else "0, 2, 5" (the first 20). */
function describeIndexes(indexes: readonly number[]): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  const first = sorted[0]!;
  const last = sorted.at(-1)!;
  if (last - first + 1 === sorted.length) return sorted.length === 1 ? `${first}` : `${first}..${last}`;
  const more = sorted.length > 20 ? `, … (${sorted.length} in all)` : '';
  return `${sorted.slice(0, 20).join(', ')}${more}`;
}
