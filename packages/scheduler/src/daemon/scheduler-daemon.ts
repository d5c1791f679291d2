// The scheduler daemon: turns time, event and dataset triggers into DAG runs exactly once, starts
// queued runs (manual triggers, events, datasets) as run slots free up, and adopts runs whose driver
// died. Several daemons may share one store: run ids are deterministic and creation is idempotent,
// starting a queued run is a guarded transition, and each driven run is held under a lease.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { DagSpec } from '../dag/model.js';
import { resolveParams } from '../dag/params.js';
import { datasetStream, type RunCoordinator, type RunRequest } from '../runner/run-coordinator.js';
import type { DagRunRecord, StateStore } from '../store/state-store.js';
import { type DatasetUpdate, datasetRunsDue } from '../triggers/datasets.js';
import { eventRunId } from '../triggers/run-ids.js';
import { dueRuns, Timetable } from '../triggers/timetable.js';
import { fnv1a32 } from '../util/fnv1a.js';

/** One structured log event (the CLI prints one JSON line each). */
export interface SchedulerLogEvent {
  event: string;
  level?: 'info' | 'warn' | 'error';
  [field: string]: unknown;
}

export interface SchedulerDaemonOptions {
  store: StateStore;
  coordinator: RunCoordinator;
  /** The DAGs to schedule now (re-read on every pass, so reloads take effect at once). */
  dags: () => ReadonlyMap<string, DagSpec>;
  clock?: Clock;
  /** Unique per process; default a random id. */
  schedulerId?: string;
  /** How often queued runs, events, datasets and leases are looked at (the safety net). Default 200 ms. */
  pollMs?: number;
  /** How long a run stays owned without renewal. Default 15 s. */
  leaseTtlMs?: number;
  /**
   * How long after a fire this scheduler waits before creating the runs of DAGs in another live scheduler's
   * share (which that scheduler has normally created by then). Default: 2 × pollMs, at least 250 ms.
   */
  shareGraceMs?: number;
  /** Called every `reloadMs` (e.g. DagFolder.scan). */
  reload?: () => Promise<void>;
  reloadMs?: number;
  log?: (event: SchedulerLogEvent) => void;
}

/** No poll starts within this long before a fire (see arm). */
const FIRE_GUARD_MS = 100;

/** Runs of one fire started at once (see fireTimeSchedules). */
const START_CONCURRENCY = 16;

/** The stream an event named `name` is published to. */
export function eventStream(name: string): string {
  return `event:${name}`;
}

/** The lease that says which scheduler drives a run. */
export function runLease(runId: string): string {
  return `run:${runId}`;
}

/** The lease a live scheduler renews (its heartbeat). */
export function schedulerLease(schedulerId: string): string {
  return `scheduler:${schedulerId}`;
}

/** The stream schedulers announce themselves on (for `batuta status`). */
export const SCHEDULERS_STREAM = 'schedulers';
/** The stream the CLI asks daemons through (cancel a run…). */
export const CONTROL_STREAM = 'control';

interface TimeState {
  lastFireMs: number | undefined;
  nextFireMs: number | undefined;
}

/** The daemon. `start()` runs until `stop()`. */
export class SchedulerDaemon {
  readonly schedulerId: string;
  private readonly store: StateStore;
  private readonly coordinator: RunCoordinator;
  private readonly dags: () => ReadonlyMap<string, DagSpec>;
  private readonly clock: Clock;
  private readonly pollMs: number;
  private readonly leaseTtlMs: number;
  private readonly shareGraceMs: number;
  private readonly reload: (() => Promise<void>) | undefined;
  private readonly reloadMs: number;
  private readonly log: (event: SchedulerLogEvent) => void;
  private readonly time = new Map<string, TimeState>();
  private readonly cursors = new Map<string, string | undefined>();
  private readonly latestDatasetUpdates = new Map<string, DatasetUpdate>();
  private readonly consumed = new Map<string, Record<string, string>>();
  private running = false;
  private cancelTimer: (() => void) | undefined;
  private passing: Promise<void> | undefined;
  private lastReloadMs = Number.NEGATIVE_INFINITY;
  private lastAdoptMs = Number.NEGATIVE_INFINITY;
  private lastLeaseMs = Number.NEGATIVE_INFINITY;
  /** Lateness of created scheduled runs (ms from fire time to the run's createdMs), for benchmarks. */
  readonly lateness: number[] = [];
  /** Per scheduled run this scheduler created: ms from fire time until the store confirmed the creation. */
  readonly confirmedLateness: Array<{ logicalDateMs: number; ms: number }> = [];

