// Test doubles for executors: a listener that records and can be awaited, and task bodies that end
// only when the test says so. No sleeps: tests await the events they expect.
import type { ExecutorListener, ResourceSpec, TaskInvoker, TaskJob, TaskResult } from '@batuta/scheduler';

export type ExecutorEvent =
  | { type: 'started'; job: TaskJob; atMs: number; worker: string | undefined }
  | { type: 'finished'; result: TaskResult }
  | { type: 'log'; job: TaskJob; message: string }
  | { type: 'progress'; job: TaskJob; fraction: number };

/** A job with sensible defaults; `resources` may be partial. */
export function makeJob(
  taskId: string,
  overrides: Partial<Omit<TaskJob, 'resources'>> & { resources?: Partial<ResourceSpec> } = {},
): TaskJob {
  const { resources, ...rest } = overrides;
  return {
    dagId: 'dag',
    runId: 'run',
    taskId,
    mapIndex: -1,
    tryNumber: 1,
    priorityWeight: 1,
    ...rest,
    resources: { cpu: 1, memoryMb: 0, gpu: 0, custom: {}, ...resources },
  };
}

/** Records everything an executor reports; `waitFor` resolves once a condition over the record holds. */
export class RecordingListener implements ExecutorListener {
  readonly events: ExecutorEvent[] = [];
  private waiters: Array<{ ready: () => boolean; resolve: () => void }> = [];

  started(job: TaskJob, atMs: number, worker?: string): void {
    this.record({ type: 'started', job, atMs, worker });
  }

  finished(result: TaskResult): void {
    this.record({ type: 'finished', result });
  }

  log(job: TaskJob, message: string): void {
    this.record({ type: 'log', job, message });
  }

  progress(job: TaskJob, fraction: number): void {
    this.record({ type: 'progress', job, fraction });
  }

  /** Task ids in the order they started. */
  startedIds(): string[] {
    return this.events.flatMap((event) => (event.type === 'started' ? [event.job.taskId] : []));
  }

  /** Every finished result, in order. */
  results(): TaskResult[] {
    return this.events.flatMap((event) => (event.type === 'finished' ? [event.result] : []));
  }

  /** The finished results of one task id. */
  resultsOf(taskId: string): TaskResult[] {
    return this.results().filter((result) => result.job.taskId === taskId);
  }

  /** Resolves once `ready()` holds (checked now and after every event). */
  waitFor(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready, resolve }));
  }

  /** Resolves with the first finished result of `taskId`. */
  async finishedOf(taskId: string): Promise<TaskResult> {
    await this.waitFor(() => this.resultsOf(taskId).length > 0);
    return this.resultsOf(taskId)[0]!;
  }

  /** Resolves once `count` results have been reported in total. */
  finishedCount(count: number): Promise<void> {
    return this.waitFor(() => this.results().length >= count);
  }

  private record(event: ExecutorEvent): void {
    this.events.push(event);
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (waiter.ready()) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }
}

interface Gate {
  promise: Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Task bodies that wait for the test: `succeed(taskId, value)` / `fail(taskId, error)` end them.
 * Tracks resources held by bodies that are executing, and the most ever held at once.
 */
export class GatedBodies {
  readonly executing = new Map<string, TaskJob>();
  readonly signals = new Map<string, AbortSignal>();
  peakCpu = 0;
  /** Set when some body saw another executing beside a job that asked for the whole cpu capacity. */
  violations: string[] = [];
  private cpuInUse = 0;
  private readonly gates = new Map<string, Gate>();

  constructor(
    private readonly options: {
      capacityCpu?: number;
      /** Bodies reject as soon as their signal aborts (well-behaved); default false (they ignore it). */
      honourSignal?: boolean;
    } = {},
  ) {}

  readonly invoke: TaskInvoker = async (job, signal) => {
    const id = job.taskId;
    this.executing.set(id, job);
    this.signals.set(id, signal);
    this.cpuInUse += job.resources.cpu;
    this.peakCpu = Math.max(this.peakCpu, this.cpuInUse);
    const capacity = this.options.capacityCpu;
    if (capacity !== undefined && this.cpuInUse > capacity + 1e-9) {
      this.violations.push(`${this.cpuInUse} cpu in use with ${id}`);
    }
    try {
      const gate = this.gate(id);
      if (this.options.honourSignal) {
        signal.addEventListener('abort', () => gate.reject(signal.reason), { once: true });
      }
      return await gate.promise;
    } finally {
      this.cpuInUse -= job.resources.cpu;
      this.executing.delete(id);
    }
  };

  succeed(taskId: string, value: unknown = `${taskId} done`): void {
    this.gate(taskId).resolve(value);
  }

  fail(taskId: string, error: unknown): void {
    this.gate(taskId).reject(error);
  }

  private gate(taskId: string): Gate {
    let gate = this.gates.get(taskId);
    if (!gate) {
      let resolve!: (value: unknown) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<unknown>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => {}); // a gate failed before its body awaited it is not an unhandled rejection
      gate = { promise, resolve, reject };
      this.gates.set(taskId, gate);
    }
    return gate;
  }
}

/**
 * Resolves once `condition()` holds, checking after each turn of the event loop (microtasks run in
 * between); fails after `deadlineMs` of wall time naming what it waited for. For state that changes
 * without a listener event, such as a task body starting.
 */
export async function until(condition: () => boolean, what = 'condition', deadlineMs = 5_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await flush();
  }
}

/** Lets every pending microtask and promise chain run, for checks that something did NOT happen. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
