// Requests the CLI sends to the daemons through the store (`batuta dags cancel`): the daemon driving the
// run acts on it, the others find nothing to do. Every live scheduler reads the stream every poll, so a
// request older than CONTROL_KEEP_MS has been passed by all their cursors: readers trim such requests,
// and the stream holds only the last few minutes (a restarted scheduler rereads at most that).
import type { DagSpec } from '../dag/model.js';
import type { RunCoordinator } from '../runner/run-coordinator.js';
import type { StateStore } from '../store/state-store.js';
import { CONTROL_STREAM } from './control-stream.js';
import { REPAIR_REQUEST, type RepairRequests } from './repair-requests.js';
import type { SchedulerLog } from './scheduler-log-event.js';

export { CONTROL_STREAM };

/** Control requests read per pass. */
const PAGE = 1_000;

/** How long a control request stays in the stream: far longer than any scheduler's poll. */
export const CONTROL_KEEP_MS = 10 * 60_000;

/** Reads the control stream from where it left off and carries out the requests for runs it drives. */
export class ControlReader {
  private readonly store: StateStore;
  private readonly coordinator: Pick<RunCoordinator, 'cancelRun'>;
  private readonly log: SchedulerLog;
  private readonly repairs: RepairRequests | undefined;
  private cursor: string | undefined;
  /** Requests read and not yet old enough to trim, oldest first (a few minutes' worth). */
  private readonly unexpired: Array<{ id: string; atMs: number }> = [];

  constructor(options: {
    store: StateStore;
    coordinator: Pick<RunCoordinator, 'cancelRun'>;
    log: SchedulerLog;
    /** Applies clear/mark requests; without it they are ignored. */
    repairs?: RepairRequests;
  }) {
    this.repairs = options.repairs;
    this.store = options.store;
    this.coordinator = options.coordinator;
    this.log = options.log;
  }

  /** Carries out the requests published since the last read; with `nowMs`, trims those older than CONTROL_KEEP_MS. */
  async read(nowMs?: number, dags?: ReadonlyMap<string, DagSpec>): Promise<void> {
    const events = await this.store.readEvents(CONTROL_STREAM, this.cursor, PAGE);
    for (const event of events) {
      this.cursor = event.id;
      this.unexpired.push({ id: event.id, atMs: event.atMs });
      if (event.type === REPAIR_REQUEST) {
        if (this.repairs && dags && nowMs !== undefined) await this.repairs.handle(event.payload, dags, nowMs);
        continue;
      }
      const request = event.payload as { runId?: string; reason?: string } | null;
      if (event.type !== 'cancel' || !request?.runId) continue;
      if (await this.coordinator.cancelRun(request.runId, request.reason ?? 'cancelled by user')) {
        this.log({ event: 'run_cancelled', runId: request.runId });
      }
    }
    if (this.repairs && dags && nowMs !== undefined) await this.repairs.retryPending(dags, nowMs);
    if (nowMs === undefined) return;
    let expired: string | undefined;
    while (this.unexpired.length > 0 && this.unexpired[0]!.atMs < nowMs - CONTROL_KEEP_MS) {
      expired = this.unexpired.shift()!.id;
    }
    if (expired !== undefined) await this.store.trimEvents(CONTROL_STREAM, expired);
  }
}
