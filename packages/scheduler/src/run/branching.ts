// Reading a branch task's output: which direct downstreams it chose.
import type { TaskError } from '../dag/model.js';
import { taskError } from '../task-error.js';
import type { ExecutionPlan } from './plan.js';

/** The chosen direct downstreams (task indexes), or the error that fails the branch task. */
export type BranchChoice = { chosen: number[]; label: string } | { error: TaskError };

/** Parses a branch output (an id, a list of ids, or null/undefined) against the branch's direct downstreams. */
export function parseBranchChoice(plan: ExecutionPlan, branch: number, output: unknown): BranchChoice {
  const branchId = plan.tasks[branch]!.id;
  let ids: unknown[];
  if (output === null || output === undefined) ids = [];
  else if (typeof output === 'string') ids = [output];
  else if (Array.isArray(output)) ids = output;
  else {
    return {
      error: taskError(
        `branch task '${branchId}' returned ${describeValue(output)}; a branch returns a task id, a list of ids, or null`,
        { code: 'BRANCH_INVALID_OUTPUT', retryable: false },
      ),
    };
  }
  const chosen: number[] = [];
  const unknown: string[] = [];
  for (const id of ids) {
    const index = typeof id === 'string' ? plan.taskIndex.get(id) : undefined;
    if (index === undefined || !isDirectDownstream(plan, branch, index)) unknown.push(String(id));
    else if (!chosen.includes(index)) chosen.push(index);
  }
  if (unknown.length > 0) {
    const direct = directDownstreamIds(plan, branch);
    return {
      error: taskError(
        `branch task '${branchId}' chose ${unknown.map((id) => `'${id}'`).join(', ')}, which ` +
          `${unknown.length === 1 ? 'is not a direct downstream' : 'are not direct downstreams'}; ` +
          `choose among ${direct.length > 0 ? direct.map((id) => `'${id}'`).join(', ') : '(none)'}`,
        { code: 'BRANCH_UNKNOWN_TASK', retryable: false },
      ),
    };
  }
  const label = chosen.length === 0 ? 'nothing' : chosen.map((i) => `'${plan.tasks[i]!.id}'`).join(', ');
  return { chosen, label };
}

/** Whether `upstream` → `downstream` is an edge. O(in-degree of downstream). */
export function isDirectUpstream(plan: ExecutionPlan, upstream: number, downstream: number): boolean {
  for (let e = plan.upstreamStart[downstream]!; e < plan.upstreamStart[downstream + 1]!; e++) {
    if (plan.upstream[e] === upstream) return true;
  }
  return false;
}

function isDirectDownstream(plan: ExecutionPlan, task: number, candidate: number): boolean {
  return isDirectUpstream(plan, task, candidate);
}

function directDownstreamIds(plan: ExecutionPlan, task: number): string[] {
  const ids: string[] = [];
  for (let e = plan.downstreamStart[task]!; e < plan.downstreamStart[task + 1]!; e++) {
    ids.push(plan.tasks[plan.downstream[e]!]!.id);
  }
  return ids;
}

/** A short description of a value for error messages: its type, and small scalars themselves. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `the ${typeof value} ${String(value)}`;
    case 'undefined':
      return 'nothing (undefined)';
    default:
      return `a value of type ${typeof value}`;
  }
}
