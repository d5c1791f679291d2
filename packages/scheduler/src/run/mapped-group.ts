// The instances of one expanded mapped task: their states in typed arrays, counts by state for the
// aggregate, and the lists the instances' items are drawn from (decoded on demand, not stored).
import type { TaskError, TaskState } from '../dag/model.js';
import { FAILED, isTerminal, REMOVED, SKIPPED, STATE_NAMES, SUCCESS, UPSTREAM_FAILED } from './states.js';

/** One mapped task's instances, mapIndex 0..count-1. */
export class MappedGroup {
  readonly count: number;
  readonly argNames: readonly string[];
  /** One list per argument, in `map.over` key order; undefined when restored without the source outputs. */
  readonly lists: ReadonlyArray<readonly unknown[]> | undefined;
  readonly states: Uint8Array;
  readonly tryNumbers: Int32Array;
  /** Tries each instance made before it was last cleared (see InstanceTable.triesBeforeClear). */
  readonly triesBeforeClear: Int32Array;
  readonly nextTryAtMs: Float64Array;
  readonly reasons: string[];
  readonly errors = new Map<number, TaskError>();
  /** Instance outputs (set on success): the parent's aggregate output and what a downstream maps over. */
  readonly outputs: unknown[];
  success = 0;
  failed = 0;
  upstreamFailed = 0;
  skipped = 0;
  removed = 0;
  done = 0;

  constructor(count: number, argNames: readonly string[], lists: ReadonlyArray<readonly unknown[]> | undefined) {
    this.count = count;
    this.argNames = argNames;
    this.lists = lists;
    this.states = new Uint8Array(count);
    this.tryNumbers = new Int32Array(count);
    this.triesBeforeClear = new Int32Array(count);
    this.nextTryAtMs = new Float64Array(count).fill(Number.NaN);
    this.reasons = new Array<string>(count).fill('');
    this.outputs = new Array<unknown>(count);
  }

  /** The element(s) instance `index` works on: the cross product, first argument varying slowest. */
  item(index: number): Record<string, unknown> | undefined {
    return this.lists ? mapItem(this.argNames, this.lists, index) : undefined;
  }

  /** Moves instance `index` to a terminal state and counts it; a second call for the same instance is ignored. */
  finish(index: number, code: number, reason: string): void {
    if (isTerminal(this.states[index]!)) return;
    this.states[index] = code;
    this.reasons[index] = reason;
    this.nextTryAtMs[index] = Number.NaN;
    this.tally(code);
  }

  /** Sets an instance's state while restoring, keeping the counts right. */
  restore(index: number, code: number): void {
    this.states[index] = code;
    if (isTerminal(code)) this.tally(code);
  }

  get complete(): boolean {
    return this.done >= this.count;
  }

  /**
   * The parent's state once every instance is terminal: failed > upstream_failed > success > skipped;
   * removed when every instance was removed (ADR 003: the task is absent, not skipped).
   */
  aggregate(): number {
    if (this.failed > 0) return FAILED;
    if (this.upstreamFailed > 0) return UPSTREAM_FAILED;
    if (this.success > 0) return SUCCESS;
    if (this.count > 0 && this.removed === this.count) return REMOVED;
    return SKIPPED;
  }

  /** "4 of 5 mapped instances done: 3 success, 1 failed". */
  describe(): string {
    const parts: string[] = [];
    if (this.success > 0) parts.push(`${this.success} success`);
    if (this.failed > 0) parts.push(`${this.failed} failed`);
    if (this.upstreamFailed > 0) parts.push(`${this.upstreamFailed} upstream_failed`);
    if (this.skipped > 0) parts.push(`${this.skipped} skipped`);
    if (this.removed > 0) parts.push(`${this.removed} removed`);
    const summary = parts.length > 0 ? `: ${parts.join(', ')}` : '';
    return `${this.done} of ${this.count} mapped instances done${summary}`;
  }

  /**
   * The task's aggregate output (ADR 005), also what a downstream maps over: the successful instances'
   * outputs in mapIndex order. It is stored as JSON, so an instance that returned nothing gives null.
   */
  successOutputs(): unknown[] {
    const list: unknown[] = [];
    for (let i = 0; i < this.count; i++) {
      if (this.states[i] === SUCCESS) list.push(this.outputs[i] === undefined ? null : this.outputs[i]);
    }
    return list;
  }

  stateName(index: number): TaskState {
    return STATE_NAMES[this.states[index]!]!;
  }

  private tally(code: number): void {
    this.done++;
    if (code === SUCCESS) this.success++;
    else if (code === FAILED) this.failed++;
    else if (code === UPSTREAM_FAILED) this.upstreamFailed++;
    else if (code === SKIPPED) this.skipped++;
    else if (code === REMOVED) this.removed++;
  }
}

/** The `item` of map index `index` over `lists` (one per argument): the cross product, first argument varying slowest. */
export function mapItem(
  argNames: readonly string[],
  lists: ReadonlyArray<readonly unknown[]>,
  index: number,
): Record<string, unknown> {
  const positions = new Array<number>(lists.length);
  let rest = index;
  for (let k = lists.length - 1; k >= 0; k--) {
    const length = lists[k]!.length;
    positions[k] = rest % length;
    rest = Math.floor(rest / length);
  }
  // fromEntries defines own properties, so an argument named `__proto__` stays data.
  return Object.fromEntries(argNames.map((name, k) => [name, lists[k]![positions[k]!]]));
}
