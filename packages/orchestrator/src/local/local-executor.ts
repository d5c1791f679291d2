// The embedded executor: runs task attempts in this process, admitting each only while its declared
// resources fit what is free — the same admission rule the BullMQ workers apply — for `dags test`,
// the demo and unit tests. Event-driven: a settling attempt admits the next at once; nothing polls.
import {
  type Clock,
  type Executor,
  type ExecutorListener,
  type LogStore,
  type Outcome,
  type ResourceSpec,
  systemClock,
  TASK_CANCELLED,
  TASK_TIMEOUT,
  type TaskInvoker,
  type TaskJob,
} from '@batuta/scheduler';
import { LogShipper } from '@batuta/scheduler/internals';
import { describeJob, notify } from '../attempt-text.js';
import { OrchestratorError } from '../errors.js';
import { ResourceLedger } from '../resources/resource-ledger.js';
import { fits, formatResources } from '../resources/resources.js';
import { checkSubmittable } from '../submit-check.js';
import { PriorityFifo, type QueueSlot } from './priority-fifo.js';
import { outcomeOfThrown } from './task-outcome.js';

/** How a LocalExecutor is set up. */
export interface LocalExecutorOptions {
  /** Everything this executor may hand out at once. */
  capacity: ResourceSpec;
  /** Runs one attempt's body. */
  invoke: TaskInvoker;
  /** Times `started`/`finished` and arms timeouts; default the system clock. */
  clock?: Clock;
  /** The worker name reported with each attempt; default `local`. */
  worker?: string;
  /** Where each attempt's output lines are stored (e.g. a MemoryLogStore or FileLogStore); none by default. */
  logStore?: LogStore;
  /** How many queued jobs behind a blocked head are examined for backfill; 0 = strict head-of-line. Default 64. */
  backfillWindow?: number;
  /** How many backfilled jobs may overtake a blocked head before it reserves capacity for itself. Default 16. */
  maxBypass?: number;
}

interface Attempt {
  readonly job: TaskJob;
  slot: QueueSlot<Attempt>;
  state: 'queued' | 'running' | 'done';
  /** Times a smaller job was backfilled past this one while it was the blocked head. */
  bypassed: number;
  startedMs: number;
  /** `finished` was sent (timeout, cancel or the body's result); nothing more is reported. */
  reported: boolean;
  controller: AbortController | undefined;
  cancelTimer: (() => void) | undefined;
  settled: Promise<void> | undefined;
  /** Ships its output lines to the log store, while it runs. */
  logs?: LogShipper | undefined;
}

const DEFAULT_BACKFILL_WINDOW = 64;
const DEFAULT_MAX_BYPASS = 16;

/**
 * The in-process Executor with resource admission.
 *
 * - **Admission**: an attempt starts only while its declared resources fit the free capacity on every
 *   dimension (cpu, memoryMb, gpu, custom counters), not by a bare concurrency count. An attempt that
 *   needs more than the whole capacity is refused at `submit` (`NO_CAPACITY_FITS`).
 * - **Order**: higher `priorityWeight` first, first-in first-out within a priority. Priorities are
 *   strict: a stream of higher-priority work delays lower-priority work.
 * - **Backfill with a bound**: when the head of the queue does not fit, a later job within
 *   `backfillWindow` that does fit may start instead; each such overtaking counts against the head,
 *   and after `maxBypass` of them the head reserves: nothing else starts until it fits. A big job
 *   therefore waits at most `maxBypass` backfills plus the running attempts' durations.
 * - **Reports**: every accepted `submit` gets exactly one `finished`; `started` precedes it unless the
 *   attempt was cancelled while queued. `started` may be called before `submit()` resolves. Logs and
 *   progress after `finished` are dropped.
 * - **Failures**: a thrown error becomes a plain TaskError keeping `name`, `code`, `retryable` and
 *   `stack`; an error named `TaskSkipped` or with code `TASK_SKIPPED` is reported as skipped.
 * - **Timeouts** (`job.timeoutMs > 0`): at expiry the attempt's signal is aborted and it is reported
 *   failed with `TASK_TIMEOUT` (retryable) at once; a late result is discarded.
 * - **Cancellation**: queued attempts are dropped, running ones aborted; both are reported failed
 *   with `TASK_CANCELLED` (not retryable) at once.
 * - **Resources of an aborted attempt are released only when its body settles**, so capacity is never
 *   oversubscribed by a body that ignores its signal. A body that never settles holds its resources
 *   forever (and `close()` waits for it forever): task bodies must honour the signal.
 */
