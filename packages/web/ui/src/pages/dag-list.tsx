// The DAG list: id, schedule, tasks, the last runs as coloured dots, and a paused switch for operators. The
// dots follow run changes from the event stream.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type DagSummary, listDags, type Me, roleAllows, setPaused } from '../api.js';
import { formatDate, formatSchedule, stateClass } from '../format.js';
import { useLiveRefresh } from '../live.js';
import { dagPath, Link, runPath } from '../router.js';

export function DagList({ user }: { user: Me }) {
  const [dags, setDags] = useState<DagSummary[]>();
  const [error, setError] = useState<string>();
  const mayOperate = roleAllows(user.role, 'operator');

  // A read made while a switch's change is on its way may carry the old paused state: reads that were in
  // flight at any point while a change was pending are dropped (the change's answer sets the state).
  const generation = useRef(0);
  const pending = useRef(0);
  const load = useCallback(async () => {
    const started = generation.current;
    try {
      const list = await listDags();
      if (started === generation.current && pending.current === 0) setDags(list.dags);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }, []);
  useEffect(() => {
    document.title = 'DAGs · Batuta';
    void load();
  }, [load]);
  // Only run-level changes move the dots; task changes inside a run do not.
  useLiveRefresh(load, (change) => change.created === true || change.runState !== undefined);

  const setPausedHere = (dagId: string, paused: boolean) =>
    setDags((list) => list?.map((d) => (d.dagId === dagId ? { ...d, paused } : d)));
  const toggle = async (dag: DagSummary) => {
    pending.current++;
    generation.current++;
    setPausedHere(dag.dagId, !dag.paused); // at once: the switch follows the hand, the API confirms
    try {
      const updated = await setPaused(dag.dagId, !dag.paused);
      setPausedHere(dag.dagId, updated.paused);
    } catch (failure) {
      setPausedHere(dag.dagId, dag.paused);
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      pending.current--;
      generation.current++;
    }
  };

  return (
    <section aria-labelledby="dags-title">
      <h1 id="dags-title">DAGs</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {!dags && !error && <p aria-busy="true">Loading…</p>}
      {dags && dags.length === 0 && <p>No DAGs are loaded.</p>}
      {dags && dags.length > 0 && (
        <table class="list">
          <caption class="visually-hidden">Every DAG the scheduler loads</caption>
          <thead>
            <tr>
              <th scope="col">DAG</th>
              <th scope="col">Schedule</th>
              <th scope="col">Next run</th>
              <th scope="col">Tasks</th>
              <th scope="col">Last runs</th>
              <th scope="col">Paused</th>
            </tr>
          </thead>
          <tbody>
            {dags.map((dag) => (
              <tr key={dag.dagId}>
                <th scope="row">
                  <Link href={dagPath(dag.dagId)}>{dag.dagId}</Link>
                  {dag.description && <div class="muted">{dag.description}</div>}
                </th>
                <td>{formatSchedule(dag.schedule)}</td>
                <td>{dag.nextFire ? <time dateTime={dag.nextFire}>{formatDate(dag.nextFire)}</time> : '—'}</td>
                <td>{dag.taskCount}</td>
                <td>
                  <ul class="dots" aria-label={`Last runs of ${dag.dagId}`}>
                    {dag.lastRuns.map((run) => (
                      <li key={run.runId}>
                        <Link
                          href={runPath(run.runId)}
                          class={`dot ${stateClass(run.state)}`}
                          title={`${run.state} · ${formatDate(run.logicalDate)}`}
                          aria-label={`Run of ${formatDate(run.logicalDate)}: ${run.state}`}
                        />
                      </li>
                    ))}
                    {dag.lastRuns.length === 0 && <li class="muted">none yet</li>}
                  </ul>
                </td>
                <td>
                  <label class="switch">
                    <input
                      type="checkbox"
                      role="switch"
                      checked={dag.paused}
                      aria-checked={dag.paused}
                      disabled={!(dag.mayOperate ?? mayOperate)}
                      aria-label={`Paused: ${dag.dagId}`}
                      onChange={() => toggle(dag)}
                    />
                    <span aria-hidden="true">{dag.paused ? 'paused' : 'active'}</span>
                  </label>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
