// The deciding half of the run engine: given an event already validated by RunEngine, it changes
// the instance table and appends the decisions that follow. Cascades run through an explicit
// queue: a task that becomes terminal bumps its direct downstreams' counts and queues them;
// `drain` re-evaluates only those, so an event costs O(edges touched) and no recursion is needed.
import type { TaskError, TaskSpec, TaskState } from '../dag/model.js';
import { taskError } from '../task-error.js';
import { parseBranchChoice } from './branching.js';
import { resolveExpansion } from './expansion.js';
import { describeError, type InstanceTable, type Slot } from './instance-table.js';
import { MappedGroup } from './mapped-group.js';
import type { ExecutionPlan } from './plan.js';
import { retryDelayMs, shouldRetry } from './retry.js';
import {
  FAILED,
  isTerminal,
  NONE,
  REMOVED,
  RUNNING,
  SCHEDULED,
  SKIPPED,
  STATE_NAMES,
  SUCCESS,
  UP_FOR_RETRY,
  UPSTREAM_FAILED,
} from './states.js';
import {
  ACTION_RUN,
  ACTION_SKIP,
  ACTION_UPSTREAM_FAILED,
  ACTION_WAIT,
  allSucceededReason,
  triggerRuleAction,
  verdictReason,
} from './trigger-rules.js';
import type { Decision } from './types.js';

/** Applies validated events to an instance table and collects the decisions that follow. */
export class RunDecider {
  readonly table: InstanceTable;
  private readonly plan: ExecutionPlan;
  private readonly runId: string;
  private readonly previousStates: ReadonlyMap<string, TaskState> | undefined;
  // Tasks waiting to be re-evaluated; `inQueue` keeps each at most once.
  private readonly inQueue: Uint8Array;
  private readonly queue: number[] = [];
  private out: Decision[] = [];

  constructor(table: InstanceTable, runId: string, previousStates: ReadonlyMap<string, TaskState> | undefined) {
    this.table = table;
    this.plan = table.plan;
    this.runId = runId;
    this.previousStates = previousStates;
    this.inQueue = new Uint8Array(table.plan.taskCount);
  }

  /** Appends a decision the caller made itself (expand on resume, finish). */
  push(decision: Decision): void {
    this.out.push(decision);
  }

  /** Hands back the decisions collected since the last call. */
  take(): Decision[] {
    const decisions = this.out;
    this.out = [];
    return decisions;
  }

  /** Forgets queued re-evaluations (a cancelled run marks everything itself). */
  clearQueue(): void {
    this.queue.length = 0;
    this.inQueue.fill(0);
  }

  /** The run's end: success when every leaf is success or skipped (or removed), else failed naming up to five leaves. */
  finishDecision(): Extract<Decision, { kind: 'finish' }> {
    const { leaves, tasks } = this.plan;
    const failing: string[] = [];
    let failingCount = 0;
    for (const leaf of leaves) {
      const code = this.table.states[leaf]!;
      if (code === FAILED || code === UPSTREAM_FAILED) {
        if (++failingCount <= 5) failing.push(`'${tasks[leaf]!.id}' (${STATE_NAMES[code]})`);
      }
    }
    if (failingCount === 0) {
      const count = `${leaves.length} ${leaves.length === 1 ? 'leaf' : 'leaves'}`;
      const reason =
        tasks.length === 0 ? 'the DAG has no tasks' : `every leaf task succeeded or was skipped (${count})`;
      return { kind: 'finish', state: 'success', reason };
    }
    const more = failingCount > 5 ? ` and ${failingCount - 5} more` : '';
    const what = `${failingCount} leaf ${failingCount === 1 ? 'task' : 'tasks'}`;
    return { kind: 'finish', state: 'failed', reason: `${what} did not succeed: ${failing.join(', ')}${more}` };
  }

  // ---- outcomes -------------------------------------------------------------------------------

  /** An attempt succeeded: keep what is needed of its output, apply branch/short-circuit skips, cascade. */
  succeed(slot: Slot, output: unknown, nowMs: number): void {
    const { t, m, group } = slot;
    const reason = successReason(this.table.tryAt(slot));
    if (group) {
      group.outputs[m] = output;
      this.endAttempt(slot, SUCCESS, reason);
      return;
    }
    const task = this.plan.tasks[t]!;
    if (task.branch) {
      const choice = parseBranchChoice(this.plan, t, output);
      if ('error' in choice) {
        this.fail(slot, choice.error, nowMs);
        return;
      }
    }
    if (this.plan.isMapSource[t]) this.table.outputs.set(t, output);
    this.setTerminal(t, SUCCESS, reason);
    // Branch and short-circuit skips land before any downstream is evaluated.
    this.applyBranchAndShortCircuit(t, output);
    this.propagate(t);
  }

