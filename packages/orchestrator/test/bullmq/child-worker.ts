// Runs fixtures/worker-process.ts in a child process and lets a test await what it reports.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ResourceSpec } from '@batuta/scheduler';

const fixture = fileURLToPath(new URL('./fixtures/worker-process.ts', import.meta.url));
const testsTsconfig = fileURLToPath(new URL('../../../../tsconfig.tests.json', import.meta.url));

/** What the child reports over IPC. */
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'body'; phase: 'start' | 'end'; taskId: string; tryNumber: number; worker: string; outcome?: string }
  | { type: 'event'; event: string; taskId: string }
  | { type: 'error'; message: string };

/** A worker process: its messages so far, and ways to wait for one, signal it and see it exit. */
export class ChildWorker {
  readonly messages: ChildMessage[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private waiters: Array<() => void> = [];

  private constructor(config: Record<string, unknown>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: { ...process.env, TSX_TSCONFIG_PATH: testsTsconfig, BATUTA_TEST_WORKER: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message) => {
      this.messages.push(message as ChildMessage);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        resolve({ code, signal });
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
  }

  /** Starts a worker process and waits until it fetches jobs. */
  static async start(config: {
    redisUrl: string;
    namespace: string;
    pool: string;
    capacity: ResourceSpec;
    name: string;
    lockDurationMs?: number;
    stalledIntervalMs?: number;
    drainDeadlineMs?: number;
    aliveTtlMs?: number;
    outageGraceMs?: number;
  }): Promise<ChildWorker> {
    const worker = new ChildWorker(config);
    await worker.waitFor((message) => message.type === 'ready', 'the worker to be ready', 60_000);
    return worker;
  }

  /** Resolves with the first message (already received or coming) that `match` accepts. */
  async waitFor(match: (message: ChildMessage) => boolean, what: string, deadlineMs = 60_000): Promise<ChildMessage> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`the worker process exited before ${what}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Body starts and ends reported for a task. */
  bodies(taskId: string, phase: 'start' | 'end'): Array<Extract<ChildMessage, { type: 'body' }>> {
    return this.messages.filter(
      (message): message is Extract<ChildMessage, { type: 'body' }> =>
        message.type === 'body' && message.taskId === taskId && message.phase === phase,
    );
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Kills the process if it still runs (test cleanup). */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
