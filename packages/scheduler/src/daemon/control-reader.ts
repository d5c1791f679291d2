// Requests the CLI sends to the daemons through the store (`batuta dags cancel`): the daemon driving the
// run acts on it, the others find nothing to do.
import type { RunCoordinator } from '../runner/run-coordinator.js';
import type { StateStore } from '../store/state-store.js';
import type { SchedulerLog } from './scheduler-log-event.js';

/** The stream the CLI asks daemons through (cancel a run…). */
export const CONTROL_STREAM = 'control';

/** Control requests read per pass. */
const PAGE = 1_000;

/** Reads the control stream from where it left off and carries out the requests for runs it drives. */
export class ControlReader {
  private readonly store: StateStore;
  private readonly coordinator: Pick<RunCoordinator, 'cancelRun'>;
  private readonly log: SchedulerLog;
  private cursor: string | undefined;

  constructor(options: { store: StateStore; coordinator: Pick<RunCoordinator, 'cancelRun'>; log: SchedulerLog }) {
    this.store = options.store;
    this.coordinator = options.coordinator;
    this.log = options.log;
  }

  /** Carries out the requests published since the last read. */
  async read(): Promise<void> {
    const events = await this.store.readEvents(CONTROL_STREAM, this.cursor, PAGE);
    for (const event of events) {
      this.cursor = event.id;
      const request = event.payload as { runId?: string; reason?: string } | null;
      if (event.type !== 'cancel' || !request?.runId) continue;
      if (await this.coordinator.cancelRun(request.runId, request.reason ?? 'cancelled by user')) {
        this.log({ event: 'run_cancelled', runId: request.runId });
      }
    }
  }
}
