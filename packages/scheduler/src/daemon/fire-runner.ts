// Carries out the fires the planner plans: reads ahead what a fire needs, creates the due runs of all the
// DAGs of a fire in one store call, records the runs that cannot be built, and starts what it created.
import type { Clock } from '../clock.js';
import type { DagSpec } from '../dag/model.js';
import type { RunCoordinator, RunRequest } from '../runner/run-coordinator.js';
import type { DagRunRecord, StateStore } from '../store/state-store.js';
import type { FirePlanner, PlannedFireRun } from '../triggers/fire-planner.js';
import { FireReadAhead } from './fire-read-ahead.js';
import type { PeerDirectory } from './peer-directory.js';
import type { RunLeases } from './run-leases.js';
import type { SchedulerLog } from './scheduler-log-event.js';

/** Runs of one fire started at once (see startCreated). */
const START_CONCURRENCY = 16;

export interface FireRunnerOptions {
  store: StateStore;
  coordinator: Pick<RunCoordinator, 'createRuns' | 'beginRun'>;
  planner: FirePlanner;
  peers: PeerDirectory;
  leases: RunLeases;
  clock: Clock;
  /** Figures read within two polls of a fire serve it. */
  pollMs: number;
  log: SchedulerLog;
}

/** The I/O half of the time triggers (the FirePlanner is the pure half). */
export class FireRunner {
  private readonly store: StateStore;
  private readonly coordinator: Pick<RunCoordinator, 'createRuns' | 'beginRun'>;
  private readonly planner: FirePlanner;
  private readonly peers: PeerDirectory;
  private readonly leases: RunLeases;
  private readonly clock: Clock;
  private readonly pollMs: number;
  private readonly log: SchedulerLog;
  private readonly readAhead: FireReadAhead;

  constructor(options: FireRunnerOptions) {
    this.store = options.store;
    this.coordinator = options.coordinator;
    this.planner = options.planner;
    this.peers = options.peers;
    this.leases = options.leases;
    this.clock = options.clock;
    this.pollMs = options.pollMs;
    this.log = options.log;
    this.readAhead = new FireReadAhead({ store: options.store });
  }

  /**
   * Creates every run due at `nowMs`, then starts them: creation is what the fire time promises. Each
   * scheduler creates its own share at the fire time and the other shares `graceMs` later, when a live
   * peer has created them (the store answers "exists") and a dead one has not. With nothing due, reads
   * ahead for the fires coming within two polls.
   */
  async fire(dags: ReadonlyMap<string, DagSpec>, nowMs: number): Promise<void> {
    const { due, unknown } = this.planner.due(dags, nowMs, this.peers.shares());
    if (due.length === 0) {
      await this.readAheadFor(this.planner.firingBy(dags, nowMs + 2 * this.pollMs), nowMs);
      return;
    }
    await Promise.all(unknown.map(async (dag) => this.planner.learn(dag.id, await this.lastScheduledFire(dag.id))));
    const fireMs = this.planner.fireTimeOf(due, nowMs);
    if (this.readAhead.atMs < fireMs - 2 * this.pollMs) await this.readAheadFor([...dags.values()], nowMs);
    let created: Array<{ dag: DagSpec; run: DagRunRecord }>;
    try {
      created = await this.createDueRuns(due, nowMs);
    } catch (error) {
      // A DAG new here has no next fire yet: forget it, so the next pass plans it afresh (the others keep
      // a due next fire and are retried as they are).
      this.planner.forget(unknown.map((dag) => dag.id));
      throw error;
    }
    this.log({
      event: 'fire',
      fireMs,
      dagsDue: due.length,
      runsCreated: created.length,
      passLateMs: nowMs - fireMs,
      createMs: this.clock.now() - nowMs,
    });
    await this.startCreated(created);
  }

  /** Reads the figures for `dags`, after a look at the live schedulers so the fire's shares follow them. */
  private async readAheadFor(dags: readonly DagSpec[], nowMs: number): Promise<void> {
    if (dags.length === 0) return;
    await this.peers.refresh(nowMs);
    await this.readAhead.read(dags, nowMs);
  }

