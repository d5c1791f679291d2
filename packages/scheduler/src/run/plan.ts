// Compiles a DagSpec once into integer-indexed arrays (CSR adjacency) so the engine's per-event
// work touches only the edges of the task that changed.
import type { DagSpec, TaskSpec } from '../dag/model.js';
import { BatutaError } from '../errors.js';

/** A DAG compiled for the run engine: tasks by index, edges as CSR arrays. Read-only; share it between runs. */
export interface ExecutionPlan {
  readonly dag: DagSpec;
  readonly taskCount: number;
  /** Tasks in declaration order; a task's index is its position here. */
  readonly tasks: readonly TaskSpec[];
  readonly taskIndex: ReadonlyMap<string, number>;
  /** Downstreams of task i: `downstream[downstreamStart[i] .. downstreamStart[i+1])`, in declaration order. */
  readonly downstreamStart: Int32Array;
  readonly downstream: Int32Array;
  /** Upstreams of task i: `upstream[upstreamStart[i] .. upstreamStart[i+1])`, in the task's `upstream` order (duplicates dropped). */
  readonly upstreamStart: Int32Array;
  readonly upstream: Int32Array;
  /** Number of distinct direct upstreams per task. */
  readonly upstreamTotal: Int32Array;
  /** Tasks without upstream / without downstream, in declaration order. */
  readonly roots: Int32Array;
  readonly leaves: Int32Array;
  /** A topological order (ties in declaration order) and each task's position in it. */
  readonly topologicalOrder: Int32Array;
  readonly topologicalRank: Int32Array;
  /** 1 when some mapped task reads this task's output (`map.over.*.fromTask`), so the engine keeps it. */
  readonly isMapSource: Uint8Array;
}

