// A DAG's page: what it is, the grid of its last runs, and (for who may operate it) the trigger form
// generated from its params. The grid updates live from the event stream.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type DagDetail, getDag, getRun, listRuns, type Me, type RunDetail } from '../api.js';
import { Grid } from '../components/grid.js';
import { TriggerForm } from '../components/trigger-form.js';
import { formatSchedule } from '../format.js';
import { type LiveBatch, useLiveRefresh } from '../live.js';
import { graphPath, Link } from '../router.js';

const LIMITS = [10, 25, 50, 100];

/** Resolves `work` for every item, a few at a time, in order. */
async function mapLimited<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

export function DagPage({ dagId }: { dagId: string; user: Me }) {
  const [dag, setDag] = useState<DagDetail>();
  const [runs, setRuns] = useState<RunDetail[]>();
  const [limit, setLimit] = useState(25);
  const [error, setError] = useState<string>();
  const known = useRef(new Map<string, RunDetail>());
  const dagRead = useRef<DagDetail>(undefined);

  // A live batch names the runs that changed: only those are read again. Without one (first load, the
  // Refresh button, a resync after the stream was down) every run still moving is.
  const load = useCallback(
    async (batch?: LiveBatch) => {
      try {
        const partial = batch !== undefined && !batch.resync;
        const [detail, list] = await Promise.all([
          partial && dagRead.current?.dagId === dagId ? dagRead.current : getDag(dagId),
          listRuns(dagId, limit),
        ]);
        const details = await mapLimited(list.runs, 6, async (run) => {
          const before = known.current.get(run.runId);
          const moving = before?.state !== run.state || (before.state !== 'success' && before.state !== 'failed');
          const stale = !before || (partial ? batch.runIds.has(run.runId) || before.state !== run.state : moving);
          if (!stale) return before;
          const fresh = await getRun(run.runId);
          known.current.set(run.runId, fresh);
          return fresh;
        });
        dagRead.current = detail;
        setDag(detail);
        setRuns(details.reverse()); // oldest on the left, as time reads
        setError(undefined);
      } catch (failure) {
        setError(failure instanceof Error ? failure.message : String(failure));
      }
    },
    [dagId, limit],
  );

  useEffect(() => {
    document.title = `${dagId} · Batuta`;
    void load();
  }, [dagId, load]);
  useLiveRefresh(load, (change) => change.dagId === dagId);

  return (
    <section aria-labelledby="dag-title">
      <p>
        <Link href="/">← DAGs</Link>
      </p>
      <h1 id="dag-title">{dagId}</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {dag && (
        <>
          {dag.description && <p>{dag.description}</p>}
          <dl class="facts">
            <dt>Schedule</dt>
            <dd>{formatSchedule(dag.schedule)}</dd>
            <dt>Tasks</dt>
            <dd>{dag.taskCount}</dd>
            <dt>State</dt>
            <dd>{dag.paused ? 'paused' : 'active'}</dd>
            {dag.owner && (
              <>
                <dt>Owner</dt>
                <dd>{dag.owner}</dd>
              </>
            )}
          </dl>
          <div class="columns">
            <section aria-labelledby="grid-title" class="grid-section">
              <div class="section-head">
                <h2 id="grid-title">Grid</h2>
                <label>
                  Runs shown{' '}
                  <select value={String(limit)} onChange={(e) => setLimit(Number(e.currentTarget.value))}>
                    {LIMITS.map((n) => (
                      <option key={n} value={String(n)}>
                        {n}
                      </option>
                    ))}
                  </select>
                </label>
                <button type="button" onClick={() => void load()}>
                  Refresh
                </button>
                <Link href={graphPath(dagId)} data-testid="graph-link">
                  Graph
                </Link>
              </div>
              {runs ? <Grid tasks={dag.tasks} runs={runs} /> : <p aria-busy="true">Loading…</p>}
              <Legend />
            </section>
            {dag.mayOperate && <TriggerForm dagId={dag.dagId} params={dag.params} onTriggered={() => void load()} />}
          </div>
        </>
      )}
      {!dag && !error && <p aria-busy="true">Loading…</p>}
    </section>
  );
}

function Legend() {
  const states = ['success', 'running', 'queued', 'failed', 'upstream_failed', 'up_for_retry', 'skipped', 'none'];
  return (
    <ul class="legend" aria-label="Colours">
      {states.map((state) => (
        <li key={state}>
          <span class={`dot state state-${state}`} aria-hidden="true" /> {state}
        </li>
      ))}
    </ul>
  );
}
