// A model's rollout state as its readers see it: read from the store at most once per `refreshMs`
// (a batch of lookups or requests reads it once, not once per key), on an injected clock.
import type { RolloutStore, StoredRollout } from './rollout-store.js';

/** The rollout state, reread when older than `refreshMs` (0: every call). */
export class CachedRollout {
  private cached: { state: StoredRollout | undefined; readMs: number } | undefined;

  constructor(
    private readonly store: RolloutStore,
    private readonly refreshMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The state (undefined when the model never had a rollout). */
  async get(): Promise<StoredRollout | undefined> {
    const nowMs = this.now();
    if (this.cached && nowMs - this.cached.readMs < this.refreshMs) return this.cached.state;
    const found = await this.store.read();
    this.cached = { state: found?.rollout, readMs: nowMs };
    return found?.rollout;
  }

  /** Forgets the state, so the next `get` reads it. */
  forget(): void {
    this.cached = undefined;
  }
}
