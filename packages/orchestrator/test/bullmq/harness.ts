// Shared setup for the BullMQ tests: a private redis-server, a fresh namespace per test, pools, and
// polling with a deadline for state that has no event of its own.
import type { ResourceSpec } from '@batuta/scheduler';
import type { WorkerPool } from '../../src/pools/worker-pool.js';

/** A namespace no other test uses, so tests sharing one Redis never see each other's keys. */
export { uniqueNamespace } from '@batuta/testing';

/** A ResourceSpec from the dimensions given (the rest 0). */
export function spec(resources: Partial<ResourceSpec> = {}): ResourceSpec {
  return { cpu: 0, memoryMb: 0, gpu: 0, ...resources, custom: { ...resources.custom } };
}

/** A pool with per-worker `capacity`. */
export function pool(name: string, capacity: Partial<ResourceSpec>, labels: Record<string, string> = {}): WorkerPool {
  return { name, capacity: spec(capacity), labels, minWorkers: 1, maxWorkers: 4 };
}

/** Resolves once `condition()` holds, polling every few ms; fails after `deadlineMs` naming what it waited for. */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, deadlineMs = 15_000) {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
