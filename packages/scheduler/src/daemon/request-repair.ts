// The client side of clear and mark (`batuta tasks clear|mark`, `batuta runs clear`, the web API): plan the
// request with the same pure planner the scheduler uses (so the caller can show what changes, or stop at a
// dry run), append it to the control stream, and wait for the acknowledgement of the scheduler that
// applied it. One copy for every front end.
import { randomUUID } from 'node:crypto';
import type { DagSpec } from '../dag/model.js';
import { compilePlan } from '../run/plan.js';
import { planRepair, type RepairPlan, type RepairRequest } from '../run/repair.js';
import type { StateStore } from '../store/state-store.js';
import { CONTROL_STREAM } from './control-stream.js';
import { REPAIR_DONE, REPAIR_REQUEST, type RepairDoneEvent, type RepairRequestEvent } from './repair-requests.js';

/** How requestRepair goes about it. */
export interface RequestRepairOptions {
  /** Plan only: append nothing. */
  dryRun?: boolean;
  /** How long to wait for a scheduler's acknowledgement (default 30 s). */
  timeoutMs?: number;
  /** How often the control stream is read for it (default 100 ms). */
  pollMs?: number;
  /** Stops waiting early (the answer is then `requested`). */
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * What came of a request: `dry-run` and `nothing-to-change` appended nothing; `requested` was appended but
 * no scheduler acknowledged it in time (it stays in the control stream); `done` was answered, by `done`.
 */
export interface RepairRequestResult {
  plan: RepairPlan;
  status: 'dry-run' | 'nothing-to-change' | 'requested' | 'done';
  done?: RepairDoneEvent;
}

/** The default wait for a scheduler to apply a repair request. */
export const REPAIR_TIMEOUT_MS = 30_000;

/**
 * Plans a clear or mark of `runId` (a run of `dag`) against its stored instances and, unless it is a dry run
 * or changes nothing, asks the schedulers to apply it and waits for the answer. Throws the planner's
 * UNKNOWN_TASK for a task the DAG does not have.
 */
export async function requestRepair(
  store: StateStore,
  dag: DagSpec,
  runId: string,
  request: RepairRequest,
  options: RequestRepairOptions = {},
): Promise<RepairRequestResult> {
  const plan = planRepair(compilePlan(dag), await store.getTaskInstances(runId), request);
  if (options.dryRun) return { plan, status: 'dry-run' };
  if (plan.changes.length === 0) return { plan, status: 'nothing-to-change' };
  const now = options.now ?? Date.now;
  const requestId = randomUUID();
  const payload: RepairRequestEvent = { requestId, runId, request };
  let cursor = await store.appendEvent(CONTROL_STREAM, REPAIR_REQUEST, payload, now());
  const deadline = now() + (options.timeoutMs ?? REPAIR_TIMEOUT_MS);
  while (now() < deadline && !options.signal?.aborted) {
    for (const event of await store.readEvents(CONTROL_STREAM, cursor, 1_000)) {
      cursor = event.id;
      const done = event.payload as RepairDoneEvent | null;
      if (event.type === REPAIR_DONE && done?.requestId === requestId) return { plan, status: 'done', done };
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
  return { plan, status: 'requested' };
}