  /**
   * Creates the due runs of `due` in one store call and moves their timetables on; returns the runs this
   * scheduler created (a run another scheduler created first is only found). A run that cannot be built
   * (its DAG's params need a value no schedule gives) is recorded as a failed run, not retried every poll.
   * A store failure rejects the whole call and leaves every timetable where it was: the next pass retries.
   */
  private async createDueRuns(
    due: readonly DagSpec[],
    nowMs: number,
  ): Promise<Array<{ dag: DagSpec; run: DagRunRecord }>> {
    const planned = this.planner.plan(due, nowMs, await this.readAhead.countsFor(due));
    const outcomes = await this.coordinator.createRuns(
      planned.map(({ dag, run }) => ({ dag, request: requestOf(run) })),
    );
    const confirmedMs = this.clock.now();
    const created: Array<{ dag: DagSpec; run: DagRunRecord }> = [];
    for (const [index, outcome] of outcomes.entries()) {
      const plannedRun = planned[index]!;
      const { dag, run } = plannedRun;
      if ('error' in outcome) {
        await this.recordRejectedRun(plannedRun, outcome.error.message, nowMs);
      } else {
        if (outcome.run.state === 'running' || outcome.run.state === 'queued') this.readAhead.countActive(dag.id);
        if (outcome.created) {
          created.push({ dag, run: outcome.run });
          // Logged by the scheduler that created the run, so once: these dates will never run.
          if (plannedRun.skipped) {
            this.log({
              event: 'fire_skipped',
              level: 'warn',
              dagId: dag.id,
              logicalDatesMs: plannedRun.skipped.logicalDatesMs,
              more: plannedRun.skipped.more,
              instead: run.logicalDateMs,
              reason: 'catchup is off: of the fires missed (no scheduler could create runs), only the latest runs',
            });
          }
          this.log({
            event: 'run_created',
            dagId: dag.id,
            runId: outcome.run.runId,
            kind: 'scheduled',
            logicalDateMs: run.logicalDateMs,
            latenessMs: outcome.run.createdMs - run.logicalDateMs,
            // Until the store's answer came back: the run is durable and visible to every reader.
            confirmedLatenessMs: confirmedMs - run.logicalDateMs,
          });
        }
      }
      this.planner.settle(plannedRun, nowMs);
    }
    return created;
  }

  /** A scheduled run that could not be built: stored as failed, with the reason, under its own id. */
  private async recordRejectedRun(planned: PlannedFireRun, reason: string, nowMs: number): Promise<void> {
    const { dag, run } = planned;
    const { created } = await this.store.createRun({
      runId: run.runId,
      dagId: dag.id,
      kind: 'scheduled',
      state: 'failed',
      logicalDateMs: run.logicalDateMs,
      dataIntervalStartMs: run.dataIntervalStartMs,
      dataIntervalEndMs: run.dataIntervalEndMs,
      conf: {},
      createdMs: nowMs,
      endMs: nowMs,
      reason: `scheduled run rejected: ${reason}`,
    });
    if (created) this.log({ event: 'run_rejected', level: 'warn', dagId: dag.id, runId: run.runId, reason });
  }

  /**
   * Starts the created runs a few at a time: a burst of hundreds of first transitions would queue in the
   * store ahead of the fire's creations by other schedulers; a few at a time lets those through.
   */
  private async startCreated(created: ReadonlyArray<{ dag: DagSpec; run: DagRunRecord }>): Promise<void> {
    let next = 0;
    const starter = async () => {
      while (next < created.length) {
        const { dag, run } = created[next++]!;
        await this.leases.acquire(run.runId, this.clock.now());
        await this.coordinator.beginRun(dag, run);
      }
    };
    await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, created.length) }, starter));
  }

  /** The logical date of the DAG's latest scheduled (or backfill) run in the store. */
  private async lastScheduledFire(dagId: string): Promise<number | undefined> {
    const runs = await this.store.listRuns({ dagId, limit: 100 });
    return runs.find((r) => r.kind === 'scheduled' || r.kind === 'backfill')?.logicalDateMs;
  }
}

/** The coordinator's request for a planned scheduled run. */
function requestOf(run: PlannedFireRun['run']): RunRequest {
  return {
    runId: run.runId,
    kind: 'scheduled',
    logicalDateMs: run.logicalDateMs,
    dataIntervalStartMs: run.dataIntervalStartMs,
    dataIntervalEndMs: run.dataIntervalEndMs,
  };
}