/** Builds the plan in O(V+E); throws DUPLICATE_TASK_ID, UNKNOWN_UPSTREAM or DAG_CYCLE instead of hanging. */
export function compilePlan(dag: DagSpec): ExecutionPlan {
  const tasks = dag.tasks;
  const taskCount = tasks.length;
  const taskIndex = new Map<string, number>();
  for (let i = 0; i < taskCount; i++) {
    const id = tasks[i]!.id;
    if (taskIndex.has(id)) {
      throw new BatutaError(
        'DUPLICATE_TASK_ID',
        `DAG '${dag.id}': task id '${id}' is declared twice (positions ${taskIndex.get(id)! + 1} and ${i + 1}); rename one`,
        { field: `tasks[${i}].id` },
      );
    }
    taskIndex.set(id, i);
  }

  // Upstream CSR, resolving ids and dropping repeats (a stamp array avoids a Set per task).
  const upstreamStart = new Int32Array(taskCount + 1);
  const upstreamList: number[] = [];
  const seenBy = new Int32Array(taskCount).fill(-1);
  for (let i = 0; i < taskCount; i++) {
    upstreamStart[i] = upstreamList.length;
    const task = tasks[i]!;
    for (let k = 0; k < task.upstream.length; k++) {
      const upstreamId = task.upstream[k]!;
      const u = taskIndex.get(upstreamId);
      if (u === undefined) {
        throw new BatutaError(
          'UNKNOWN_UPSTREAM',
          `DAG '${dag.id}': task '${task.id}' lists upstream '${upstreamId}', which is not a task of this DAG`,
          { field: `tasks.${task.id}.upstream[${k}]` },
        );
      }
      if (u === i) throw cycleError(dag, [i, i]);
      if (seenBy[u] === i) continue;
      seenBy[u] = i;
      upstreamList.push(u);
    }
  }
  upstreamStart[taskCount] = upstreamList.length;
  const upstream = Int32Array.from(upstreamList);
  const edgeCount = upstream.length;

  const upstreamTotal = new Int32Array(taskCount);
  const outDegree = new Int32Array(taskCount);
  for (let i = 0; i < taskCount; i++) {
    upstreamTotal[i] = upstreamStart[i + 1]! - upstreamStart[i]!;
    for (let e = upstreamStart[i]!; e < upstreamStart[i + 1]!; e++) outDegree[upstream[e]!]!++;
  }

  // Downstream CSR by counting sort; filling in task order keeps each list in declaration order.
  const downstreamStart = new Int32Array(taskCount + 1);
  for (let i = 0; i < taskCount; i++) downstreamStart[i + 1] = downstreamStart[i]! + outDegree[i]!;
  const downstream = new Int32Array(edgeCount);
  const fill = downstreamStart.slice(0, taskCount);
  for (let i = 0; i < taskCount; i++) {
    for (let e = upstreamStart[i]!; e < upstreamStart[i + 1]!; e++) downstream[fill[upstream[e]!]!++] = i;
  }

  const roots: number[] = [];
  const leaves: number[] = [];
  for (let i = 0; i < taskCount; i++) {
    if (upstreamTotal[i] === 0) roots.push(i);
    if (outDegree[i] === 0) leaves.push(i);
  }

  // Kahn's algorithm; whatever is left unprocessed sits on or behind a cycle.
  const topologicalOrder = new Int32Array(taskCount);
  const remaining = upstreamTotal.slice();
  let head = 0;
  let tail = 0;
  for (const r of roots) topologicalOrder[tail++] = r;
  while (head < tail) {
    const t = topologicalOrder[head++]!;
    for (let e = downstreamStart[t]!; e < downstreamStart[t + 1]!; e++) {
      const d = downstream[e]!;
      if (--remaining[d]! === 0) topologicalOrder[tail++] = d;
    }
  }
  if (tail < taskCount) throw cycleError(dag, findCycle(remaining, upstreamStart, upstream));
  const topologicalRank = new Int32Array(taskCount);
  for (let r = 0; r < taskCount; r++) topologicalRank[topologicalOrder[r]!] = r;

  const isMapSource = new Uint8Array(taskCount);
  for (const task of tasks) {
    if (!task.map) continue;
    for (const source of Object.values(task.map.over)) {
      if ('fromTask' in source) {
        const s = taskIndex.get(source.fromTask);
        if (s !== undefined) isMapSource[s] = 1;
      }
    }
  }

  return {
    dag,
    taskCount,
    tasks,
    taskIndex,
    downstreamStart,
    downstream,
    upstreamStart,
    upstream,
    upstreamTotal,
    roots: Int32Array.from(roots),
    leaves: Int32Array.from(leaves),
    topologicalOrder,
    topologicalRank,
    isMapSource,
  };
}

/** Walks upstream edges among unprocessed tasks until one repeats; returns the cycle, first task repeated last. */
function findCycle(remaining: Int32Array, upstreamStart: Int32Array, upstream: Int32Array): number[] {
  let start = 0;
  while (remaining[start] === 0) start++;
  const stepOf = new Map<number, number>();
  const walk: number[] = [];
  let t = start;
  while (!stepOf.has(t)) {
    stepOf.set(t, walk.length);
    walk.push(t);
    let next = -1;
    for (let e = upstreamStart[t]!; e < upstreamStart[t + 1]!; e++) {
      if (remaining[upstream[e]!]! > 0) {
        next = upstream[e]!;
        break;
      }
    }
    t = next;
  }
  // The walk went upstream; reverse it so the message reads in the direction edges point.
  const loop = walk.slice(stepOf.get(t)!).reverse();
  // Start at the task declared first, so the message does not depend on where the walk began.
  let first = 0;
  for (let k = 1; k < loop.length; k++) if (loop[k]! < loop[first]!) first = k;
  const cycle = [...loop.slice(first), ...loop.slice(0, first)];
  cycle.push(cycle[0]!);
  return cycle;
}

function cycleError(dag: DagSpec, cycle: number[]): BatutaError {
  const path = cycle.map((i) => `'${dag.tasks[i]!.id}'`).join(' → ');
  return new BatutaError('DAG_CYCLE', `DAG '${dag.id}' has a cycle: ${path}; remove one of these upstream links`, {
    field: `tasks.${dag.tasks[cycle[0]!]!.id}.upstream`,
  });
}
