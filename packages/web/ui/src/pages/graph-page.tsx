// The graph of a DAG (its shape), or of one run (each task coloured by its state, live, a click opens the
// task's tries and logs). The DAG's graph offers its recent runs to show.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { type DagDetail, getDag, getRun, listRuns, type Me, type Run, type RunDetail } from '../api.js';
import { GraphView } from '../components/graph-view.js';
import { formatDate, stateClass } from '../format.js';
import { useLiveRefresh } from '../live.js';
import { dagPath, graphPath, Link, navigate, runGraphPath, runPath } from '../router.js';
import { summariseStates } from '../states.js';

export type GraphPageProps = { user: Me } & (
  | { dagId: string; runId?: undefined }
  | { runId: string; dagId?: undefined }
);

export function GraphPage(props: GraphPageProps) {
  const [dag, setDag] = useState<DagDetail>();
  const [run, setRun] = useState<RunDetail>();
  const [recent, setRecent] = useState<Run[]>([]);
  const [error, setError] = useState<string>();
  const dagId = props.dagId ?? run?.dagId;

  const load = useCallback(async () => {
    try {
      const detail = props.runId ? await getRun(props.runId) : undefined;
      const id = props.dagId ?? detail!.dagId;
      const [spec, list] = await Promise.all([getDag(id), listRuns(id, 25)]);
      setRun(detail);
      setDag(spec);
      setRecent(list.runs);
      setError(undefined);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }, [props.dagId, props.runId]);

  useEffect(() => {
    document.title = `Graph · ${props.runId ?? props.dagId} · Batuta`;
    setRun(undefined);
    void load();
  }, [load]);
  useLiveRefresh(load, (change) => (props.runId ? change.runId === props.runId : change.dagId === dagId));

  return (
    <section aria-labelledby="graph-title">
      <p>
        {dagId && <Link href={dagPath(dagId)}>← {dagId}</Link>}
        {props.runId && (
          <>
            {' · '}
            <Link href={runPath(props.runId)}>Run details</Link>
          </>
        )}
      </p>
      <h1 id="graph-title">{props.runId ? `Graph of run ${props.runId}` : `Graph of ${props.dagId}`}</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {dag && (
        <>
          <div class="section-head">
            <label>
              Run{' '}
              <select
                data-testid="graph-run-choice"
                value={props.runId ?? ''}
                onChange={(e) => {
                  const value = e.currentTarget.value;
                  navigate(value ? runGraphPath(value) : graphPath(dag.dagId));
                }}
              >
                <option value="">None: the DAG's shape</option>
                {props.runId && !recent.some((r) => r.runId === props.runId) && (
                  <option value={props.runId}>{props.runId}</option>
                )}
                {recent.map((r) => (
                  <option key={r.runId} value={r.runId}>
                    {formatDate(r.logicalDate)} · {r.state} · {r.runId}
                  </option>
                ))}
              </select>
            </label>
            {run && (
              <span class={`badge ${stateClass(run.state)}`} data-testid="run-state" title={`Run state: ${run.state}`}>
                {run.state}
              </span>
            )}
          </div>
          {run && run.tasks.length > 0 && (
            <ul class="legend" aria-label="Task instances by state" data-testid="graph-counts">
              {summariseStates(run.tasks.map((task) => task.state)).counts.map(([state, count]) => (
                <li key={state}>
                  <span class={`dot ${stateClass(state)}`} aria-hidden="true" /> {count} {state}
                </li>
              ))}
            </ul>
          )}
          {(!props.runId || run) && (
            <GraphView
              dagId={dag.dagId}
              tasks={dag.tasks}
              {...(run ? { runId: run.runId, instances: run.tasks } : {})}
            />
          )}
        </>
      )}
      {!dag && !error && <p aria-busy="true">Loading…</p>}
    </section>
  );
}