export class LocalExecutor implements Executor {
  private readonly ledger: ResourceLedger;
  private readonly invoke: TaskInvoker;
  private readonly logStore: LogStore | undefined;
  private readonly clock: Clock;
  private readonly worker: string;
  private readonly backfillWindow: number;
  private readonly maxBypass: number;
  private readonly queue = new PriorityFifo<Attempt>();
  private readonly running = new Set<Attempt>();
  private listener: ExecutorListener | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private pumping = false;
  /** The last admission pass stopped at a head that does not fit, and nothing was released since. */
  private stalled = false;

  constructor(options: LocalExecutorOptions) {
    this.ledger = new ResourceLedger(options.capacity, 'LocalExecutor');
    this.invoke = options.invoke;
    this.logStore = options.logStore;
    this.clock = options.clock ?? systemClock;
    this.worker = options.worker ?? 'local';
    this.backfillWindow = Math.max(0, options.backfillWindow ?? DEFAULT_BACKFILL_WINDOW);
    this.maxBypass = Math.max(0, options.maxBypass ?? DEFAULT_MAX_BYPASS);
  }

  /** Starts reporting to `listener` and admitting jobs (jobs submitted before wait until now). */
  async start(listener: ExecutorListener): Promise<void> {
    if (this.closed) throw new OrchestratorError('EXECUTOR_CLOSED', 'the local executor was closed; create a new one');
    if (this.listener) throw new OrchestratorError('EXECUTOR_STARTED', 'the local executor was already started');
    this.listener = listener;
    this.pump();
  }

  /** Queues an attempt; refused when it can never fit (`NO_CAPACITY_FITS`) or after `close`. */
  async submit(job: TaskJob): Promise<void> {
    checkSubmittable(job, 'the local executor', this.closed);
    if (!this.ledger.fitsCapacity(job.resources)) {
      throw new OrchestratorError(
        'NO_CAPACITY_FITS',
        `${describeJob(job)} needs ${formatResources(job.resources)} but this executor's whole capacity is ` +
          `${formatResources(this.ledger.capacity)}; lower the task's resources or give the executor more capacity`,
      );
    }
    // The slot is filled in right below: the queue needs the attempt to make it.
    const attempt = {
      job,
      state: 'queued',
      bypassed: 0,
      startedMs: 0,
      reported: false,
      controller: undefined,
      cancelTimer: undefined,
      settled: undefined,
    } as Attempt;
    attempt.slot = this.queue.push(attempt, job.priorityWeight);
    // Nothing was released since the queue last stalled: only this job itself could start now.
    if (this.stalled && this.queue.first() !== attempt.slot && !this.ledger.fitsFree(job.resources)) return;
    this.pump();
  }

  /** Drops matching queued attempts and aborts matching running ones; each is reported `TASK_CANCELLED`. */
  async cancel(
    filter: { runId: string; taskId?: string; mapIndex?: number; tryNumber?: number },
    reason: string,
  ): Promise<number> {
    // A scan, not an index: cancelling is rare, and an index would cost every submit and finish.
    const matches = (job: TaskJob) =>
      job.runId === filter.runId &&
      (filter.taskId === undefined || job.taskId === filter.taskId) &&
      (filter.mapIndex === undefined || job.mapIndex === filter.mapIndex) &&
      (filter.tryNumber === undefined || job.tryNumber === filter.tryNumber);
    const matching: Attempt[] = [];
    this.queue.forEach((attempt) => {
      if (matches(attempt.job)) matching.push(attempt);
    });
    for (const attempt of this.running) if (matches(attempt.job)) matching.push(attempt);
    let count = 0;
    for (const attempt of matching) if (this.stop(attempt, TASK_CANCELLED, `cancelled: ${reason}`)) count++;
    if (count > 0) this.pump();
    return count;
  }

  /** Stops accepting jobs, cancels queued and running ones (reported `TASK_CANCELLED`) and waits for bodies to settle. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  /** Resources held by attempts right now (including aborted bodies that have not settled yet). */
  inUse(): ResourceSpec {
    return this.ledger.inUse();
  }

  /** The most of each dimension ever held at once (each dimension's own peak). */
  peakInUse(): ResourceSpec {
    return this.ledger.peakInUse();
  }

  /** Attempts waiting for resources. */
  queuedCount(): number {
    return this.queue.size;
  }

  /** Bodies executing now, including timed-out or cancelled ones that have not settled (they hold resources). */
  runningCount(): number {
    return this.running.size;
  }

  private async shutdown(): Promise<void> {
    for (const attempt of this.queue.drain()) this.stop(attempt, TASK_CANCELLED, 'cancelled: the executor closed');
    for (const attempt of [...this.running]) this.stop(attempt, TASK_CANCELLED, 'cancelled: the executor closed');
    await Promise.all(Array.from(this.running, (attempt) => attempt.settled));
  }

