// An executor for coordinator tests: each attempt starts and ends at once (on a microtask) as a script
// says, on worker 'w1' at the clock's time; 'hold' keeps an attempt running until it is cancelled.
import type { ManualClock } from '../../src/clock.js';
import type { Executor, ExecutorListener, TaskJob } from '../../src/executor.js';
import type { Outcome } from '../../src/run/types.js';

export type Script = (job: TaskJob) => Outcome | 'hold';

/** An executor whose attempts end as `script` says, at once; 'hold' keeps an attempt running until cancelled. */
export class ScriptedExecutor implements Executor {
  readonly submitted: TaskJob[] = [];
  readonly cancels: Array<{ runId: string; taskId?: string; mapIndex?: number }> = [];
  private listener: ExecutorListener | undefined;
  private readonly held: TaskJob[] = [];
  constructor(
    private readonly clock: ManualClock,
    public script: Script,
  ) {}
  async start(listener: ExecutorListener): Promise<void> {
    this.listener = listener;
  }
  async submit(job: TaskJob): Promise<void> {
    this.submitted.push(job);
    const at = this.clock.now();
    queueMicrotask(() => {
      this.listener?.started(job, at, 'w1');
      const outcome = this.script(job);
      if (outcome === 'hold') this.held.push(job);
      else this.listener?.finished({ job, outcome, startedMs: at, endedMs: at });
    });
  }
  async cancel(filter: { runId: string; taskId?: string; mapIndex?: number }): Promise<number> {
    this.cancels.push(filter);
    const stopped = this.held.filter((job) => job.taskId === filter.taskId && job.mapIndex === filter.mapIndex);
    for (const job of stopped) {
      this.held.splice(this.held.indexOf(job), 1);
      const at = this.clock.now();
      const error = { message: 'cancelled', code: 'TASK_CANCELLED', retryable: false };
      queueMicrotask(() =>
        this.listener?.finished({ job, outcome: { status: 'failed', error }, startedMs: at, endedMs: at }),
      );
    }
    return stopped.length;
  }
  async close(): Promise<void> {}
  tries(taskId: string): number[] {
    return this.submitted.filter((job) => job.taskId === taskId).map((job) => job.tryNumber);
  }
}
