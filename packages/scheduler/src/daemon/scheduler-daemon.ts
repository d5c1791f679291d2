// The scheduler daemon: turns time, event and dataset triggers into DAG runs exactly once, starts
// queued runs (manual triggers, events, datasets) as run slots free up, and adopts runs whose driver
// died. Several daemons may share one store: run ids are deterministic and creation is idempotent,
// starting a queued run is a guarded transition, and each driven run is held under a lease.
// The work is done by collaborators, one per concern; the daemon wires them and owns the loop.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { DagSpec } from '../dag/model.js';
import type { LogStore } from '../logs/log-store.js';
import type { RunCoordinator } from '../runner/run-coordinator.js';
import type { StateStore } from '../store/state-store.js';
import { FirePlanner } from '../triggers/fire-planner.js';
import { Cadence } from './cadence.js';
import { ControlReader } from './control-reader.js';
import { DagRegistrar } from './dag-registrar.js';
import { DatasetIntake } from './dataset-intake.js';
import { EventIntake } from './event-intake.js';
import { FireRunner } from './fire-runner.js';
import { FolderReloader } from './folder-reloader.js';
import { OrphanAdopter } from './orphan-adopter.js';
import { PeerDirectory } from './peer-directory.js';
import { QueuedRunStarter } from './queued-run-starter.js';
import { RepairRequests } from './repair-requests.js';
import { type RetentionPolicy, RetentionPruner } from './retention-pruner.js';
import { RunLeases } from './run-leases.js';
import type { SchedulerLog, SchedulerLogEvent } from './scheduler-log-event.js';

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
  /**
   * A DAG the store has never seen (no scheduler sharing it loaded it, nobody paused or unpaused it) is
   * stored paused, so it creates no run until `dags unpause`; a DAG's own `pausedOnCreation` overrides
   * this. Default false: a new DAG runs its latest interval at once (with catchup, every missed one).
   */
  pausedOnCreation?: boolean;
  /** Removes ended runs older than `retention.runsMs` in the background; without it runs are kept for ever. */
  retention?: RetentionPolicy;
  /** Task logs, removed with their runs by the retention. */
  logStore?: LogStore;
  log?: (event: SchedulerLogEvent) => void;
}

/** No poll starts within this long before a fire (see arm). */
const FIRE_GUARD_MS = 100;

/** The daemon. `start()` runs until `stop()`. */
export class SchedulerDaemon {
  readonly schedulerId: string;
  private readonly coordinator: RunCoordinator;
  private readonly dags: () => ReadonlyMap<string, DagSpec>;
  private readonly clock: Clock;
  private readonly pollMs: number;
  private readonly log: SchedulerLog;
  private readonly planner: FirePlanner;
  private readonly registrar: DagRegistrar;
  private readonly peers: PeerDirectory;
  private readonly leases: RunLeases;
  private readonly fires: FireRunner;
  private readonly folder: FolderReloader;
  private readonly control: ControlReader;
  private readonly events: EventIntake;
  private readonly datasets: DatasetIntake;
  private readonly queued: QueuedRunStarter;
  private readonly orphans: OrphanAdopter;
  private readonly pruner: RetentionPruner | undefined;
  /** Lease renewal and orphan adoption run every third of a lease, well before a lease can lapse. */
  private readonly leaseCadence: Cadence;
  private readonly adoptCadence: Cadence;
  private running = false;
  private cancelTimer: (() => void) | undefined;
  private passing: Promise<void> | undefined;

