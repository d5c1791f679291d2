// The chaos: at seeded random intervals, SIGKILL, SIGSTOP/SIGCONT or SIGTERM a scheduler or a worker,
// or restart Redis (SIGKILL, down for a moment, started again on the same port and directory). The
// supervisor restarts every process that ends; killed workers are watched for shell tasks that outlive
// them (orphans). Every event goes on a timeline, so a broken invariant can be laid beside what
// preceded it.
import type { RedisServer } from '@batuta/scheduler/redis-server';
import type { Slot } from './cluster.js';
import { type MarkedProcess, markedDescendants, markedProcesses, stillAlive } from './marked-processes.js';

/** One thing that happened to a process, at ms since the soak started. */
export interface TimelineEvent {
  atMs: number;
  what: string;
}

/** Counters of the chaos, for the report. */
export interface ChaosCounts {
  kills: number;
  stops: number;
  terms: number;
  redisRestarts: number;
  hungStops: number;
}

export interface ChaosOptions {
  slots: Slot[];
  redis: RedisServer;
  random: () => number;
  marker: string;
  startedMs: number;
  /** Gap between two chaos events: uniform in [min, max] ms. */
  gapMs: [number, number];
  /** How long a SIGSTOP lasts: uniform in [min, max] ms. */
  stopMs: [number, number];
  /** How long Redis stays down: uniform in [min, max] ms. */
  redisDownMs: [number, number];
  print: (line: string) => void;
}

/** How long a shell task may outlive its dead worker before it counts as an orphan. */
const ORPHAN_GRACE_MS = 8_000;
/** How long a SIGTERMed process may take to exit (a worker drains for up to 60 s). */
const TERM_DEADLINE_MS = { scheduler: 30_000, worker: 75_000 } as const;

export class Chaos {
  readonly timeline: TimelineEvent[] = [];
  readonly counts: ChaosCounts = { kills: 0, stops: 0, terms: 0, redisRestarts: 0, hungStops: 0 };
  /** Shell tasks found alive ORPHAN_GRACE_MS after their worker ended (by pid). */
  readonly orphans = new Map<number, MarkedProcess & { workerPid: number; foundAtMs: number }>();
  private readonly options: ChaosOptions;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Last seen parent of every marked process, refreshed by `watch()`. */
  private readonly parents = new Map<number, MarkedProcess>();
  private redisOutage: Promise<void> | undefined;
  private running = false;
  /** False once shutdown begins: ended processes are no longer restarted. */
  restarting = true;

  constructor(options: ChaosOptions) {
    this.options = options;
  }

  note(what: string): void {
    const atMs = Date.now() - this.options.startedMs;
    this.timeline.push({ atMs, what });
    this.options.print(`[${(atMs / 1000).toFixed(1).padStart(6)}s] ${what}`);
  }

  /** Starts every slot's first process. */
  startAll(): void {
    for (const slot of this.options.slots) slot.start((s, code, signal) => this.ended(s, code, signal));
  }

  /** Begins the random events. */
  begin(): void {
    this.running = true;
    this.schedule();
    const watcher = setInterval(() => this.watch(), 1_000);
    this.timers.add(watcher);
  }

