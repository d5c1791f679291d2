// The leases that say which scheduler drives a run. A run's driver renews its lease; a run whose lease
// lapsed lost its driver and may be adopted (see OrphanAdopter).
import { runLeaseName, type StateStore } from '../store/state-store.js';

/** The lease that says which scheduler drives a run (named by the store, which prunes it with the run). */
export function runLease(runId: string): string {
  return runLeaseName(runId);
}

/** One scheduler's hold on the runs it drives. */
export class RunLeases {
  private readonly store: StateStore;
  private readonly schedulerId: string;
  private readonly ttlMs: number;
  /** The runs whose leases this scheduler took and has not released. */
  private readonly held = new Set<string>();

  constructor(options: { store: StateStore; schedulerId: string; ttlMs: number }) {
    this.store = options.store;
    this.schedulerId = options.schedulerId;
    this.ttlMs = options.ttlMs;
  }

  /** Takes (or renews) the lease of a run; false when another scheduler holds it. */
  async acquire(runId: string, nowMs: number): Promise<boolean> {
    const taken = await this.store.acquireLease(runLease(runId), this.schedulerId, this.ttlMs, nowMs);
    if (taken) this.held.add(runId);
    return taken;
  }

  /** Who drives a run now, if anyone. */
  ownerOf(runId: string, nowMs: number): Promise<string | undefined> {
    return this.store.getLeaseOwner(runLease(runId), nowMs);
  }

  /**
   * Renews the leases of `runIds` all at once, not one round trip after another: a pass holding hundreds
   * of runs would otherwise take long enough to hold up the next fire (one pass at a time). A run renewed
   * earlier and not driven now has ended (or was handed off): its lease is released, so the key goes at once
   * instead of staying in the store for ever.
   */
  async renew(runIds: readonly string[], nowMs: number): Promise<void> {
    const current = new Set(runIds);
    const ended = [...this.held].filter((runId) => !current.has(runId));
    await Promise.all([...runIds.map((runId) => this.acquire(runId, nowMs)), this.release(ended)]);
  }

  /** Lets go of the leases of `runIds`, so another scheduler may adopt them at once. */
  async release(runIds: readonly string[]): Promise<void> {
    for (const runId of runIds) this.held.delete(runId);
    await Promise.all(runIds.map((runId) => this.store.releaseLease(runLease(runId), this.schedulerId)));
  }
}
