// Scales a pool on one machine by starting and stopping worker processes: the command you give (e.g.
// `node cli.js worker --pool cpu`) is started once per worker; scaling down sends SIGTERM, so a worker
// finishes (or hands back) its jobs and exits; a worker that does not exit in time gets SIGKILL.
import { type ChildProcess, spawn } from 'node:child_process';
import { OrchestratorError } from '../errors.js';
import type { SlotPool, WorkerPool } from '../pools/worker-pool.js';
import { desiredWorkers, type PoolBacklog } from './desired-workers.js';

/** How a LocalProcessScaler is set up. */
export interface LocalProcessScalerOptions {
  pool: WorkerPool;
  /** The argv of one worker process, e.g. `[process.execPath, cliBin, 'worker', '--pool', 'cpu']`. */
  command: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where `reconcile` reads the backlog (e.g. `() => poolMetrics(queue)`). */
  backlog?: () => Promise<PoolBacklog>;
  slotPools?: readonly SlotPool[];
  /** How often `start` reconciles (default 5 s). */
  intervalMs?: number;
  /** How long a worker told to stop may drain before it is killed (default 60 s). */
  stopGraceMs?: number;
  /** Where the workers' output goes (default: this process's). */
  stdio?: 'inherit' | 'ignore';
  onEvent?: (event: ScalerEvent) => void;
}

/** What the scaler did. */
export type ScalerEvent =
  | { type: 'started'; pid: number }
  | { type: 'stopping'; pid: number }
  | { type: 'exited'; pid: number; code: number | null; signal: NodeJS.Signals | null; expected: boolean }
  | { type: 'error'; error: unknown };

interface Managed {
  child: ChildProcess;
  stopping: boolean;
  exited: Promise<void>;
  killTimer: NodeJS.Timeout | undefined;
}

/** Starts and stops worker processes of one pool to match a target count (bounded by the pool's min/max). */
export class LocalProcessScaler {
  private readonly options: LocalProcessScalerOptions;
  private readonly managed = new Set<Managed>();
  private timer: NodeJS.Timeout | undefined;
  private reconciling: Promise<number> | undefined;
  private stopped = false;

  constructor(options: LocalProcessScalerOptions) {
    if (options.command.length === 0) throw new OrchestratorError('BAD_COMMAND', 'the worker command is empty');
    this.options = options;
  }

  /** Workers running and not told to stop. */
  get workers(): number {
    return this.live().length;
  }

  /** Process ids of the running workers not told to stop, oldest first. */
  pids(): number[] {
    return this.live().flatMap((managed) => (managed.child.pid === undefined ? [] : [managed.child.pid]));
  }

  /** Starts or stops workers until `count` (bounded by min/max) run; returns the count aimed at. */
  async scaleTo(count: number): Promise<number> {
    if (this.stopped) throw new OrchestratorError('SCALER_STOPPED', 'the scaler was stopped');
    const { minWorkers, maxWorkers } = this.options.pool;
    const target = Math.min(maxWorkers, Math.max(minWorkers, Math.round(count)));
    while (this.live().length < target) this.launch();
    const surplus = this.live().slice(target).reverse(); // newest first
    for (const managed of surplus) this.terminate(managed);
    return target;
  }

  /** Reads the backlog, computes the desired workers and scales to them; returns that count. */
  reconcile(): Promise<number> {
    const backlog = this.options.backlog;
    if (!backlog) {
      return Promise.reject(new OrchestratorError('NO_BACKLOG', 'reconcile needs the `backlog` option'));
    }
    // One at a time: a slow backlog read must not start workers twice.
    this.reconciling ??= (async () => {
      try {
        const desired = desiredWorkers(
          this.options.pool,
          await backlog(),
          this.options.slotPools ? { slotPools: this.options.slotPools } : {},
        );
        return await this.scaleTo(desired);
      } finally {
        this.reconciling = undefined;
      }
    })();
    return this.reconciling;
  }

  /** Reconciles now and then every `intervalMs`, replacing workers that died. */
  async start(): Promise<void> {
    await this.reconcile();
    this.timer = setInterval(() => {
      this.reconcile().catch((error: unknown) => this.emit({ type: 'error', error }));
    }, this.options.intervalMs ?? 5_000);
  }

  /** Stops reconciling, tells every worker to stop and waits until all have exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.reconciling?.catch(() => {});
    for (const managed of this.managed) this.terminate(managed);
    await Promise.all([...this.managed].map((managed) => managed.exited));
  }

  private live(): Managed[] {
    return [...this.managed].filter((managed) => !managed.stopping);
  }

  private launch(): void {
    const [file, ...args] = this.options.command;
    const child = spawn(file!, args, {
      env: this.options.env ?? process.env,
      ...(this.options.cwd === undefined ? {} : { cwd: this.options.cwd }),
      stdio: this.options.stdio ?? 'inherit',
    });
    let markExited!: () => void;
    const managed: Managed = {
      child,
      stopping: false,
      exited: new Promise((resolve) => {
        markExited = resolve;
      }),
      killTimer: undefined,
    };
    this.managed.add(managed);
    child.once('error', (error) => {
      this.emit({ type: 'error', error });
      // A process that could not start never emits 'exit'.
      if (child.pid === undefined) {
        this.managed.delete(managed);
        markExited();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(managed.killTimer);
      this.managed.delete(managed);
      markExited();
      this.emit({ type: 'exited', pid: child.pid ?? -1, code, signal, expected: managed.stopping });
    });
    if (child.pid !== undefined) this.emit({ type: 'started', pid: child.pid });
  }

  private terminate(managed: Managed): void {
    if (managed.stopping) return;
    managed.stopping = true;
    if (managed.child.exitCode !== null || managed.child.signalCode !== null) return;
    managed.child.kill('SIGTERM');
    if (managed.child.pid !== undefined) this.emit({ type: 'stopping', pid: managed.child.pid });
    managed.killTimer = setTimeout(() => managed.child.kill('SIGKILL'), this.options.stopGraceMs ?? 60_000);
  }

  private emit(event: ScalerEvent): void {
    this.options.onEvent?.(event);
  }
}
