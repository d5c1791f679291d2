// What the route files share: the run a principal may see (404 otherwise, 403 for an operate action it may
// not take), and the opaque page cursor of GET /api/runs.
import type { DagRunRecord, DagSpec, RunCursor, StateStore } from '@batuta/scheduler';
import { mayOperate, mayView } from '../auth/dag-access.js';
import { type Principal, roleAllows } from '../auth/roles.js';
import { ProblemError } from '../problem.js';

/** What every route file is given. */
export interface RouteContext {
  store: StateStore;
  dags: () => ReadonlyMap<string, DagSpec>;
  now: () => number;
}

/**
 * The run and its DAG (when loaded) if the principal may see it; for `operate`, also the operator role and
 * the DAG's operate access (403). A run of a DAG no longer loaded is seen by role alone.
 */
export async function visibleRun(
  principal: Principal,
  store: StateStore,
  dags: ReadonlyMap<string, DagSpec>,
  runId: string,
  need: 'view' | 'operate' = 'view',
): Promise<{ run: DagRunRecord; dag: DagSpec | undefined }> {
  const run = await store.getRun(runId);
  const dag = run ? dags.get(run.dagId) : undefined;
  if (!run || !mayView(principal, dag?.access)) throw new ProblemError('not-found', `no run '${runId}'`);
  if (need === 'operate') {
    if (!roleAllows(principal.role, 'operator'))
      throw new ProblemError('forbidden', `this needs the operator role; ${principal.name} is ${principal.role}`);
    if (!mayOperate(principal, dag?.access))
      throw new ProblemError(
        'forbidden',
        `${principal.name} may see DAG '${run.dagId}' but not operate it (its access)`,
      );
  }
  return { run, dag };
}

/** A page end as an opaque URL-safe string. */
export function encodeRunCursor(run: RunCursor): string {
  return Buffer.from(JSON.stringify([run.logicalDateMs, run.runId])).toString('base64url');
}

/** The page end a cursor names; a 400 naming `query.cursor` when it is not one of ours. */
export function decodeRunCursor(cursor: string): RunCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === 'string' &&
      value[1].length <= 300
    ) {
      return { logicalDateMs: value[0] as number, runId: value[1] };
    }
  } catch {
    // Falls through to the problem below.
  }
  const message = 'not a cursor this API gave (pass nextCursor from an earlier page)';
  throw new ProblemError('invalid-request', message, [{ field: 'query.cursor', message }]);
}
