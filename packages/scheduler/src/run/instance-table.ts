// The engine's memory of one run: every task instance's state in typed arrays indexed like the
// plan, the per-task counts of upstream states the trigger rules read, mapped groups, and the
// outputs the engine needs. Reading it (snapshots, explanations) lives here too; deciding does not.
import type { TaskError } from '../dag/model.js';
import type { MappedGroup } from './mapped-group.js';
import type { ExecutionPlan } from './plan.js';
import {
  FAILED,
  NONE,
  QUEUED,
  RUNNING,
  SCHEDULED,
  SKIPPED,
  STATE_NAMES,
  SUCCESS,
  UP_FOR_RETRY,
  UPSTREAM_FAILED,
} from './states.js';
import { evaluateTriggerRule, type UpstreamCounts } from './trigger-rules.js';
import type { InstanceSnapshot } from './types.js';

/** A resolved instance: task index, map index (-1 for the task-level instance) and, for mapIndex >= 0, its group. */
export interface Slot {
  t: number;
  m: number;
  group: MappedGroup | undefined;
}

/** Per-run instance state, by task index. */
export class InstanceTable {
  readonly plan: ExecutionPlan;
  // The task-level instance (mapIndex -1) of every task.
  readonly states: Uint8Array;
  readonly tryNumbers: Int32Array;
  /** Tries made before the instance was last cleared: its retries count from there (Airflow's max_tries). */
  readonly triesBeforeClear: Int32Array;
  readonly nextTryAtMs: Float64Array;
  readonly reasons: string[];
  readonly errors = new Map<number, TaskError>();
  /**
   * Try numbers of a cleared mapped task's former instances (by map index), for its re-expansion: each
   * index's next attempt continues its count. Indexes beyond the new expansion are marked removed.
   */
  readonly clearedMapTries = new Map<number, Int32Array>();
  /** Task-level instances in a terminal state; the run ends when this reaches taskCount. */
  terminalCount = 0;

  // Counts of each task's direct upstreams by state. An expanded mapped upstream counts each of its
  // instances (Airflow's trigger_rule_dep does the same); an unexpanded one counts as one.
  readonly upSuccess: Int32Array;
  readonly upFailed: Int32Array;
  readonly upUpstreamFailed: Int32Array;
  readonly upSkipped: Int32Array;
  readonly upRemoved: Int32Array;
  readonly upDone: Int32Array;
  /** Upstreams beyond the plan's edges: N−1 for each direct upstream expanded into N instances. */
  readonly upExtra: Int32Array;
  /** How many direct upstreams are expanded mapped tasks (only explanations read it). */
  readonly upExpanded: Int32Array;

  readonly groups = new Map<number, MappedGroup>();
  /** Expansion size per task, -1 until resolved (0 for an empty list). */
  readonly mapCounts: Int32Array;
  /** Outputs of unmapped tasks that some mapped task maps over. */
  readonly outputs = new Map<number, unknown>();
  /** Why a task whose rule says run still waits (depends_on_past, an unfinished map source). */
  readonly holds = new Map<number, string>();

  private readonly walkMarks: Int32Array;
  private walkEpoch = 0;

  constructor(plan: ExecutionPlan) {
    const n = plan.taskCount;
    this.plan = plan;
    this.states = new Uint8Array(n);
    this.tryNumbers = new Int32Array(n);
    this.triesBeforeClear = new Int32Array(n);
    this.nextTryAtMs = new Float64Array(n).fill(Number.NaN);
    this.reasons = new Array<string>(n).fill('');
    this.upSuccess = new Int32Array(n);
    this.upFailed = new Int32Array(n);
    this.upUpstreamFailed = new Int32Array(n);
    this.upSkipped = new Int32Array(n);
    this.upRemoved = new Int32Array(n);
    this.upDone = new Int32Array(n);
    this.upExtra = new Int32Array(n);
    this.upExpanded = new Int32Array(n);
    this.mapCounts = new Int32Array(n).fill(-1);
    this.walkMarks = new Int32Array(n);
  }

  stateAt(slot: Slot): number {
    return slot.group ? slot.group.states[slot.m]! : this.states[slot.t]!;
  }

  tryAt(slot: Slot): number {
    return slot.group ? slot.group.tryNumbers[slot.m]! : this.tryNumbers[slot.t]!;
  }

  nextTryAt(slot: Slot): number {
    return slot.group ? slot.group.nextTryAtMs[slot.m]! : this.nextTryAtMs[slot.t]!;
  }

  errorAt(slot: Slot): TaskError | undefined {
    return slot.group ? slot.group.errors.get(slot.m) : this.errors.get(slot.t);
  }

  /** Tries made before the instance was last cleared (0 when it never was). */
  triesBeforeClearAt(slot: Slot): number {
    return slot.group ? slot.group.triesBeforeClear[slot.m]! : this.triesBeforeClear[slot.t]!;
  }

  /** The last try the instance may make: its retries + 1, counted from its last clear. */
  maxTries(slot: Slot): number {
    return this.triesBeforeClearAt(slot) + Math.max(0, Math.floor(this.plan.tasks[slot.t]!.retry.retries)) + 1;
  }

  countsOf(t: number): UpstreamCounts {
    return {
      total: this.plan.upstreamTotal[t]! + this.upExtra[t]!,
      success: this.upSuccess[t]!,
      failed: this.upFailed[t]!,
      upstreamFailed: this.upUpstreamFailed[t]!,
      skipped: this.upSkipped[t]!,
      removed: this.upRemoved[t]!,
      done: this.upDone[t]!,
    };
  }

  /** True when task `t` expanded into instances, which its downstreams count one by one (not its parent). */
  countsInstances(t: number): boolean {
    return this.mapCounts[t]! > 0;
  }