  /** An attempt failed: a 'retry' decision while the policy allows, else the final failure and its cascade. */
  fail(slot: Slot, error: TaskError, nowMs: number): void {
    const { t, m, group } = slot;
    const task = this.plan.tasks[t]!;
    const tryNumber = this.table.tryAt(slot);
    // A cleared instance gets its full retries again, counted from its clear (Airflow's max_tries).
    const triesBefore = this.table.triesBeforeClearAt(slot);
    const counted = shouldRetry(task.retry, tryNumber - triesBefore, error);
    const verdict =
      triesBefore > 0
        ? { ...counted, reason: `${counted.reason} (counted since its clear after try ${triesBefore})` }
        : counted;
    if (group) group.errors.set(m, error);
    else this.table.errors.set(t, error);
    if (!verdict.retry) {
      const tries = `${tryNumber} ${tryNumber === 1 ? 'try' : 'tries'}`;
      this.endAttempt(slot, FAILED, `failed after ${tries}: ${describeError(error)}; ${verdict.reason}`);
      return;
    }
    const delayMs = retryDelayMs(task.retry, {
      runId: this.runId,
      taskId: task.id,
      mapIndex: m,
      tryNumber: tryNumber - triesBefore,
    });
    const atMs = nowMs + delayMs;
    const reason = `${describeError(error)}; ${verdict.reason}; try ${tryNumber + 1} in ${delayMs} ms`;
    const states = group ? group.states : this.table.states;
    const nextTryAtMs = group ? group.nextTryAtMs : this.table.nextTryAtMs;
    const reasons = group ? group.reasons : this.table.reasons;
    const i = group ? m : t;
    states[i] = UP_FOR_RETRY;
    nextTryAtMs[i] = atMs;
    reasons[i] = reason;
    this.out.push({ kind: 'retry', taskId: task.id, mapIndex: m, nextTryNumber: tryNumber + 1, atMs, delayMs, reason });
  }

  /** An attempt's final state: its mark, then its downstreams hear of it (directly, or via the mapped aggregate). */
  endAttempt(slot: Slot, code: number, reason: string): void {
    const { t, m, group } = slot;
    if (!group) {
      this.markTask(t, code, reason);
      return;
    }
    group.finish(m, code, reason);
    this.emitMark(t, m, code, reason);
    // Each instance is an upstream of its own to the downstreams: they hear of it now, not at the aggregate.
    this.table.countInDownstreams(t, code);
    this.enqueueDownstream(t);
    if (group.complete) this.aggregate(t, group);
  }

  /** Every instance of a mapped task is terminal: mark the parent with the aggregate state. */
  aggregate(t: number, group: MappedGroup): void {
    const code = group.aggregate();
    const output = code === SUCCESS ? group.successOutputs() : undefined;
    this.markTask(t, code, `${STATE_NAMES[code]}: ${group.describe()}`, output);
  }

  // ---- branching and short-circuit ------------------------------------------------------------

  /** The skips a successful branch or short-circuit task's output implies (also re-applied after restore). */
  applyBranchAndShortCircuit(t: number, output: unknown): void {
    const task = this.plan.tasks[t]!;
    if (task.branch) {
      const choice = parseBranchChoice(this.plan, t, output);
      if (!('error' in choice)) this.skipUnchosen(t, choice.chosen, choice.label);
    }
    if (task.shortCircuit && !output) this.shortCircuit(t, task.shortCircuit);
  }

  /** Skips the branch's direct downstreams that were not chosen, except those a chosen path reaches. */
  private skipUnchosen(branch: number, chosen: number[], label: string): void {
    const { downstreamStart, downstream, topologicalRank, tasks } = this.plan;
    const states = this.table.states;
    const chosenSet = new Set(chosen);
    const candidates: number[] = [];
    let maxRank = -1;
    for (let e = downstreamStart[branch]!; e < downstreamStart[branch + 1]!; e++) {
      const d = downstream[e]!;
      if (states[d] !== NONE || chosenSet.has(d)) continue;
      candidates.push(d);
      maxRank = Math.max(maxRank, topologicalRank[d]!);
    }
    if (candidates.length === 0) return;
    const epoch = chosen.length > 0 ? this.table.walkDescendants(chosen, maxRank) : -1;
    const reason = `skipped by branch '${tasks[branch]!.id}' (it chose ${label})`;
    for (const d of candidates) {
      if (!this.table.walked(d, epoch) && states[d] === NONE) this.markTask(d, SKIPPED, reason);
    }
  }