  constructor(options: SchedulerDaemonOptions) {
    this.store = options.store;
    this.coordinator = options.coordinator;
    this.dags = options.dags;
    this.clock = options.clock ?? systemClock;
    this.schedulerId = options.schedulerId ?? `scheduler-${randomUUID().slice(0, 8)}`;
    this.pollMs = options.pollMs ?? 200;
    this.leaseTtlMs = options.leaseTtlMs ?? 15_000;
    this.shareGraceMs = options.shareGraceMs ?? Math.max(250, 2 * this.pollMs);
    this.reload = options.reload;
    this.reloadMs = options.reloadMs ?? 2_000;
    this.log = options.log ?? (() => {});
  }

  /** Starts the loop: one pass now, then at every fire time and every `pollMs`. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.coordinator.start();
    await this.store.appendEvent(
      SCHEDULERS_STREAM,
      'scheduler-started',
      { schedulerId: this.schedulerId },
      this.clock.now(),
    );
    this.log({ event: 'scheduler_started', schedulerId: this.schedulerId });
    await this.pass();
  }

  /** Stops the loop; runs in flight keep their state in the store and are adopted by another daemon. */
  async stop(): Promise<void> {
    this.running = false;
    this.cancelTimer?.();
    await this.passing;
    const now = this.clock.now();
    await Promise.all(
      this.coordinator.activeRunIds().map((runId) => this.store.releaseLease(runLease(runId), this.schedulerId)),
    );
    await this.store.releaseLease(schedulerLease(this.schedulerId), this.schedulerId);
    this.log({ event: 'scheduler_stopped', schedulerId: this.schedulerId, atMs: now });
  }

  /** Stops without releasing anything: what a killed process leaves behind (leases lapse on their own). */
  halt(): void {
    this.running = false;
    this.cancelTimer?.();
  }

  /** One pass over every trigger; exposed for tests driving a ManualClock. */
  async pass(): Promise<void> {
    if (this.passing) return this.passing;
    this.passing = this.runPass().finally(() => {
      this.passing = undefined;
    });
    return this.passing;
  }

  private async runPass(): Promise<void> {
    const now = this.clock.now();
    try {
      // Fires first: a run's creation is what its fire time promises; a folder rescan can wait a few ms.
      // A failed fire must not cost the rest of the pass: skipped lease renewals would let another
      // scheduler adopt runs this one still drives.
      await this.fireTimeSchedules(this.dags(), now).catch((error: unknown) => {
        this.log({ event: 'scheduler_fire_failed', level: 'error', message: (error as Error).message });
      });
      if (this.reload && now - this.lastReloadMs >= this.reloadMs) {
        this.lastReloadMs = now;
        await this.reload();
      }
      const dags = this.dags();
      await this.renewLeases(now);
      await this.readControl();
      await this.readEvents(dags, now);
      await this.readDatasets(dags, now);
      await this.startQueuedRuns(dags);
      if (now - this.lastAdoptMs >= this.leaseTtlMs / 3) {
        this.lastAdoptMs = now;
        await this.adoptOrphans(dags, now);
      }
    } catch (error) {
      this.log({ event: 'scheduler_pass_failed', level: 'error', message: (error as Error).message });
    }
    this.arm();
  }

  /** Sleeps until the next fire time or the next poll, whichever comes first. */
  private arm(): void {
    if (!this.running) return;
    const now = this.clock.now();
    let nextDue = Number.POSITIVE_INFINITY;
    for (const [dagId, state] of this.time) {
      const due = this.dueAtMs(dagId, state);
      if (due !== undefined && due < nextDue) nextDue = due;
    }
    // A poll that would start just before a fire could still be running at the fire time, and the fire
    // would wait for it (a pass at a time): sleep straight through to the fire instead.
    let wake = now + this.pollMs;
    if (nextDue <= wake + FIRE_GUARD_MS) wake = nextDue;
    this.cancelTimer?.();
    this.cancelTimer = this.clock.setTimer(Math.max(now, wake), () => void this.pass());
  }

