// The soak's processes: `batuta scheduler` and `batuta worker` processes run from the sources (through
// tsx), each in a named slot that the chaos signals and the supervisor restarts. Every process appends
// its JSON log to a file per slot, beside a line of ours saying which incarnation starts.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
/** The launcher that runs the CLI's sources; tsx maps @batuta/* to src/ through tsconfig.tests.json. */
export const batutaSource = join(root, 'soak', 'support', 'batuta-source.ts');
/** The environment that makes tsx read @batuta/* from the packages' sources. */
export const sourceEnv = { TSX_TSCONFIG_PATH: join(root, 'tsconfig.tests.json') };

/** Spawns `batuta ARGS` from the sources with `env` added, stdout and stderr appended to `logFile`. */
export function spawnBatuta(args: string[], env: Record<string, string>, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn(process.execPath, ['--import', 'tsx', batutaSource, ...args], {
      cwd: root,
      env: { ...process.env, ...sourceEnv, ...env },
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
}

/** What a slot's process is doing, as far as the harness knows. */
export type SlotState = 'running' | 'stopped' | 'terminating' | 'down';

/** One long-lived role (scheduler a, worker 2 …): at most one process at a time, restarted when asked. */
export class Slot {
  readonly name: string;
  readonly kind: 'scheduler' | 'worker';
  state: SlotState = 'down';
  child: ChildProcess | undefined;
  incarnation = 0;
  /** Exits the harness did not cause (no signal of ours, or a code other than 0 after SIGTERM). */
  readonly unexpectedExits: Array<{ atMs: number; pid: number; code: number | null; signal: string | null }> = [];
  private readonly args: string[];
  private readonly env: Record<string, string>;
  private readonly logFile: string;
  private expectingExit = false;

  constructor(name: string, kind: 'scheduler' | 'worker', args: string[], env: Record<string, string>, dir: string) {
    this.name = name;
    this.kind = kind;
    this.args = args;
    this.env = env;
    this.logFile = join(dir, `${name}.log`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get log(): string {
    return this.logFile;
  }

  /** Starts a new incarnation; `onExit` hears of its end (whoever caused it). */
  start(onExit: (slot: Slot, code: number | null, signal: string | null) => void): void {
    this.incarnation++;
    appendFileSync(
      this.logFile,
      `# soak: ${this.name} incarnation ${this.incarnation} at ${new Date().toISOString()}\n`,
    );
    const child = spawnBatuta(this.args, this.env, this.logFile);
    this.child = child;
    this.state = 'running';
    this.expectingExit = false;
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      const expected = this.expectingExit && (signal !== null || code === 0);
      if (!expected) this.unexpectedExits.push({ atMs: Date.now(), pid: child.pid ?? -1, code, signal });
      this.state = 'down';
      this.child = undefined;
      onExit(this, code, signal);
    });
  }

  /** Sends `signal` to the current process (if any); SIGKILL and SIGTERM announce an exit. */
  signal(signal: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT'): boolean {
    const child = this.child;
    if (!child || child.pid === undefined) return false;
    if (signal === 'SIGKILL' || signal === 'SIGTERM') this.expectingExit = true;
    try {
      process.kill(child.pid, signal);
    } catch {
      return false;
    }
    if (signal === 'SIGSTOP') this.state = 'stopped';
    if (signal === 'SIGCONT' && this.state === 'stopped') this.state = 'running';
    if (signal === 'SIGTERM') this.state = 'terminating';
    return true;
  }

  /** Resolves when the current process has exited (at once when there is none). */
  exited(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => child.once('exit', () => resolve()));
  }
}