  private shortCircuit(t: number, mode: 'all' | 'direct'): void {
    const id = this.plan.tasks[t]!.id;
    const states = this.table.states;
    if (mode === 'direct') {
      const { downstreamStart, downstream } = this.plan;
      const reason = `skipped by short-circuit '${id}': it returned a falsy value (direct downstreams only)`;
      for (let e = downstreamStart[t]!; e < downstreamStart[t + 1]!; e++) {
        const d = downstream[e]!;
        if (states[d] === NONE) this.markTask(d, SKIPPED, reason);
      }
      return;
    }
    const reason = `skipped by short-circuit '${id}': it returned a falsy value (all descendants, trigger rules ignored)`;
    this.table.walkDescendants([t], Number.POSITIVE_INFINITY, (d) => {
      if (states[d] === NONE) this.markTask(d, SKIPPED, reason);
    });
  }

  // ---- evaluation -----------------------------------------------------------------------------

  /** Queues task `t` for re-evaluation (once). */
  enqueue(t: number): void {
    if (this.inQueue[t] === 1) return;
    this.inQueue[t] = 1;
    this.queue.push(t);
  }

  /** Re-evaluates queued tasks; marks push their downstreams onto the same queue (no recursion). */
  drain(): void {
    const queue = this.queue;
    const states = this.table.states;
    for (let i = 0; i < queue.length; i++) {
      const t = queue[i]!;
      this.inQueue[t] = 0;
      if (states[t] === NONE) this.evaluate(t);
    }
    queue.length = 0;
  }

  private evaluate(t: number): void {
    const task = this.plan.tasks[t]!;
    const table = this.table;
    const removed = table.upRemoved[t]!;
    const total = this.plan.upstreamTotal[t]! + table.upExtra[t]!;
    const action = triggerRuleAction(
      task.triggerRule,
      total - removed,
      table.upDone[t]! - removed,
      table.upSuccess[t]!,
      table.upFailed[t]!,
      table.upUpstreamFailed[t]!,
      table.upSkipped[t]!,
    );
    if (action === ACTION_WAIT) return;
    const success = table.upSuccess[t]!;
    const plain = removed === 0 && table.upExpanded[t] === 0;
    const common =
      action === ACTION_RUN && plain && success === total ? allSucceededReason(task.triggerRule, success) : undefined;
    const reason = common ?? verdictReason(task.triggerRule, action, table.countsOf(t), table.mappedNote(t));
    if (action === ACTION_SKIP || action === ACTION_UPSTREAM_FAILED) {
      this.markTask(t, action === ACTION_SKIP ? SKIPPED : UPSTREAM_FAILED, reason);
      return;
    }
    const hold = this.pastHold(task);
    if (hold !== undefined) table.holds.set(t, hold);
    else if (task.map) this.expand(t, reason);
    else {
      table.holds.delete(t);
      // A cleared task's try numbers keep counting (0 for one that never ran).
      this.schedule({ t, m: -1, group: undefined }, table.tryNumbers[t]! + 1, reason);
    }
  }

  private pastHold(task: TaskSpec): string | undefined {
    if (!task.dependsOnPast || !this.previousStates) return undefined;
    const previous = this.previousStates.get(task.id);
    if (previous === undefined || previous === 'success' || previous === 'skipped') return undefined;
    return `waiting: depends_on_past: previous run's '${task.id}' is ${previous}`;
  }

  private expand(t: number, readyReason: string): void {
    const table = this.table;
    const expansion = resolveExpansion(table, t);
    if (expansion.kind === 'hold') {
      table.holds.set(t, expansion.reason);
      return;
    }
    table.holds.delete(t);
    if (expansion.kind === 'fail') {
      table.errors.set(t, taskError(expansion.message, { code: expansion.code, retryable: false }));
      this.markTask(t, FAILED, `failed: ${expansion.code}: ${expansion.message}`);
      return;
    }
    if (expansion.kind === 'mark') {
      if (expansion.count !== undefined) table.mapCounts[t] = expansion.count;
      this.markTask(t, expansion.state, expansion.reason);
      return;
    }
    const { names, lists, count } = expansion;
    const taskId = this.plan.tasks[t]!.id;
    const group = new MappedGroup(count, names, lists);
    table.groups.set(t, group);
    table.mapCounts[t] = count;
    table.addInstances(t, count);
    table.states[t] = RUNNING;
    table.reasons[t] = `expanded into ${count} mapped instances`;
    this.out.push({ kind: 'expand', taskId, count, reason: `${readyReason}; expanded into ${count} mapped instances` });
    // A cleared mapped task re-expands; each map index it had before keeps counting its tries.
    const cleared = table.clearedMapTries.get(t);
    table.clearedMapTries.delete(t);
    for (let m = 0; m < count; m++) {
      const before = cleared !== undefined && m < cleared.length ? cleared[m]! : 0;
      group.tryNumbers[m] = before;
      group.triesBeforeClear[m] = before;
      this.schedule({ t, m, group }, before + 1, `${readyReason}; map index ${m} of ${count}`);
    }
    if (cleared) {
      const removed = `removed: the re-expansion of '${taskId}' has ${count} mapped instances`;
      for (let m = count; m < cleared.length; m++) this.emitMark(t, m, REMOVED, removed);
    }
  }

