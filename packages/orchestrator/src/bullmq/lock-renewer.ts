// Keeps the locks of the jobs a worker runs, as BullMQ's own LockManager does for its processor: every
// half lock duration, one call extends them all. A lock that could not be extended means another worker
// may already hold the job or report it lost; the worker hears of it and reports nothing more for it.

/** How a LockRenewer is set up. */
export interface LockRenewerOptions {
  /** How long a renewed lock lasts; renewals run every half of it. */
  lockDurationMs: number;
  /** Extends the locks of `jobIds` held with `tokens`; resolves with the ids it could not extend. */
  extend: (jobIds: string[], tokens: string[], durationMs: number) => Promise<string[]>;
  /** A tracked job's lock was not ours any more; it is no longer tracked. */
  onLost: (jobId: string) => void;
  onError: (error: unknown) => void;
}

interface Held {
  readonly token: string;
  /** Leases held beside the lock (slot-pool slots), renewed with it. */
  readonly renewAlso: (() => Promise<void>) | undefined;
}

/** Renews the locks of the jobs it tracks until they are untracked or it stops. */
export class LockRenewer {
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LockRenewerOptions) {}

  /** Starts renewing. */
  start(): void {
    this.timer ??= setInterval(() => void this.renew(), Math.max(10, this.options.lockDurationMs / 2));
  }

  /** Stops renewing; tracked locks expire on their own. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Renews the lock of `jobId` (held with `token`) from now on, and runs `renewAlso` each time. */
  track(jobId: string, token: string, renewAlso?: () => Promise<void>): void {
    this.held.set(jobId, { token, renewAlso });
  }

  /** Stops renewing the lock of `jobId`. */
  untrack(jobId: string): void {
    this.held.delete(jobId);
  }

  /** One renewal of every tracked lock (the timer calls it; tests may too). */
  async renew(): Promise<void> {
    const entries = [...this.held.entries()];
    if (entries.length === 0) return;
    let lost = new Set<string>();
    try {
      const failed = await this.options.extend(
        entries.map(([jobId]) => jobId),
        entries.map(([, held]) => held.token),
        this.options.lockDurationMs,
      );
      lost = new Set(failed);
    } catch (error) {
      this.options.onError(error);
    }
    for (const [jobId, held] of entries) {
      if (lost.has(jobId)) {
        if (this.held.get(jobId) !== held) continue;
        this.held.delete(jobId);
        this.options.onLost(jobId);
      } else {
        held.renewAlso?.().catch((error: unknown) => this.options.onError(error));
      }
    }
  }
}