  constructor(options: SchedulerDaemonOptions) {
    const store = options.store;
    const coordinator = options.coordinator;
    const clock = options.clock ?? systemClock;
    const schedulerId = options.schedulerId ?? `scheduler-${randomUUID().slice(0, 8)}`;
    const pollMs = options.pollMs ?? 200;
    const leaseTtlMs = options.leaseTtlMs ?? 15_000;
    const log = options.log ?? (() => {});
    this.schedulerId = schedulerId;
    this.coordinator = coordinator;
    this.dags = options.dags;
    this.clock = clock;
    this.pollMs = pollMs;
    this.log = log;
    this.planner = new FirePlanner({ pollMs });
    this.registrar = new DagRegistrar({ store, pausedOnCreation: options.pausedOnCreation ?? false, log });
    this.peers = new PeerDirectory({
      store,
      schedulerId,
      leaseTtlMs,
      shareGraceMs: options.shareGraceMs ?? Math.max(250, 2 * pollMs),
    });
    this.leases = new RunLeases({ store, schedulerId, ttlMs: leaseTtlMs });
    const { peers, leases, planner } = this;
    this.fires = new FireRunner({ store, coordinator, planner, peers, leases, clock, pollMs, log });
    this.folder = new FolderReloader({ reload: options.reload, everyMs: options.reloadMs ?? 2_000 });
    const repairs = new RepairRequests({ store, coordinator, leases, schedulerId, log });
    this.control = new ControlReader({ store, coordinator, log, repairs });
    this.events = new EventIntake({ store, log });
    this.datasets = new DatasetIntake({ store, log });
    this.queued = new QueuedRunStarter({ store, coordinator, leases, clock, log });
    this.orphans = new OrphanAdopter({ store, coordinator, leases, leaseTtlMs, log });
    this.pruner = options.retention
      ? new RetentionPruner({
          store,
          policy: options.retention,
          log,
          ...(options.logStore ? { logStore: options.logStore } : {}),
        })
      : undefined;
    this.leaseCadence = new Cadence(leaseTtlMs / 3);
    this.adoptCadence = new Cadence(leaseTtlMs / 3);
  }

  /** Starts the loop: one pass now, then at every fire time and every `pollMs`. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.coordinator.start();
    await this.peers.announce(this.clock.now());
    this.log({ event: 'scheduler_started', schedulerId: this.schedulerId });
    await this.pass();
  }

  /** Stops the loop; runs in flight keep their state in the store and are adopted by another daemon. */
  async stop(): Promise<void> {
    this.running = false;
    this.cancelTimer?.();
    await this.passing;
    const now = this.clock.now();
    const runIds = this.coordinator.activeRunIds();
    await this.leases.release(runIds);
    await this.peers.leave(runIds, now);
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

  /** The live schedulers as this one last saw them (itself included), sorted by id. */
  liveSchedulers(): readonly string[] {
    return this.peers.liveSchedulers();
  }

  /** True when `dagId` falls in this scheduler's share of the live schedulers (all of them when alone). */
  isMyShare(dagId: string): boolean {
    return this.peers.isMine(dagId);
  }

  /** Next fire per time-scheduled DAG (for `batuta status`). */
  nextFires(): Map<string, number | undefined> {
    return this.planner.nextFires();
  }

  private async runPass(): Promise<void> {
    const now = this.clock.now();
    try {
      // Fires first: a run's creation is what its fire time promises; a folder rescan can wait a few ms.
      // A failed fire must not cost the rest of the pass: skipped lease renewals would let another
      // scheduler adopt runs this one still drives.
      // A DAG takes part only once the store knows it: a new one may have to be stored paused first.
      await this.fires.fire(await this.registrar.admit(this.dags()), now).catch((error: unknown) => {
        this.log({ event: 'scheduler_fire_failed', level: 'error', message: (error as Error).message });
      });
      await this.folder.reloadIfDue(now);
      const dags = await this.registrar.admit(this.dags());
      if (this.leaseCadence.due(now)) {
        await this.peers.heartbeat(now);
        await this.leases.renew(this.coordinator.activeRunIds(), now);
      }
      // A stopping peer's runs are adopted now, not when its leases would have lapsed.
      await this.peers.readAnnouncements(now);
      await this.orphans.adoptReleased(dags, this.peers.takeReleased(), now);
      await this.control.read(now, dags);
      await this.events.read(dags, now);
      await this.datasets.read(dags, now);
      await this.queued.start(dags);
      if (this.adoptCadence.due(now)) await this.orphans.adopt(dags, now);
      // Last: pruning is housekeeping, and whatever it finds can wait for the next pass.
      await this.pruner?.prune(now);
    } catch (error) {
      this.log({ event: 'scheduler_pass_failed', level: 'error', message: (error as Error).message });
    }
    this.arm();
  }

  /** Sleeps until the next fire time or the next poll, whichever comes first. */
  private arm(): void {
    if (!this.running) return;
    const now = this.clock.now();
    const nextDue = this.planner.nextDueMs(this.peers.shares());
    // A poll that would start just before a fire could still be running at the fire time, and the fire
    // would wait for it (a pass at a time): sleep straight through to the fire instead.
    let wake = now + this.pollMs;
    if (nextDue <= wake + FIRE_GUARD_MS) wake = nextDue;
    this.cancelTimer?.();
    this.cancelTimer = this.clock.setTimer(Math.max(now, wake), () => void this.pass());
  }
}