  /** Ends the random events; resumes stopped processes and waits for Redis to be back. */
  async end(): Promise<void> {
    this.running = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const slot of this.options.slots) if (slot.state === 'stopped') this.signal(slot, 'SIGCONT');
    await this.redisOutage;
  }

  /** Records which worker each marked process runs under (so orphans are known after the worker died). */
  watch(): void {
    const live = new Set<number>();
    for (const process of markedProcesses(this.options.marker)) {
      live.add(process.pid);
      if (process.parentPid > 1) this.parents.set(process.pid, process);
    }
    for (const pid of this.parents.keys()) if (!live.has(pid)) this.parents.delete(pid);
  }

  private random(range: [number, number]): number {
    return range[0] + this.options.random() * (range[1] - range[0]);
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }

  private schedule(): void {
    if (!this.running) return;
    this.later(this.random(this.options.gapMs), () => {
      this.step();
      this.schedule();
    });
  }

  private signal(slot: Slot, signal: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT'): void {
    const pid = slot.pid;
    if (slot.kind === 'worker' && pid !== undefined && (signal === 'SIGKILL' || signal === 'SIGTERM')) {
      for (const process of markedDescendants(pid, this.options.marker)) this.parents.set(process.pid, process);
    }
    if (slot.signal(signal)) this.note(`${signal} ${slot.name} (pid ${pid})`);
  }

  /** One random event. The draw is made whatever the processes' states, so a seed replays the same draws. */
  private step(): void {
    const draw = this.options.random();
    const which = this.options.random();
    const pick = (kind: 'scheduler' | 'worker') => {
      const candidates = this.options.slots.filter((s) => s.kind === kind && s.state === 'running');
      return candidates[Math.floor(which * candidates.length)];
    };
    const kind = draw < 0.55 ? 'worker' : 'scheduler';
    if (draw >= 0.85) {
      this.restartRedis();
      return;
    }
    const slot = pick(kind);
    if (!slot) {
      this.note(`(no running ${kind} to disturb)`);
      return;
    }
    const action = (draw < 0.55 ? draw / 0.55 : (draw - 0.55) / 0.3) * 3;
    if (action < 1.4) {
      this.counts.kills++;
      this.signal(slot, 'SIGKILL');
    } else if (action < 2.3) {
      this.counts.stops++;
      this.signal(slot, 'SIGSTOP');
      this.later(this.random(this.options.stopMs), () => {
        if (slot.state === 'stopped') this.signal(slot, 'SIGCONT');
      });
    } else {
      this.counts.terms++;
      const pid = slot.pid;
      this.signal(slot, 'SIGTERM');
      setTimeout(() => {
        if (slot.pid !== pid || slot.state !== 'terminating') return;
        this.counts.hungStops++;
        this.note(`${slot.name} (pid ${pid}) did not exit within ${TERM_DEADLINE_MS[slot.kind] / 1000} s of SIGTERM`);
        this.signal(slot, 'SIGKILL');
      }, TERM_DEADLINE_MS[slot.kind]).unref();
    }
  }

  private restartRedis(): void {
    if (this.redisOutage) {
      this.note('(Redis already down)');
      return;
    }
    this.counts.redisRestarts++;
    const downMs = this.random(this.options.redisDownMs);
    this.redisOutage = (async () => {
      await this.options.redis.kill();
      this.note(`SIGKILL redis (down for ${(downMs / 1000).toFixed(1)} s)`);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await this.options.redis.restart();
      this.note('redis started again (same port and AOF directory)');
    })().finally(() => {
      this.redisOutage = undefined;
    });
  }

  /** A process ended: look for its orphans after the grace period, and restart it (while restarting). */
  private ended(slot: Slot, code: number | null, signal: string | null): void {
    this.note(`${slot.name} exited (code ${code}, signal ${signal})`);
    const last = slot.unexpectedExits.at(-1);
    if (last && Date.now() - last.atMs < 100) this.note(`${slot.name}: exit not caused by the soak`);
    if (slot.kind === 'worker') this.checkOrphansLater(slot);
    if (!this.restarting) return;
    setTimeout(
      () => {
        if (!this.restarting || slot.state !== 'down') return;
        slot.start((s, c, sig) => this.ended(s, c, sig));
        this.note(`${slot.name} restarted (pid ${slot.pid})`);
      },
      1_000 + this.options.random() * 2_000,
    );
  }

  private checkOrphansLater(slot: Slot): void {
    const suspects = [...this.parents.values()];
    setTimeout(() => {
      for (const process of suspects) {
        if (this.orphans.has(process.pid) || !stillAlive(process, this.options.marker)) continue;
        // Only tasks whose worker is gone: a live worker's own task is not an orphan.
        const current = markedProcesses(this.options.marker).find((p) => p.pid === process.pid);
        if (current && current.parentPid > 1 && this.options.slots.some((s) => s.pid === current.parentPid)) continue;
        this.orphans.set(process.pid, { ...process, workerPid: process.parentPid, foundAtMs: Date.now() });
        this.note(
          `orphan: pid ${process.pid} (${process.attempt}) alive ${ORPHAN_GRACE_MS / 1000} s after ${slot.name} ended`,
        );
      }
    }, ORPHAN_GRACE_MS).unref();
  }
}