  /** Admits jobs while the head (or, within bounds, a backfill candidate) fits. Re-entrant calls fold into the outer loop. */
  private pump(): void {
    if (this.pumping || !this.listener || this.closed) return;
    this.pumping = true;
    this.stalled = false;
    try {
      for (;;) {
        const head = this.queue.first();
        if (!head) break;
        if (this.ledger.fitsFree(head.item.job.resources)) {
          this.launch(head.item);
          continue;
        }
        const candidate = head.item.bypassed < this.maxBypass ? this.findBackfill() : undefined;
        if (!candidate) {
          this.stalled = true;
          break;
        }
        head.item.bypassed++;
        this.launch(candidate);
      }
    } finally {
      this.pumping = false;
    }
  }

  private findBackfill(): Attempt | undefined {
    if (this.backfillWindow === 0) return undefined;
    const free = this.ledger.free;
    return this.queue.findBehindFirst(this.backfillWindow + 1, (attempt) => fits(attempt.job.resources, free))?.item;
  }

  private launch(attempt: Attempt): void {
    const listener = this.listener!;
    this.queue.remove(attempt.slot);
    attempt.state = 'running';
    this.running.add(attempt);
    this.ledger.reserve(attempt.job.resources);
    attempt.startedMs = this.clock.now();
    attempt.controller = new AbortController();
    if (this.logStore) {
      attempt.logs = new LogShipper({ store: this.logStore, attempt: attempt.job, clock: this.clock });
    }
    const timeoutMs = attempt.job.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs > 0) {
      attempt.cancelTimer = this.clock.setTimer(attempt.startedMs + timeoutMs, () =>
        this.stop(attempt, TASK_TIMEOUT, `timed out after ${timeoutMs} ms`),
      );
    }
    notify(() => listener.started(attempt.job, attempt.startedMs, this.worker));
    // The body starts on a microtask, so its synchronous part never runs inside submit() or this loop.
    attempt.settled = Promise.resolve().then(() => this.execute(attempt));
  }

  private async execute(attempt: Attempt): Promise<void> {
    let outcome: Outcome | undefined;
    if (!attempt.reported) {
      const listener = this.listener!;
      const job = attempt.job;
      try {
        const output = await this.invoke(job, attempt.controller!.signal, {
          log: (message, stream) => {
            attempt.logs?.write(message, stream);
            if (!attempt.reported && listener.log) notify(() => listener.log?.(job, message, stream));
          },
          progress: (fraction) => {
            if (!attempt.reported && listener.progress) notify(() => listener.progress?.(job, fraction));
          },
        });
        outcome = { status: 'success', output };
      } catch (thrown) {
        outcome = outcomeOfThrown(thrown);
      }
    }
    // The attempt's last lines are stored before it is reported.
    await attempt.logs?.end();
    this.settle(attempt, outcome);
  }

  /** The body settled: release its resources first, so work the listener submits can start at once. */
  private settle(attempt: Attempt, outcome: Outcome | undefined): void {
    attempt.cancelTimer?.();
    attempt.state = 'done';
    this.running.delete(attempt);
    this.ledger.release(attempt.job.resources);
    if (!attempt.reported && outcome) this.report(attempt, outcome, attempt.startedMs);
    this.pump();
  }

  /**
   * Ends an attempt early with a failure code: a queued one leaves the queue, a running one is aborted
   * (its resources stay held until its body settles). Returns false if it had already been reported.
   */
  private stop(attempt: Attempt, code: typeof TASK_CANCELLED | typeof TASK_TIMEOUT, message: string): boolean {
    if (attempt.reported || attempt.state === 'done') return false;
    const timeout = code === TASK_TIMEOUT;
    const error = {
      message: `${describeJob(attempt.job)} ${message}`,
      name: timeout ? 'TaskTimeoutError' : 'TaskCancelledError',
      code,
      retryable: timeout,
    };
    if (attempt.state === 'queued') {
      this.queue.remove(attempt.slot);
      attempt.state = 'done';
      const now = this.clock.now();
      this.report(attempt, { status: 'failed', error }, now);
      return true;
    }
    attempt.cancelTimer?.();
    attempt.logs?.write(`[batuta] ${error.message}`, 'log');
    void attempt.logs?.flush();
    attempt.controller!.abort(new OrchestratorError(code, error.message));
    this.report(attempt, { status: 'failed', error }, attempt.startedMs);
    return true;
  }

  private report(attempt: Attempt, outcome: Outcome, startedMs: number): void {
    attempt.reported = true;
    const listener = this.listener;
    if (!listener) return; // queued jobs closed before start(): nobody to tell
    const ran = attempt.controller !== undefined; // it was launched on this worker
    const result = {
      job: attempt.job,
      outcome,
      startedMs,
      endedMs: this.clock.now(),
      ...(ran ? { worker: this.worker } : {}),
    };
    notify(() => listener.finished(result));
  }
}
