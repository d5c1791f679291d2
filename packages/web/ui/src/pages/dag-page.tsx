// A DAG's page: what it is, the grid of its last runs, and (for who may operate it) the trigger form
// generated from its params. The grid updates live from the event stream.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type DagDetail, type GridPage, getDag, getGrid, type Me } from '../api.js';
import { Grid } from '../components/grid.js';
import { TriggerForm } from '../components/trigger-form.js';
import { formatSchedule } from '../format.js';
import { type LiveBatch, useLiveRefresh } from '../live.js';
import { graphPath, Link } from '../router.js';

const LIMITS = [10, 25, 50, 100];

export function DagPage({ dagId }: { dagId: string; user: Me }) {
  const [dag, setDag] = useState<DagDetail>();
  const [grid, setGrid] = useState<GridPage>();
  const [limit, setLimit] = useState(25);
  const [error, setError] = useState<string>();
  const dagRead = useRef<DagDetail>(undefined);

  // The grid is one compact request for the whole page (states as one code per task row), so a live
  // batch reads it again whole; the DAG itself only on the first load, Refresh or a resync.
  const load = useCallback(
    async (batch?: LiveBatch) => {
      try {
        const partial = batch !== undefined && !batch.resync;
        const [detail, page] = await Promise.all([
          partial && dagRead.current?.dagId === dagId ? dagRead.current : getDag(dagId),
          getGrid(dagId, limit),
        ]);
        dagRead.current = detail;
        setDag(detail);
        setGrid(page);
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
              {grid ? <Grid tasks={dag.tasks} grid={grid} /> : <p aria-busy="true">Loading…</p>}
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
