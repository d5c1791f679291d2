// The schedulers sharing one store, as this one sees them (ADR 008): ids announced on the schedulers
// stream whose lease is held. Shares only order the work (every scheduler still tries every due run), so
// a stale view costs time, never runs.
import type { StateStore } from '../store/state-store.js';
import { type FireShares, isInShare } from '../triggers/fire-shares.js';

/** The stream schedulers announce themselves on (for `batuta status`). */
export const SCHEDULERS_STREAM = 'schedulers';

/** The lease a live scheduler renews (its heartbeat). */
export function schedulerLease(schedulerId: string): string {
  return `scheduler:${schedulerId}`;
}

/** Announced schedulers not seen alive for this many lease lifetimes are forgotten (a restart re-announces). */
const FORGET_AFTER_LEASES = 10;

/** Events read from the schedulers stream per round trip. */
const PAGE = 1_000;

export interface PeerDirectoryOptions {
  store: StateStore;
  schedulerId: string;
  /** How long a scheduler counts as alive after its last heartbeat. */
  leaseTtlMs: number;
  /** How long after a fire this scheduler defers the runs of other shares (see FireShares). */
  shareGraceMs: number;
}

/** This scheduler's heartbeat, and the live schedulers it splits the DAGs with. */
export class PeerDirectory {
  private readonly store: StateStore;
  private readonly schedulerId: string;
  private readonly leaseTtlMs: number;
  private readonly shareGraceMs: number;
  private cursor: string | undefined;
  /** Every announced scheduler not yet forgotten, with when it was last seen alive. */
  private readonly lastAliveMs = new Map<string, number>();
  private live: string[] = [];
  /** Runs whose leases a stopping peer handed over, not yet taken by `takeReleased`. */
  private released: string[] = [];

  constructor(options: PeerDirectoryOptions) {
    this.store = options.store;
    this.schedulerId = options.schedulerId;
    this.leaseTtlMs = options.leaseTtlMs;
    this.shareGraceMs = options.shareGraceMs;
  }

  /** Tells the other schedulers this one exists (they see it alive once its lease is held). */
  async announce(nowMs: number): Promise<void> {
    await this.store.appendEvent(SCHEDULERS_STREAM, 'scheduler-started', { schedulerId: this.schedulerId }, nowMs);
  }

  /** Renews this scheduler's lease, then looks again at who else is alive. */
  async heartbeat(nowMs: number): Promise<void> {
    await this.store.acquireLease(schedulerLease(this.schedulerId), this.schedulerId, this.leaseTtlMs, nowMs);
    await this.refresh(nowMs);
  }

  /**
   * Lets go of this scheduler's lease and tells the others which runs' leases it released: they read the
   * stream every pass, so they adopt those runs at once instead of waiting for lapsed leases.
   */
  async leave(releasedRunIds: readonly string[], nowMs: number): Promise<void> {
    await this.store.releaseLease(schedulerLease(this.schedulerId), this.schedulerId);
    await this.store.appendEvent(
      SCHEDULERS_STREAM,
      'scheduler-stopped',
      { schedulerId: this.schedulerId, runIds: [...releasedRunIds] },
      nowMs,
    );
  }

  /** Reads what the schedulers stream says since the last read (one round trip when nothing is new). */
  async readAnnouncements(nowMs: number): Promise<void> {
    for (;;) {
      const page = await this.store.readEvents(SCHEDULERS_STREAM, this.cursor, PAGE);
      for (const event of page) {
        this.cursor = event.id;
        const payload = event.payload as { schedulerId?: unknown; runIds?: unknown } | null;
        const id = payload?.schedulerId;
        if (typeof id !== 'string' || id === this.schedulerId) {
          if (typeof id === 'string' && !this.lastAliveMs.has(id)) this.lastAliveMs.set(id, nowMs);
          continue;
        }
        if (event.type === 'scheduler-stopped') {
          // Gone on purpose: its share is taken back now rather than when its lease would have lapsed.
          this.live = this.live.filter((live) => live !== id);
          if (Array.isArray(payload?.runIds)) {
            for (const runId of payload.runIds) if (typeof runId === 'string') this.released.push(runId);
          }
        } else if (!this.lastAliveMs.has(id)) {
          this.lastAliveMs.set(id, nowMs);
        }
      }
      if (page.length < PAGE) break;
    }
  }

  /** The runs stopping peers handed over since the last call. */
  takeReleased(): string[] {
    const released = this.released;
    this.released = [];
    return released;
  }

  /**
   * Reads which schedulers are alive: new announcements, then whose lease is held. A scheduler that died
   * is seen gone once its lease lapses.
   */
  async refresh(nowMs: number): Promise<void> {
    await this.readAnnouncements(nowMs);
    const ids = [...this.lastAliveMs.keys()];
    const owners = await Promise.all(ids.map((id) => this.store.getLeaseOwner(schedulerLease(id), nowMs)));
    const live: string[] = [this.schedulerId];
    ids.forEach((id, index) => {
      if (owners[index] === id) {
        this.lastAliveMs.set(id, nowMs);
        if (id !== this.schedulerId) live.push(id);
      } else if (nowMs - (this.lastAliveMs.get(id) ?? nowMs) > FORGET_AFTER_LEASES * this.leaseTtlMs) {
        this.lastAliveMs.delete(id); // long gone: without this, every scheduler ever started is asked forever
      }
    });
    this.live = live.sort();
  }

  /** The live schedulers as last seen (this one included), sorted by id. */
  liveSchedulers(): readonly string[] {
    return this.live.length > 0 ? this.live : [this.schedulerId];
  }

  /** How many announced schedulers are remembered (live or not yet forgotten). */
  get knownCount(): number {
    return this.lastAliveMs.size;
  }

  /** This scheduler's view of the split, for the fire planner. */
  shares(): FireShares {
    return { schedulerId: this.schedulerId, live: this.live, graceMs: this.shareGraceMs };
  }

  /** True when `dagId` falls in this scheduler's share (every DAG when it is alone). */
  isMine(dagId: string): boolean {
    return isInShare(dagId, this.shares());
  }
}
