// Clear and mark requests (`batuta tasks clear|mark`, `batuta runs clear`) reach every scheduler through
// the control stream; exactly one applies each. The scheduler that drives the run applies it; for a run
// nobody drives (it ended, or its driver died) the scheduler that wins the run's lease takes the run and
// applies it, so an ended run that is cleared is driven again by a live scheduler. A claim lease per
// request makes it apply once even when the run ends and changes hands before a slower reader sees it.
import type { DagSpec } from '../dag/model.js';
import { isBatutaError } from '../errors.js';
import type { RepairRequest } from '../run/repair.js';
import type { RunCoordinator } from '../runner/run-coordinator.js';
import type { StateStore } from '../store/state-store.js';
import { CONTROL_STREAM } from './control-stream.js';
import type { RunLeases } from './run-leases.js';
import type { SchedulerLog } from './scheduler-log-event.js';

/** A clear or mark request as the CLI appends it to the control stream (type REPAIR_REQUEST). */
export interface RepairRequestEvent {
  requestId: string;
  runId: string;
  request: RepairRequest;
}

/** What the scheduler that applied a request appends (type REPAIR_DONE), for the CLI waiting on it. */
export interface RepairDoneEvent {
  requestId: string;
  runId: string;
  schedulerId: string;
  applied: boolean;
  changes: number;
  /** The refusal's code and message (an unknown task…), when the request could not be applied. */
  error?: { code: string; message: string };
}

/** The control-stream event type of a clear or mark request. */
export const REPAIR_REQUEST = 'repair';
/** The control-stream event type of a request's acknowledgement by the scheduler that applied it. */
export const REPAIR_DONE = 'repair_done';

/** How long a request's claim is kept: past the control stream's retention, so no reader applies it twice. */
const CLAIM_TTL_MS = 30 * 60_000;

/** The lease that says which scheduler applies a repair request. */
export function repairClaimLease(requestId: string): string {
  return `repair:${requestId}`;
}

/** What RepairRequests works with: the store, this scheduler's coordinator, run leases and id. */
export interface RepairRequestsOptions {
  store: StateStore;
  coordinator: Pick<RunCoordinator, 'repairRun' | 'activeRunIds'>;
  leases: RunLeases;
  schedulerId: string;
  log: SchedulerLog;
}

/** How long a request waits for its scheduler (a lease held by a dead one lapses well before this). */
const PENDING_MS = 10 * 60_000;

/** Applies the repair requests this scheduler is the one to apply. */
export class RepairRequests {
  private readonly options: RepairRequestsOptions;
  /** Requests not applied yet by anyone this scheduler knows of, oldest first: retried every read. */
  private readonly pending = new Map<string, { event: RepairRequestEvent; atMs: number }>();

  constructor(options: RepairRequestsOptions) {
    this.options = options;
  }

  /** Takes one request read from the control stream and applies it if it falls to this scheduler. */
  async handle(payload: unknown, dags: ReadonlyMap<string, DagSpec>, nowMs: number): Promise<void> {
    const event = payload as Partial<RepairRequestEvent> | null;
    if (!event?.requestId || !event.runId || !event.request) return;
    const request = { requestId: event.requestId, runId: event.runId, request: event.request };
    this.pending.set(request.requestId, { event: request, atMs: nowMs });
    await this.attempt(request, dags, nowMs);
  }

  /**
   * Tries again the requests nobody has applied yet: the run's lease may have been held by a scheduler that
   * died (it lapses), or the run may have ended since. A request someone else claimed is dropped.
   */
  async retryPending(dags: ReadonlyMap<string, DagSpec>, nowMs: number): Promise<void> {
    for (const [requestId, { event, atMs }] of this.pending) {
      if (atMs < nowMs - PENDING_MS) this.pending.delete(requestId);
      else await this.attempt(event, dags, nowMs);
    }
  }

  private async attempt(event: RepairRequestEvent, dags: ReadonlyMap<string, DagSpec>, nowMs: number): Promise<void> {
    const { store, coordinator, leases, schedulerId, log } = this.options;
    const { requestId, runId, request } = event;
    const claim = repairClaimLease(requestId);
    if (await store.getLeaseOwner(claim, nowMs)) {
      this.pending.delete(requestId); // applied (or being applied) by a scheduler
      return;
    }
    const driving = coordinator.activeRunIds().includes(runId);
    const record = await store.getRun(runId);
    if (!record || record.state === 'queued') {
      this.pending.delete(requestId); // nothing any scheduler can repair
      return;
    }
    const dag = dags.get(record.dagId);
    if (!dag) return; // another scheduler may know the DAG
    // Not driven here: only under the run's lease (a live driver elsewhere holds it, and applies it).
    if (!driving && !(await leases.acquire(runId, nowMs))) return;
    if (!(await store.acquireLease(claim, schedulerId, CLAIM_TTL_MS, nowMs))) {
      this.pending.delete(requestId);
      return;
    }
    this.pending.delete(requestId);
    const done: RepairDoneEvent = { requestId, runId, schedulerId, applied: false, changes: 0 };
    try {
      const outcome = await coordinator.repairRun(dag, runId, request);
      done.applied = outcome.applied;
      done.changes = outcome.plan.changes.length;
      log({ event: 'run_repaired', runId, action: request.action, changes: done.changes });
    } catch (error) {
      const code = isBatutaError(error) ? error.code : 'ERROR';
      done.error = { code, message: (error as Error).message };
      log({ event: 'run_repair_failed', level: 'error', runId, code, message: done.error.message });
    }
    await store.appendEvent(CONTROL_STREAM, REPAIR_DONE, done, nowMs);
  }
}
