// DAG specs for the BullMQ tests, built directly (no loader): chains and single tasks of given ids.
import { type DagSpec, DEFAULT_RETRY, type ResourceSpec, type TaskSpec } from '@batuta/scheduler';

/** A task that the test invoker interprets by its id. */
export function testTask(id: string, upstream: string[] = [], overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    id,
    operator: 'function',
    with: {},
    upstream,
    triggerRule: 'all_success',
    retry: { ...DEFAULT_RETRY, retries: 2, delayMs: 0, jitter: false },
    resources: { cpu: 1, memoryMb: 0, gpu: 0, custom: {} } satisfies ResourceSpec,
    priorityWeight: 1,
    dependsOnPast: false,
    branch: false,
    outlets: [],
    ...overrides,
  };
}

/** A DAG of the given tasks. */
export function testDag(id: string, tasks: TaskSpec[]): DagSpec {
  return { id, tags: [], catchup: false, maxActiveRuns: 16, maxActiveTasks: 1_000, params: {}, tasks };
}

/** `ids[0] → ids[1] → …`. */
export function chainDag(id: string, ids: string[]): DagSpec {
  return testDag(
    id,
    ids.map((taskId, index) => testTask(taskId, index === 0 ? [] : [ids[index - 1]!])),
  );
}
