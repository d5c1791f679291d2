// Small builders and a driver for engine tests: DAGs in a line each, runs driven to the end.
import {
  type DagSpec,
  DEFAULT_RESOURCES,
  DEFAULT_RETRY,
  type RetryPolicy,
  type TaskSpec,
  type TaskState,
} from '../../src/dag/model.js';
import { RunEngine, type RunEngineOptions } from '../../src/run/engine.js';
import { compilePlan } from '../../src/run/plan.js';
import type { Decision, InstanceKey, Outcome } from '../../src/run/types.js';

/** A task with Airflow defaults; `upstream` and anything else overridable. */
export function task(id: string, upstream: string[] = [], overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    id,
    operator: 'empty',
    with: {},
    upstream,
    triggerRule: 'all_success',
    retry: { ...DEFAULT_RETRY, retries: 0, delayMs: 1000, jitter: false },
    resources: DEFAULT_RESOURCES,
    priorityWeight: 1,
    dependsOnPast: false,
    branch: false,
    outlets: [],
    ...overrides,
  };
}

export function retries(count: number, overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return { ...DEFAULT_RETRY, retries: count, delayMs: 1000, backoff: 'fixed', jitter: false, ...overrides };
}

export function dag(tasks: TaskSpec[], id = 'test_dag'): DagSpec {
  return {
    id,
    tags: [],
    catchup: false,
    maxActiveRuns: 16,
    maxActiveTasks: 16,
    params: {},
    tasks,
  };
}

export function engineFor(tasks: TaskSpec[], options: Partial<RunEngineOptions> = {}): RunEngine {
  return new RunEngine(compilePlan(dag(tasks)), { runId: 'run_1', ...options });
}

export const ok = (output: unknown = undefined): Outcome => ({ status: 'success', output });
export const failed = (
  message = 'boom',
  extra: Partial<{ code: string; name: string; retryable: boolean }> = {},
): Outcome => ({
  status: 'failed',
  error: { message, ...extra },
});
export const skippedOutcome = (reason = 'nothing to do'): Outcome => ({ status: 'skipped', reason });

export type RunDecision = Extract<Decision, { kind: 'run' }>;
export const runsOf = (decisions: Decision[]): RunDecision[] =>
  decisions.filter((d): d is RunDecision => d.kind === 'run');
export const runIds = (decisions: Decision[]): string[] =>
  runsOf(decisions).map((d) => (d.mapIndex === -1 ? d.taskId : `${d.taskId}[${d.mapIndex}]`));
export const marks = (decisions: Decision[]): string[] =>
  decisions
    .filter((d): d is Extract<Decision, { kind: 'mark' }> => d.kind === 'mark')
    .map((d) => `${d.mapIndex === -1 ? d.taskId : `${d.taskId}[${d.mapIndex}]`}=${d.state}`);
export const finishOf = (decisions: Decision[]) =>
  decisions.find((d): d is Extract<Decision, { kind: 'finish' }> => d.kind === 'finish');

/** The task-level state of every task after the run, as a plain object. */
export function statesOf(engine: RunEngine): Record<string, TaskState> {
  const states: Record<string, TaskState> = {};
  for (const snapshot of engine.instances()) {
    if (snapshot.mapIndex === -1) states[snapshot.taskId] = snapshot.state;
  }
  return states;
}

/**
 * Runs to the end: starts, then completes pending run decisions in FIFO order with `outcome`
 * (default success), firing retries as they come due. Returns every decision, in order.
 */
export function drive(
  engine: RunEngine,
  outcome: (key: InstanceKey & { tryNumber: number; item: Record<string, unknown> | undefined }) => Outcome = () =>
    ok(),
  maxSteps = 100_000,
): Decision[] {
  let now = 0;
  const log: Decision[] = [];
  const pending: RunDecision[] = [];
  const retries: Array<Extract<Decision, { kind: 'retry' }>> = [];
  const take = (decisions: Decision[]) => {
    for (const d of decisions) {
      log.push(d);
      if (d.kind === 'run') pending.push(d);
      if (d.kind === 'retry') retries.push(d);
    }
  };
  take(engine.start(now));
  for (let step = 0; step < maxSteps; step++) {
    const next = pending.shift();
    if (next) {
      now += 1;
      take(engine.complete(next, outcome(next), now));
      continue;
    }
    retries.sort((a, b) => a.atMs - b.atMs);
    const due = retries.shift();
    if (!due) break;
    now = Math.max(now, due.atMs);
    take(engine.retryDue(due, now));
  }
  return log;
}
