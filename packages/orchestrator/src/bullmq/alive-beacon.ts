// A worker's "I am alive" key, refreshed well within its time to live. The executor reads it before it
// settles WORKER_LOST for an attempt whose lock was lost: a worker whose key exists may only have been
// cut off from Redis and may still deliver the attempt's report; one whose key expired is really gone.
import type { Redis } from 'ioredis';
import { workerAliveKey } from './keys.js';

/** How long a worker's alive key lasts unless refreshed (default of `aliveTtlMs` on worker and executor). */
export const DEFAULT_ALIVE_TTL_MS = 10_000;

/** How long a lost lock is forgiven, in case Redis was only away (default of `outageGraceMs`): 5 minutes. */
export const DEFAULT_OUTAGE_GRACE_MS = 300_000;

/** Refreshes one worker's alive key every third of its time to live. */
export class AliveBeacon {
  private readonly key: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    namespace: string,
    private readonly workerName: string,
    private readonly ttlMs: number,
  ) {
    this.key = workerAliveKey(namespace, workerName);
  }

  /** Writes the key now and keeps refreshing it. */
  start(): void {
    this.refresh();
    this.timer ??= setInterval(() => this.refresh(), Math.max(10, Math.floor(this.ttlMs / 3)));
  }

  /** Stops refreshing and deletes the key, so executors know at once that this worker is gone. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.redis.del(this.key).catch(() => {});
  }

  private refresh(): void {
    // A refused refresh (Redis away) is not an error worth a report: the connection reports the outage,
    // and the next tick after Redis is back writes the key again.
    this.redis.set(this.key, this.workerName, 'PX', this.ttlMs).catch(() => {});
  }
}