  private async renewLeases(now: number): Promise<void> {
    if (now - this.lastLeaseMs < this.leaseTtlMs / 3) return;
    this.lastLeaseMs = now;
    await this.store.acquireLease(schedulerLease(this.schedulerId), this.schedulerId, this.leaseTtlMs, now);
    await this.refreshPeers(now);
    // All at once, not one round trip after another: a pass holding hundreds of runs would otherwise take
    // long enough to hold up the next fire (one pass at a time).
    await Promise.all(
      this.coordinator
        .activeRunIds()
        .map((runId) => this.store.acquireLease(runLease(runId), this.schedulerId, this.leaseTtlMs, now)),
    );
  }

  /** Cancel requests from `batuta dags cancel`: the daemon driving the run stops it. */
  private async readControl(): Promise<void> {
    const events = await this.store.readEvents(CONTROL_STREAM, this.cursors.get(CONTROL_STREAM), 1_000);
    for (const event of events) {
      this.cursors.set(CONTROL_STREAM, event.id);
      const request = event.payload as { runId?: string; reason?: string } | null;
      if (event.type !== 'cancel' || !request?.runId) continue;
      if (await this.coordinator.cancelRun(request.runId, request.reason ?? 'cancelled by user')) {
        this.log({ event: 'run_cancelled', runId: request.runId });
      }
    }
  }

