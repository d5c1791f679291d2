// Rebuilding an engine's instance table from persisted snapshots after a crash. Attempts that were
// out with an executor come back as 'scheduled' (resume() runs them again with the same try);
// counts of upstream states are recomputed from the terminal tasks and mapped instances.
import { BatutaError } from '../errors.js';
import type { InstanceTable } from './instance-table.js';
import { MappedGroup } from './mapped-group.js';
import { isAttemptActive, isTerminal, NONE, RUNNING, SCHEDULED, STATE_CODES, SUCCESS, UP_FOR_RETRY } from './states.js';
import type { InstanceSnapshot } from './types.js';

/** What resume() must redo beyond the table: branch/short-circuit skips, and expansions nobody persisted. */
export interface RestoreFollowUp {
  reapply: Array<{ t: number; output: unknown }>;
  reexpand: Set<number>;
}

/** Fills `table` from snapshots and outputs (keyed `${taskId}#${mapIndex}`). */
export function restoreTable(
  table: InstanceTable,
  runId: string,
  snapshots: readonly InstanceSnapshot[],
  outputs: ReadonlyMap<string, unknown>,
): RestoreFollowUp {
  const { tasks, taskIndex, taskCount, topologicalOrder, isMapSource } = table.plan;
  const followUp: RestoreFollowUp = { reapply: [], reexpand: new Set() };
  const mappedSnapshots = new Map<number, InstanceSnapshot[]>();
  const expanded = new Uint8Array(taskCount);
  // A mapped task cleared whole: its parent is stored as none (never the case while it is expanded).
  const clearedWhole = new Uint8Array(taskCount);
  for (const snapshot of snapshots) {
    const t = taskIndex.get(snapshot.taskId);
    if (t === undefined) continue; // the task left the DAG since; the store keeps its record
    const code = STATE_CODES[snapshot.state];
    if (code === undefined) {
      throw new BatutaError(
        'ENGINE_BAD_SNAPSHOT',
        `run '${runId}': the snapshot of '${snapshot.taskId}' has unknown state '${String(snapshot.state)}'`,
      );
    }
    const task = tasks[t]!;
    if (snapshot.mapIndex !== -1) {
      if (task.map && Number.isInteger(snapshot.mapIndex) && snapshot.mapIndex >= 0) {
        const list = mappedSnapshots.get(t) ?? [];
        list.push(snapshot);
        mappedSnapshots.set(t, list);
      }
      continue;
    }
    table.reasons[t] = snapshot.reason;
    if (snapshot.error) table.errors.set(t, snapshot.error);
    if (task.map) {
      // A mapped parent is never an attempt: non-terminal and not none means it had expanded.
      if (isTerminal(code)) table.states[t] = code;
      else if (code !== NONE) expanded[t] = 1;
      else clearedWhole[t] = 1;
      continue;
    }
    table.tryNumbers[t] = snapshot.tryNumber;
    table.triesBeforeClear[t] = snapshot.triesBeforeClear ?? 0;
    if (isAttemptActive(code)) {
      table.states[t] = SCHEDULED;
      table.tryNumbers[t] = Math.max(1, snapshot.tryNumber);
    } else if (code === UP_FOR_RETRY) {
      table.states[t] = UP_FOR_RETRY;
      table.tryNumbers[t] = Math.max(1, snapshot.tryNumber);
      table.nextTryAtMs[t] = snapshot.nextTryAtMs ?? Number.NaN;
    } else {
      table.states[t] = code;
    }
  }
  for (let t = 0; t < taskCount; t++) {
    if (isMapSource[t] && !tasks[t]!.map) {
      const key = `${tasks[t]!.id}#-1`;
      if (outputs.has(key)) table.outputs.set(t, outputs.get(key));
    }
  }
  // Mapped tasks in topological order, so a mapped source's outputs are back before its consumer.
  for (let r = 0; r < taskCount; r++) {
    const t = topologicalOrder[r]!;
    const own = mappedSnapshots.get(t);
    if (clearedWhole[t] === 1 && own !== undefined && own.every((snapshot) => snapshot.state === 'none')) {
      // Cleared whole: it expands again when ready, each former map index continuing its tries.
      let length = 0;
      for (const snapshot of own) length = Math.max(length, snapshot.mapIndex + 1);
      const tries = new Int32Array(length);
      for (const snapshot of own) tries[snapshot.mapIndex] = snapshot.tryNumber;
      table.clearedMapTries.set(t, tries);
      continue;
    }
    if (tasks[t]!.map && (expanded[t] === 1 || (own !== undefined && own.length > 0))) {
      restoreGroup(table, runId, t, own ?? [], outputs, followUp);
    }
  }
  // A mapped source marked success before it expanded has no instances: its aggregate is its stored output.
  for (let t = 0; t < taskCount; t++) {
    if (!isMapSource[t] || !tasks[t]!.map || table.groups.has(t)) continue;
    const key = `${tasks[t]!.id}#-1`;
    if (outputs.has(key)) table.outputs.set(t, outputs.get(key));
  }
  // The same counts the live engine keeps: an expanded mapped task counts per instance, others once.
  for (let t = 0; t < taskCount; t++) {
    const terminal = isTerminal(table.states[t]!);
    if (terminal) table.terminalCount++;
    const group = table.countsInstances(t) ? table.groups.get(t) : undefined;
    if (group) {
      table.addInstances(t, group.count);
      for (let i = 0; i < group.count; i++) {
        const code = group.states[i]!;
        if (isTerminal(code)) table.countInDownstreams(t, code);
      }
    } else if (terminal) table.countDownstream(t);
  }
  checkOutputs(table, runId, outputs, followUp);
  return followUp;
}

