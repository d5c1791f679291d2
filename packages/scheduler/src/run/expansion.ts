// Resolving a mapped task's lists once its trigger rule says run: what it maps over, how many
// instances that makes, or why it cannot expand. Decides only; the engine applies the result.
import type { MapSpec } from '../dag/model.js';
import { describeValue, isDirectUpstream } from './branching.js';
import type { InstanceTable } from './instance-table.js';
import { FAILED, isTerminal, SKIPPED, STATE_NAMES, SUCCESS, UPSTREAM_FAILED } from './states.js';

/** The outcome of trying to expand a mapped task. */
export type Expansion =
  /** A source has not finished: the task keeps waiting. */
  | { kind: 'hold'; reason: string }
  /** The task cannot expand: it fails at once (not retried, the same inputs fail the same way). */
  | { kind: 'fail'; code: string; message: string }
  /** A source failed or was skipped, or a list is empty: the task is marked. */
  | { kind: 'mark'; state: typeof SKIPPED | typeof UPSTREAM_FAILED; reason: string; count?: number }
  | { kind: 'expand'; names: string[]; lists: unknown[][]; count: number };

/** Resolves `map.over` of task `t`: each source in key order; the cross product's size. */
export function resolveExpansion(table: InstanceTable, t: number): Expansion {
  const { plan } = table;
  const task = plan.tasks[t]!;
  const spec = task.map!;
  const names = Object.keys(spec.over);
  // First, every fromTask must be an upstream and done (under `always`, say, it may still run).
  for (const name of names) {
    const source = spec.over[name]!;
    if (!('fromTask' in source)) continue;
    const s = plan.taskIndex.get(source.fromTask);
    if (s === undefined || !isDirectUpstream(plan, s, t)) {
      return {
        kind: 'fail',
        code: 'MAP_SOURCE_NOT_UPSTREAM',
        message: `'${task.id}' maps '${name}' over task '${source.fromTask}', which is not one of its upstreams; add it to upstream`,
      };
    }
    if (!isTerminal(table.states[s]!)) {
      return { kind: 'hold', reason: `waiting: map source '${source.fromTask}' is ${STATE_NAMES[table.states[s]!]}` };
    }
  }
  // Then a source that failed or was skipped marks the task: there is no list to map over.
  for (const name of names) {
    const source = spec.over[name]!;
    if (!('fromTask' in source)) continue;
    const sourceState = table.states[plan.taskIndex.get(source.fromTask)!]!;
    if (sourceState === FAILED || sourceState === UPSTREAM_FAILED) {
      return {
        kind: 'mark',
        state: UPSTREAM_FAILED,
        reason: `upstream_failed: map source '${source.fromTask}' is ${STATE_NAMES[sourceState]}`,
      };
    }
    if (sourceState !== SUCCESS) {
      return {
        kind: 'mark',
        state: SKIPPED,
        reason: `skipped: map source '${source.fromTask}' is ${STATE_NAMES[sourceState]}, so there is no list to map over`,
      };
    }
  }
  return expandOver(task.id, spec, (sourceTaskId) => table.sourceOutput(plan.taskIndex.get(sourceTaskId)!));
}

/**
 * Expands a mapped task over its sources' outputs (`outputOf` a source task: its output, a mapped
 * source's aggregate): the lists in `map.over` key order and the cross product's size; fails on a value
 * that is not a list or a product over `maxLength`; an empty list marks the task skipped. The engine calls
 * it once the sources succeeded; `batuta tasks test --map-index` with outputs read from a run.
 */
export function expandOver(
  taskId: string,
  spec: MapSpec,
  outputOf: (sourceTaskId: string) => unknown,
): Exclude<Expansion, { kind: 'hold' }> {
  const names = Object.keys(spec.over);
  const lists: unknown[][] = [];
  for (const name of names) {
    const source = spec.over[name]!;
    const value = 'values' in source ? source.values : outputOf(source.fromTask);
    if (!Array.isArray(value)) {
      const what =
        'values' in source
          ? 'literal values that are not a list'
          : `the output of '${source.fromTask}', which is ${describeValue(value)}, not a list`;
      return { kind: 'fail', code: 'MAP_SOURCE_NOT_LIST', message: `'${taskId}' maps '${name}' over ${what}` };
    }
    lists.push(value);
  }
  let count = 1;
  for (const list of lists) count *= list.length;
  if (count === 0) {
    const empty = names.filter((_, k) => lists[k]!.length === 0).map((name) => `'${name}'`);
    return {
      kind: 'mark',
      state: SKIPPED,
      reason: `skipped: mapped over an empty list (${empty.join(', ')} has no elements)`,
      count: 0,
    };
  }
  if (count > spec.maxLength) {
    const sizes = lists.length > 1 ? ` (${lists.map((list) => list.length).join(' × ')})` : '';
    return {
      kind: 'fail',
      code: 'MAP_TOO_LONG',
      message:
        `'${taskId}' would expand into ${count} instances${sizes}, over the cap of ${spec.maxLength} ` +
        '(map.maxLength); raise map.maxLength or shorten the list',
    };
  }
  return { kind: 'expand', names, lists, count };
}