  // ---- state changes --------------------------------------------------------------------------

  /** Emits the 'run' decision of an attempt; the instance is scheduled. */
  schedule(slot: Slot, tryNumber: number, reason: string): void {
    const { t, m, group } = slot;
    const i = group ? m : t;
    (group ? group.states : this.table.states)[i] = SCHEDULED;
    (group ? group.tryNumbers : this.table.tryNumbers)[i] = tryNumber;
    (group ? group.nextTryAtMs : this.table.nextTryAtMs)[i] = Number.NaN;
    (group ? group.reasons : this.table.reasons)[i] = reason;
    const item = group ? group.item(m) : undefined;
    this.out.push({ kind: 'run', taskId: this.plan.tasks[t]!.id, mapIndex: m, tryNumber, item, reason });
  }

  /** Records queued/running as reported by the executor. */
  setActive(slot: Slot, code: number, reason: string): void {
    const i = slot.group ? slot.m : slot.t;
    (slot.group ? slot.group.states : this.table.states)[i] = code;
    (slot.group ? slot.group.reasons : this.table.reasons)[i] = reason;
  }

  /** A task-level instance reaches a final state; its downstreams hear of it. */
  markTask(t: number, code: number, reason: string, output?: unknown[]): void {
    this.setTerminal(t, code, reason, output);
    this.propagate(t);
  }

  /** Sets a task-level final state and emits its mark, without telling downstreams (see markTask). */
  setTerminal(t: number, code: number, reason: string, output?: unknown[]): void {
    const table = this.table;
    if (!isTerminal(table.states[t]!)) table.terminalCount++;
    table.states[t] = code;
    table.reasons[t] = reason;
    table.nextTryAtMs[t] = Number.NaN;
    table.holds.delete(t);
    this.emitMark(t, -1, code, reason, output);
  }

  /** Appends a 'mark' decision (with the aggregate output of a mapped task's successful parent). */
  emitMark(t: number, mapIndex: number, code: number, reason: string, output?: unknown[]): void {
    const taskId = this.plan.tasks[t]!.id;
    const state = STATE_NAMES[code]!;
    this.out.push(
      output === undefined
        ? { kind: 'mark', taskId, mapIndex, state, reason }
        : { kind: 'mark', taskId, mapIndex, state, reason, output },
    );
  }

  /**
   * Counts a now-terminal task in its direct downstreams and queues those still waiting. An expanded
   * mapped task's instances were counted one by one as they ended, so its parent is not counted again.
   */
  private propagate(t: number): void {
    if (!this.table.countsInstances(t)) this.table.countDownstream(t);
    this.enqueueDownstream(t);
  }

  /** Queues the direct downstreams of `t` that have not started. */
  private enqueueDownstream(t: number): void {
    const { downstreamStart, downstream } = this.plan;
    const states = this.table.states;
    for (let e = downstreamStart[t]!; e < downstreamStart[t + 1]!; e++) {
      const d = downstream[e]!;
      if (states[d] === NONE) this.enqueue(d);
    }
  }

  /** After restore: an attempt that was out runs again with the same try; a pending retry is re-armed. */
  reissue(slot: Slot, nowMs: number): void {
    const code = this.table.stateAt(slot);
    if (code === SCHEDULED) {
      const tryNumber = this.table.tryAt(slot);
      const reason = `resumed after restart: try ${tryNumber} of ${this.table.maxTries(slot)} runs again`;
      this.schedule(slot, tryNumber, reason);
    } else if (code === NONE && slot.group) {
      const next = this.table.tryAt(slot) + 1;
      this.schedule(slot, next, `resumed: map index ${slot.m} of ${slot.group.count} had not started (try ${next})`);
    } else if (code === UP_FOR_RETRY) {
      const dueMs = this.table.nextTryAt(slot);
      const atMs = Number.isNaN(dueMs) ? nowMs : dueMs;
      const nextTryNumber = this.table.tryAt(slot) + 1;
      this.out.push({
        kind: 'retry',
        taskId: this.plan.tasks[slot.t]!.id,
        mapIndex: slot.m,
        nextTryNumber,
        atMs,
        delayMs: Math.max(0, atMs - nowMs),
        reason: `resumed after restart: try ${nextTryNumber} is due at ${atMs}`,
      });
    }
  }
}

const SUCCESS_REASONS = Array.from(
  { length: 16 },
  (_, tries) => `success after ${tries} ${tries === 1 ? 'try' : 'tries'}`,
);

/** "success after 2 tries"; shared strings for the usual counts, so a large run does not build one per task. */
function successReason(tries: number): string {
  return SUCCESS_REASONS[tries] ?? `success after ${tries} tries`;
}