function restoreGroup(
  table: InstanceTable,
  runId: string,
  t: number,
  snapshots: InstanceSnapshot[],
  outputs: ReadonlyMap<string, unknown>,
  followUp: RestoreFollowUp,
): void {
  const task = table.plan.tasks[t]!;
  const spec = task.map!;
  const names = Object.keys(spec.over);
  // The items are rebuilt from the sources (the expansion is deterministic); without them only
  // the instance count is known, which is enough once every instance is terminal.
  let lists: unknown[][] | undefined = [];
  for (const name of names) {
    const source = spec.over[name]!;
    let list: unknown;
    if ('values' in source) list = source.values;
    else {
      const s = table.plan.taskIndex.get(source.fromTask);
      list = s === undefined ? undefined : table.sourceOutput(s);
    }
    if (!Array.isArray(list)) {
      lists = undefined;
      break;
    }
    lists.push(list);
  }
  let count = 0;
  if (lists) count = lists.reduce((product, list) => product * list.length, 1);
  else for (const snapshot of snapshots) count = Math.max(count, snapshot.mapIndex + 1);
  const group = new MappedGroup(count, names, lists);
  const seen = new Uint8Array(count);
  for (const snapshot of snapshots) {
    const i = snapshot.mapIndex;
    if (i >= count) continue;
    seen[i] = 1;
    const code = STATE_CODES[snapshot.state]!;
    group.reasons[i] = snapshot.reason;
    group.tryNumbers[i] = snapshot.tryNumber;
    group.triesBeforeClear[i] = snapshot.triesBeforeClear ?? 0;
    if (snapshot.error) group.errors.set(i, snapshot.error);
    if (isAttemptActive(code)) {
      group.restore(i, SCHEDULED);
      group.tryNumbers[i] = Math.max(1, snapshot.tryNumber);
    } else if (code === UP_FOR_RETRY) {
      group.restore(i, UP_FOR_RETRY);
      group.tryNumbers[i] = Math.max(1, snapshot.tryNumber);
      group.nextTryAtMs[i] = snapshot.nextTryAtMs ?? Number.NaN;
    } else {
      group.restore(i, code);
    }
    if (code === SUCCESS) group.outputs[i] = outputs.get(`${task.id}#${i}`);
  }
  if (!isTerminal(table.states[t]!)) {
    if (!seen.every((flag) => flag === 1)) followUp.reexpand.add(t);
    if (!lists && (count === 0 || !group.complete)) {
      throw missingOutput(runId, task.id, 'the outputs of its map sources, to rebuild its mapped items');
    }
    table.states[t] = RUNNING;
  }
  table.groups.set(t, group);
  table.mapCounts[t] = count;
}

/** Outputs resume() will need: sources of unexpanded mapped tasks, results of branch/short-circuit tasks. */
function checkOutputs(
  table: InstanceTable,
  runId: string,
  outputs: ReadonlyMap<string, unknown>,
  followUp: RestoreFollowUp,
): void {
  const { tasks, taskCount, taskIndex, downstreamStart, downstream } = table.plan;
  for (let t = 0; t < taskCount; t++) {
    const task = tasks[t]!;
    if (task.map && table.states[t] === NONE) {
      for (const source of Object.values(task.map.over)) {
        if (!('fromTask' in source)) continue;
        const s = taskIndex.get(source.fromTask);
        if (s === undefined || table.states[s] !== SUCCESS) continue;
        if (!table.groups.has(s) && !table.outputs.has(s)) {
          throw missingOutput(runId, task.id, `the outputs of '${source.fromTask}', which it maps over`);
        }
      }
    }
    if (table.states[t] !== SUCCESS || task.map || !(task.branch || task.shortCircuit)) continue;
    // Its skips matter only while some task they would skip has not moved yet.
    let open = false;
    if (task.shortCircuit === 'all') {
      table.walkDescendants([t], Number.POSITIVE_INFINITY, (d) => {
        if (table.states[d] === NONE) open = true;
      });
    } else {
      for (let e = downstreamStart[t]!; e < downstreamStart[t + 1]!; e++) {
        if (table.states[downstream[e]!] === NONE) open = true;
      }
    }
    if (!open) continue;
    const key = `${task.id}#-1`;
    if (!outputs.has(key)) {
      throw missingOutput(runId, task.id, `its output '${key}', to apply its branch/short-circuit skips`);
    }
    followUp.reapply.push({ t, output: outputs.get(key) });
  }
}

function missingOutput(runId: string, taskId: string, what: string): BatutaError {
  return new BatutaError(
    'ENGINE_RESTORE_MISSING_OUTPUT',
    `run '${runId}': cannot restore '${taskId}' without ${what}; pass it in the outputs map`,
  );
}
