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
  | (RepairSelection & { action: 'mark'; state: MarkState });

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
  for (const t of chosen) {
    const task = plan.tasks[t]!;
    const own = byTask.get(task.id) ?? [];
    const parent = own.find((i) => i.mapIndex === -1);
    const mapped = own.filter((i) => i.mapIndex >= 0).sort((a, b) => a.mapIndex - b.mapIndex);
    if (request.action === 'clear') clearTask(changes, request, task.id, parent, mapped, task.map !== undefined);
    else markTask(changes, request.state, task.id, parent, mapped);
  }
  const names = request.taskIds.map((id) => `'${id}'`).join(', ');
  const scope = `${request.downstream ? ' with downstream' : ''}${request.upstream ? ' with upstream' : ''}`;
  const runReason =
    request.action === 'clear'
      ? `running again: ${names}${scope} cleared by user (${changes.length} instances)`
      : `re-evaluated: ${names}${scope} marked ${request.state} by user (${changes.length} instances)`;
  return { request, taskIds: chosen.map((t) => plan.tasks[t]!.id), changes, runReason };
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