  /** Adds task `t`'s (terminal) state to the counts of its direct downstreams. */
  countDownstream(t: number): void {
    this.countInDownstreams(t, this.states[t]!);
  }

  /** Adds one terminal state of task `t` (its own, or one mapped instance's) to its direct downstreams' counts. */
  countInDownstreams(t: number, code: number): void {
    const { downstreamStart, downstream } = this.plan;
    const counter =
      code === SUCCESS
        ? this.upSuccess
        : code === FAILED
          ? this.upFailed
          : code === UPSTREAM_FAILED
            ? this.upUpstreamFailed
            : code === SKIPPED
              ? this.upSkipped
              : this.upRemoved;
    for (let e = downstreamStart[t]!; e < downstreamStart[t + 1]!; e++) {
      const d = downstream[e]!;
      this.upDone[d]!++;
      counter[d]!++;
    }
  }

  /** Task `t` expanded into `count` (≥ 1) instances: each downstream now counts `count` upstreams where it counted one. */
  addInstances(t: number, count: number): void {
    const { downstreamStart, downstream } = this.plan;
    for (let e = downstreamStart[t]!; e < downstreamStart[t + 1]!; e++) {
      const d = downstream[e]!;
      this.upExtra[d]! += count - 1;
      this.upExpanded[d]!++;
    }
  }

  /** "mapped 'each' counts its 4 instances" for the expanded mapped upstreams of `t`; '' when there are none. */
  mappedNote(t: number): string {
    if (this.upExpanded[t] === 0) return '';
    const { upstreamStart, upstream, tasks } = this.plan;
    const parts: string[] = [];
    for (let e = upstreamStart[t]!; e < upstreamStart[t + 1]!; e++) {
      const u = upstream[e]!;
      const count = this.mapCounts[u]!;
      if (count > 0)
        parts.push(`mapped '${tasks[u]!.id}' counts its ${count} ${count === 1 ? 'instance' : 'instances'}`);
    }
    return parts.join(', ');
  }

  /** What a mapped task sees of a source: an unmapped task's output, or a mapped one's successful outputs. */
  sourceOutput(s: number): unknown {
    const group = this.groups.get(s);
    return group ? group.successOutputs() : this.outputs.get(s);
  }

  /**
   * Breadth-first over the descendants of `from` ranked ≤ maxRank (a task is only reachable from
   * tasks ranked before it, so the bound prunes). Marks them with a fresh epoch, which it returns.
   */
  walkDescendants(from: readonly number[], maxRank: number, visit?: (task: number) => void): number {
    const { downstreamStart, downstream, topologicalRank } = this.plan;
    const epoch = ++this.walkEpoch;
    const marks = this.walkMarks;
    const pending = from.slice();
    for (let i = 0; i < pending.length; i++) {
      const t = pending[i]!;
      for (let e = downstreamStart[t]!; e < downstreamStart[t + 1]!; e++) {
        const d = downstream[e]!;
        if (marks[d] === epoch || topologicalRank[d]! > maxRank) continue;
        marks[d] = epoch;
        pending.push(d);
        visit?.(d);
      }
    }
    return epoch;
  }

  walked(t: number, epoch: number): boolean {
    return this.walkMarks[t] === epoch;
  }

  /** The explanation of one instance's state, Airflow ti_deps style. */
  describe(slot: Slot, runStarted: boolean): string {
    const { t, m, group } = slot;
    const code = this.stateAt(slot);
    const reason = group ? group.reasons[m]! : this.reasons[t]!;
    const tries = `try ${this.tryAt(slot)} of ${this.maxTries(slot)}`;
    switch (code) {
      case NONE:
        if (!runStarted) return 'waiting: the run has not started';
        if (group) return `waiting: map index ${m} has not been started`;
        return (
          this.holds.get(t) ??
          evaluateTriggerRule(this.plan.tasks[t]!.triggerRule, this.countsOf(t), this.mappedNote(t)).reason
        );
      case SCHEDULED:
        return `scheduled: ${tries}; waiting for the executor to accept it`;
      case QUEUED:
        return `queued: ${tries}; waiting for a worker`;
      case RUNNING: {
        const parent = m === -1 ? this.groups.get(t) : undefined;
        return parent ? `running: ${parent.describe()}` : `running: ${tries}`;
      }
      case UP_FOR_RETRY: {
        const dueMs = this.nextTryAt(slot);
        const due = Number.isNaN(dueMs) ? 'an unknown time' : new Date(dueMs).toISOString();
        return `up_for_retry: ${reason}; due at ${due}`;
      }
      default:
        return reason;
    }
  }

  snapshot(slot: Slot, runStarted: boolean): InstanceSnapshot {
    const code = this.stateAt(slot);
    const snapshot: InstanceSnapshot = {
      taskId: this.plan.tasks[slot.t]!.id,
      mapIndex: slot.m,
      state: STATE_NAMES[code]!,
      tryNumber: this.tryAt(slot),
      reason:
        code === NONE
          ? this.describe(slot, runStarted)
          : slot.group
            ? slot.group.reasons[slot.m]!
            : this.reasons[slot.t]!,
    };
    const next = this.nextTryAt(slot);
    if (code === UP_FOR_RETRY && !Number.isNaN(next)) snapshot.nextTryAtMs = next;
    const error = this.errorAt(slot);
    if (error) snapshot.error = error;
    const cleared = this.triesBeforeClearAt(slot);
    if (cleared > 0) snapshot.triesBeforeClear = cleared;
    return snapshot;
  }
}

/** "TASK_TIMEOUT: timed out after 5000 ms". */
export function describeError(error: TaskError): string {
  const label = error.code ?? error.name;
  return label ? `${label}: ${error.message}` : error.message;
}