  private async fireTimeSchedules(dags: ReadonlyMap<string, DagSpec>, now: number): Promise<void> {
    const due: DagSpec[] = [];
    for (const dag of dags.values()) {
      const schedule = dag.schedule;
      const timed =
        schedule?.kind === 'cron' ||
        schedule?.kind === 'every' ||
        schedule?.kind === 'once' ||
        (schedule?.kind === 'datasets' && schedule.orCron !== undefined);
      if (!timed) {
        this.time.delete(dag.id);
        continue;
      }
      const state = this.time.get(dag.id);
      const dueAt = state === undefined ? now : this.dueAtMs(dag.id, state);
      if (dueAt !== undefined && dueAt <= now) due.push(dag);
    }
    // A DAG removed from the folder (or renamed) leaves its timetable behind: forget it, or arm() would
    // wake at once, forever, for a fire no DAG has.
    for (const dagId of this.time.keys()) if (!dags.has(dagId)) this.time.delete(dagId);
    if (due.length === 0) {
      await this.prefetch(dags, now);
      return;
    }
    const firstSeen = due.filter((dag) => !this.time.has(dag.id));
    await Promise.all(
      firstSeen.map(async (dag) => {
        this.time.set(dag.id, { lastFireMs: await this.lastScheduledFire(dag.id), nextFireMs: undefined });
      }),
    );
    // What was read ahead of the fire serves every DAG due at that fire, the other shares' included.
    const earliestFire = Math.min(...due.map((dag) => this.time.get(dag.id)?.nextFireMs ?? now));
    if (this.prefetched.atMs < earliestFire - 2 * this.pollMs) await this.prefetch(dags, now, true);
    const { active, paused } = this.prefetched;
    // Create every due run first, then start them: creation is what the fire time promises. The DAGs are
    // shared among the live schedulers: each creates its own share at the fire time, and the others'
    // shares only `shareGraceMs` later (see dueAtMs), when a live peer has created them (RUN_EXISTS) and a
    // dead one has not, so they are created then. Two schedulers never race for the same runs.
    let created: Array<{ dag: DagSpec; run: DagRunRecord }>;
    try {
      created = await this.createDueRuns(due, now, active, paused);
    } catch (error) {
      // A DAG seen for the first time has no next fire yet: forget it, so the next pass plans it afresh
      // (the others keep a due next fire and are retried as they are).
      for (const dag of firstSeen) this.time.delete(dag.id);
      throw error;
    }
    this.log({
      event: 'fire',
      fireMs: earliestFire,
      dagsDue: due.length,
      runsCreated: created.length,
      passLateMs: now - earliestFire,
      createMs: this.clock.now() - now,
    });
    // Start them a few at a time: a burst of hundreds of first transitions would queue in Redis ahead of
    // the fire's creations by other schedulers; a few at a time lets those through between them.
    let next = 0;
    const starter = async () => {
      while (next < created.length) {
        const { dag, run } = created[next++]!;
        await this.store.acquireLease(runLease(run.runId), this.schedulerId, this.leaseTtlMs, this.clock.now());
        await this.coordinator.beginRun(dag, run);
      }
    };
    await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, created.length) }, starter));
  }

  /** The live schedulers as this one last saw them (itself included), sorted by id. */
  liveSchedulers(): readonly string[] {
    return this.peers.live.length > 0 ? this.peers.live : [this.schedulerId];
  }

  /** True when `dagId` falls in this scheduler's share of the live schedulers (all of them when alone). */
  isMyShare(dagId: string): boolean {
    const live = this.peers.live;
    if (live.length <= 1) return true;
    return fnv1a32(dagId) % live.length === live.indexOf(this.schedulerId);
  }

  /** When `dagId` is next due here: its fire time, or `shareGraceMs` later outside this scheduler's share. */
  private dueAtMs(dagId: string, state: TimeState): number | undefined {
    if (state.nextFireMs === undefined) return undefined;
    return this.isMyShare(dagId) ? state.nextFireMs : state.nextFireMs + this.shareGraceMs;
  }

  /**
   * Which schedulers are alive: those announced on the schedulers stream whose lease is held. Read ahead of
   * every fire and with each lease renewal; a scheduler that died is seen once its lease lapses. Shares
   * only order the work: every scheduler still tries every due run, so a stale view costs time, not runs.
   */
  private async refreshPeers(now: number): Promise<void> {
    for (;;) {
      const page = await this.store.readEvents(SCHEDULERS_STREAM, this.peers.cursor, 1_000);
      for (const event of page) {
        this.peers.cursor = event.id;
        const id = (event.payload as { schedulerId?: unknown } | null)?.schedulerId;
        if (typeof id === 'string' && !this.peers.lastAliveMs.has(id)) this.peers.lastAliveMs.set(id, now);
      }
      if (page.length < 1_000) break;
    }
    const ids = [...this.peers.lastAliveMs.keys()];
    const owners = await Promise.all(ids.map((id) => this.store.getLeaseOwner(schedulerLease(id), now)));
    const live: string[] = [this.schedulerId];
    ids.forEach((id, index) => {
      if (owners[index] === id) {
        this.peers.lastAliveMs.set(id, now);
        if (id !== this.schedulerId) live.push(id);
      } else if (now - (this.peers.lastAliveMs.get(id) ?? now) > 10 * this.leaseTtlMs) {
        this.peers.lastAliveMs.delete(id); // long gone; a restart announces itself again
      }
    });
    this.peers.live = live.sort();
  }

  private readonly peers = {
    cursor: undefined as string | undefined,
    lastAliveMs: new Map<string, number>(),
    live: [] as string[],
  };

  /**
   * Reads, ahead of the fire times coming within two polls, which DAGs are paused and how many runs each
   * has in flight (one listing for all), so a fire costs one store write per run. A pause or a run
   * started less than two polls before a fire may be seen one fire late.
   */
  private async prefetch(dags: ReadonlyMap<string, DagSpec>, now: number, force = false): Promise<void> {
    const horizon = now + 2 * this.pollMs;
    const wanted = [...dags.values()].filter((dag) => {
      if (force) return true;
      const state = this.time.get(dag.id);
      return state !== undefined && state.nextFireMs !== undefined && state.nextFireMs <= horizon;
    });
    if (wanted.length === 0) return;
    await this.refreshPeers(now); // so the fire's shares follow the schedulers alive now
    const active = new Map<string, number>();
    for (const run of await this.store.listRuns({ states: ['queued', 'running'] })) {
      active.set(run.dagId, (active.get(run.dagId) ?? 0) + 1);
    }
    const flags = await Promise.all(wanted.map((dag) => this.store.isDagPaused(dag.id)));
    const paused = new Map(wanted.map((dag, i) => [dag.id, flags[i] === true]));
    this.prefetched = { atMs: now, active, paused };
  }

  private prefetched: { atMs: number; active: Map<string, number>; paused: Map<string, boolean> } = {
    atMs: Number.NEGATIVE_INFINITY,
    active: new Map(),
    paused: new Map(),
  };

  /**
   * Creates the due runs of `dags` in one store call and advances their timetables; returns the runs this
   * scheduler created (RUN_EXISTS: another scheduler created it first). A run that cannot be built (its
   * DAG's params need a value no schedule gives) is recorded as a failed run, not retried every poll.
   */
  private async createDueRuns(
    dags: readonly DagSpec[],
    now: number,
    active: ReadonlyMap<string, number>,
    paused: ReadonlyMap<string, boolean>,
  ): Promise<Array<{ dag: DagSpec; run: DagRunRecord }>> {
    const requests: Array<{ dag: DagSpec; request: RunRequest }> = [];
    const owedByDag = new Map<string, boolean>();
    for (const dag of dags) {
      const state = this.time.get(dag.id)!;
      const timetable = Timetable.of(dag);
      if (paused.get(dag.id) ?? (await this.store.isDagPaused(dag.id))) {
        // Paused: nothing is created; on unpause, catchup decides what the missed fires become.
        state.nextFireMs = timetable?.nextFire(now);
        continue;
      }
      const activeRuns = active.get(dag.id) ?? 0;
      const input = { dag, nowMs: now, lastScheduledFireMs: state.lastFireMs, activeRunCount: activeRuns };
      const runs =
        dag.schedule?.kind === 'datasets'
          ? datasetRunsDue({ ...input, lastConsumedEventIds: {}, latestUpdates: {} }).timeRuns
          : dueRuns(input);
      for (const planned of runs) {
        requests.push({
          dag,
          request: {
            runId: planned.runId,
            kind: 'scheduled',
            logicalDateMs: planned.logicalDateMs,
            dataIntervalStartMs: planned.dataIntervalStartMs,
            dataIntervalEndMs: planned.dataIntervalEndMs,
          },
        });
      }
      // With catchup and no free slot, older fires are still owed: look again at the next poll.
      owedByDag.set(dag.id, dag.catchup && runs.length > 0 && activeRuns + runs.length >= dag.maxActiveRuns);
      if (runs.length === 0) state.nextFireMs = timetable?.nextFire(Math.max(now, state.lastFireMs ?? now));
    }
    // A store failure rejects the whole call and leaves every timetable where it was: the next pass retries.
    const outcomes = await this.coordinator.createRuns(requests);
    const confirmedMs = this.clock.now();
    const created: Array<{ dag: DagSpec; run: DagRunRecord }> = [];
    for (const [index, outcome] of outcomes.entries()) {
      const { dag, request } = requests[index]!;
      const logicalDateMs = request.logicalDateMs!;
      // The counts read ahead of the fire serve the next passes too (catchup asks again each poll): count
      // the runs this pass created, or found created by a peer, so maxActiveRuns holds.
      if (!('error' in outcome) && (outcome.run.state === 'running' || outcome.run.state === 'queued')) {
        this.prefetched.active.set(dag.id, (this.prefetched.active.get(dag.id) ?? 0) + 1);
      }
      if ('error' in outcome) {
        await this.recordRejectedRun(dag, request, outcome.error.message, now);
      } else if (outcome.created) {
        created.push({ dag, run: outcome.run });
        const late = outcome.run.createdMs - logicalDateMs;
        this.lateness.push(late);
        this.confirmedLateness.push({ logicalDateMs, ms: confirmedMs - logicalDateMs });
        this.log({
          event: 'run_created',
          dagId: dag.id,
          runId: outcome.run.runId,
          kind: 'scheduled',
          latenessMs: late,
        });
      }
      const state = this.time.get(dag.id)!;
      state.lastFireMs = logicalDateMs;
      state.nextFireMs = owedByDag.get(dag.id)
        ? now + this.pollMs
        : Timetable.of(dag)?.nextFire(Math.max(now, logicalDateMs));
    }
    return created;
  }

  /** A scheduled run that could not be built: stored as failed, with the reason, under its own id. */
  private async recordRejectedRun(dag: DagSpec, request: RunRequest, reason: string, now: number): Promise<void> {
    const { created } = await this.store.createRun({
      runId: request.runId!,
      dagId: dag.id,
      kind: 'scheduled',
      state: 'failed',
      logicalDateMs: request.logicalDateMs!,
      ...(request.dataIntervalStartMs === undefined ? {} : { dataIntervalStartMs: request.dataIntervalStartMs }),
      ...(request.dataIntervalEndMs === undefined ? {} : { dataIntervalEndMs: request.dataIntervalEndMs }),
      conf: {},
      createdMs: now,
      endMs: now,
      reason: `scheduled run rejected: ${reason}`,
    });
    if (created) {
      this.log({ event: 'run_rejected', level: 'warn', dagId: dag.id, runId: request.runId, reason });
    }
  }

  private async lastScheduledFire(dagId: string): Promise<number | undefined> {
    const runs = await this.store.listRuns({ dagId, limit: 100 });
    return runs.find((r) => r.kind === 'scheduled' || r.kind === 'backfill')?.logicalDateMs;
  }

  private async readEvents(dags: ReadonlyMap<string, DagSpec>, now: number): Promise<void> {
    const listeners = new Map<string, DagSpec[]>();
    for (const dag of dags.values()) {
      if (dag.schedule?.kind !== 'events') continue;
      for (const name of dag.schedule.events) listeners.set(name, [...(listeners.get(name) ?? []), dag]);
    }
    for (const [name, listening] of listeners) {
      const stream = eventStream(name);
      const events = await this.store.readEvents(stream, this.cursors.get(stream), 1_000);
      if (events.length === 0) continue;
      // One store call for the whole page: a restarted scheduler rereads the stream from its start, and
      // every event it has already turned into runs costs only an "exists" inside that call.
      const records = events.flatMap((event) =>
        listening.map((dag) => this.eventRunRecord(dag, name, event.id, event.payload, now)),
      );
      const results = await this.store.createRuns(records);
      for (const [index, { created, run }] of results.entries()) {
        if (!created) continue;
        const eventId = events[Math.floor(index / listening.length)]!.id;
        this.log(
          run.state === 'failed'
            ? {
                event: 'event_rejected',
                level: 'warn',
                dagId: run.dagId,
                runId: run.runId,
                eventName: name,
                eventId,
                reason: run.reason,
              }
            : { event: 'run_created', dagId: run.dagId, runId: run.runId, kind: 'event', eventName: name, eventId },
        );
      }
      this.cursors.set(stream, events.at(-1)!.id);
    }
  }

  /** One run per event per DAG; a payload that breaks the params schema makes a failed run, with the reason. */
  private eventRunRecord(dag: DagSpec, name: string, eventId: string, payload: unknown, now: number): DagRunRecord {
    const conf =
      payload !== null && typeof payload === 'object' && !Array.isArray(payload)
        ? (payload as Record<string, unknown>)
        : { payload };
    let problem: string | undefined;
    try {
      resolveParams(dag.params, conf, 'payload');
    } catch (error) {
      problem = (error as Error).message;
    }
    return {
      runId: eventRunId(dag.id, name, eventId),
      dagId: dag.id,
      kind: 'event',
      state: problem ? 'failed' : 'queued',
      logicalDateMs: now,
      conf,
      createdMs: now,
      ...(problem ? { endMs: now, reason: `event '${name}' ${eventId} rejected: ${problem}` } : {}),
    };
  }

  private async readDatasets(dags: ReadonlyMap<string, DagSpec>, now: number): Promise<void> {
    const datasetDags = [...dags.values()].filter((d) => d.schedule?.kind === 'datasets');
    if (datasetDags.length === 0) return;
    const names = new Set(datasetDags.flatMap((d) => (d.schedule?.kind === 'datasets' ? d.schedule.datasets : [])));
    for (const name of names) {
      const stream = datasetStream(name);
      const events = await this.store.readEvents(stream, this.cursors.get(stream), 10_000);
      const last = events.at(-1);
      if (last) {
        this.latestDatasetUpdates.set(name, { eventId: last.id, atMs: last.atMs });
        this.cursors.set(stream, last.id);
      }
    }
    for (const dag of datasetDags) {
      if (dag.schedule?.kind !== 'datasets' || (await this.store.isDagPaused(dag.id))) continue;
      let consumed = this.consumed.get(dag.id);
      if (!consumed) {
        const runs = await this.store.listRuns({ dagId: dag.id, limit: 100 });
        const previous = runs.find((r) => r.kind === 'dataset');
        consumed = (previous?.conf.datasetEventIds as Record<string, string> | undefined) ?? {};
        this.consumed.set(dag.id, consumed);
      }
      const latestUpdates: Record<string, DatasetUpdate> = {};
      for (const name of dag.schedule.datasets) {
        const update = this.latestDatasetUpdates.get(name);
        if (update) latestUpdates[name] = update;
      }
      const active = (await this.store.listRuns({ dagId: dag.id, states: ['queued', 'running'] })).length;
      const { datasetRun } = datasetRunsDue({
        dag,
        nowMs: now,
        lastScheduledFireMs: undefined,
        activeRunCount: active,
        lastConsumedEventIds: consumed,
        latestUpdates,
      });
      if (!datasetRun) continue;
      const datasetEventIds: Record<string, string> = {};
      for (const [name, update] of Object.entries(datasetRun.consumes)) datasetEventIds[name] = update.eventId;
      const { created } = await this.store.createRun({
        runId: datasetRun.runId,
        dagId: dag.id,
        kind: 'dataset',
        state: 'queued',
        logicalDateMs: datasetRun.logicalDateMs,
        dataIntervalStartMs: datasetRun.dataIntervalStartMs,
        dataIntervalEndMs: datasetRun.dataIntervalEndMs,
        conf: { datasetEventIds },
        createdMs: now,
      });
      this.consumed.set(dag.id, { ...consumed, ...datasetEventIds });
      if (created)
        this.log({
          event: 'run_created',
          dagId: dag.id,
          runId: datasetRun.runId,
          kind: 'dataset',
          datasets: datasetEventIds,
        });
    }
  }

  /** Starts queued runs, oldest first, while each DAG has a free run slot and is not paused. */
  private async startQueuedRuns(dags: ReadonlyMap<string, DagSpec>): Promise<void> {
    const queued = (await this.store.listRuns({ states: ['queued'] })).reverse();
    if (queued.length === 0) return;
    const slots = new Map<string, number>();
    for (const record of queued) {
      const dag = dags.get(record.dagId);
      if (!dag) continue;
      let free = slots.get(dag.id);
      if (free === undefined) {
        if (await this.store.isDagPaused(dag.id)) free = 0;
        else free = dag.maxActiveRuns - (await this.store.listRuns({ dagId: dag.id, states: ['running'] })).length;
      }
      if (free <= 0) {
        slots.set(dag.id, 0);
        continue;
      }
      const now = this.clock.now();
      if (!(await this.store.acquireLease(runLease(record.runId), this.schedulerId, this.leaseTtlMs, now))) continue;
      const handle = await this.coordinator.startQueuedRun(dag, record.runId);
      if (handle) {
        free--;
        this.log({ event: 'run_started', dagId: dag.id, runId: record.runId, kind: record.kind });
      } else {
        await this.store.releaseLease(runLease(record.runId), this.schedulerId);
      }
      slots.set(dag.id, free);
    }
  }

  /** Runs still `running` whose lease lapsed lost their driver: take them over. */
  private async adoptOrphans(dags: ReadonlyMap<string, DagSpec>, now: number): Promise<void> {
    const mine = new Set(this.coordinator.activeRunIds());
    for (const record of await this.store.listRuns({ states: ['running'] })) {
      if (mine.has(record.runId)) continue;
      if ((record.startMs ?? record.createdMs) > now - this.leaseTtlMs) continue; // its creator may not hold the lease yet
      if (await this.store.getLeaseOwner(runLease(record.runId), now)) continue;
      const dag = dags.get(record.dagId);
      if (!dag) continue;
      if (!(await this.store.acquireLease(runLease(record.runId), this.schedulerId, this.leaseTtlMs, now))) continue;
      await this.coordinator.resumeRun(dag, record.runId);
      this.log({ event: 'run_adopted', dagId: dag.id, runId: record.runId });
    }
  }

  /** Next fire per time-scheduled DAG (for `batuta status`). */
  nextFires(): Map<string, number | undefined> {
    return new Map([...this.time].map(([id, state]) => [id, state.nextFireMs]));
  }
}
