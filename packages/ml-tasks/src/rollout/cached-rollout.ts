// A model's rollout state as its readers see it: read from the store at most once per `refreshMs`
// (a batch of lookups or requests reads it once, not once per key), on an injected clock. With
// `background`, a reader that keeps asking (a busy model server) is answered from the state read a
// moment ago while a fresh one is read, so none of its requests waits on Redis; after a quiet spell
// (3× `refreshMs`) the next one waits, so a state is never served long after its refresh time.
import type { RolloutStore, StoredRollout } from './rollout-store.js';

export interface CachedRolloutOptions {
  /** Reread in the background while the cached state is less than 3× `refreshMs` old. */
  background?: boolean;
  /** A background read that failed (the last state keeps answering). */
  onReadError?: (error: unknown) => void;
}

/** The rollout state, reread when older than `refreshMs` (0: every call). */
export class CachedRollout {
  private cached: { state: StoredRollout | undefined; readMs: number } | undefined;
  private reading: Promise<StoredRollout | undefined> | undefined;

  constructor(
    private readonly store: RolloutStore,
    private readonly refreshMs = 1_000,
    private readonly now: () => number = Date.now,
    private readonly options: CachedRolloutOptions = {},
  ) {}

  /** The state (undefined when the model never had a rollout). */
  async get(): Promise<StoredRollout | undefined> {
    // A cached "no rollout" is an answer too: only no usable cache reads.
    const cached = this.peek();
    return cached ? cached.state : this.read();
  }

  /**
   * What `get` would answer without waiting: `{ state }` when the cached state is fresh (or, in the
   * background mode, recent enough to answer while it is reread — that read is started here too), else
   * undefined (then call `get`). For a server's hot path, without a promise.
   */
  peek(): { state: StoredRollout | undefined } | undefined {
    const cached = this.cached;
    if (!cached) return undefined;
    const ageMs = this.now() - cached.readMs;
    if (ageMs < this.refreshMs) return cached;
    if (this.options.background && this.refreshMs > 0 && ageMs < 3 * this.refreshMs) {
      void this.read().catch((error: unknown) => this.options.onReadError?.(error));
      return cached;
    }
    return undefined;
  }

  /** Forgets the state, so the next `get` reads it. */
  forget(): void {
    this.cached = undefined;
  }

  /** Reads the state; concurrent callers share one read. */
  private read(): Promise<StoredRollout | undefined> {
    if (this.reading) return this.reading;
    const readMs = this.now();
    this.reading = this.store
      .read()
      .then((found) => {
        this.cached = { state: found?.rollout, readMs };
        return found?.rollout;
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
}
