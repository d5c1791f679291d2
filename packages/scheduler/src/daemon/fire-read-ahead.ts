// What a fire needs to know besides the clock, read ahead of it: which DAGs are paused and how many runs
// each has in flight (one listing for all). A fire then costs one store write per run, and the runs of
// the deferred shares, created a grace later, are decided on the same figures.
import type { DagSpec } from '../dag/model.js';
import type { StateStore } from '../store/state-store.js';
import type { FireCounts } from '../triggers/fire-planner.js';

/** The pause flags and in-flight counts as last read, and when. */
export class FireReadAhead {
  private readonly store: StateStore;
  private readMs = Number.NEGATIVE_INFINITY;
  private active = new Map<string, number>();
  private paused = new Map<string, boolean>();

  constructor(options: { store: StateStore }) {
    this.store = options.store;
  }

  /** When the figures were last read (−Infinity before the first read). */
  get atMs(): number {
    return this.readMs;
  }

  /** Reads the in-flight counts of every DAG and the pause flags of `dags`, replacing the last read. */
  async read(dags: readonly DagSpec[], nowMs: number): Promise<void> {
    const active = new Map<string, number>();
    for (const run of await this.store.listRuns({ states: ['queued', 'running'] })) {
      active.set(run.dagId, (active.get(run.dagId) ?? 0) + 1);
    }
    const flags = await Promise.all(dags.map((dag) => this.store.isDagPaused(dag.id)));
    this.paused = new Map(dags.map((dag, i) => [dag.id, flags[i] === true]));
    this.active = active;
    this.readMs = nowMs;
  }

  /**
   * The figures for a fire of `due`: a DAG whose pause flag was not read ahead (it was not about to fire)
   * is asked now.
   */
  async countsFor(due: readonly DagSpec[]): Promise<FireCounts> {
    const missing = due.filter((dag) => !this.paused.has(dag.id));
    if (missing.length === 0) return { active: this.active, paused: this.paused };
    const paused = new Map(this.paused);
    const flags = await Promise.all(missing.map((dag) => this.store.isDagPaused(dag.id)));
    for (const [i, dag] of missing.entries()) paused.set(dag.id, flags[i] === true);
    return { active: this.active, paused };
  }

  /**
   * Counts a run the fire created (or found created by a peer) as in flight: the figures serve the next
   * passes too (catchup asks again each poll), and maxActiveRuns must hold across them.
   */
  countActive(dagId: string): void {
    this.active.set(dagId, (this.active.get(dagId) ?? 0) + 1);
  }
}
