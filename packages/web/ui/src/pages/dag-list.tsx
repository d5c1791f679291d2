// The DAG list: id, schedule, tasks, the last runs as coloured dots, and a paused switch for operators.
import { useEffect, useState } from 'preact/hooks';
import { type DagSummary, listDags, type Me, roleAllows, setPaused } from '../api.js';
import { formatDate, formatSchedule, stateClass } from '../format.js';
import { dagPath, Link, runPath } from '../router.js';

export function DagList({ user }: { user: Me }) {
  const [dags, setDags] = useState<DagSummary[]>();
  const [error, setError] = useState<string>();
  const mayOperate = roleAllows(user.role, 'operator');

  useEffect(() => {
    document.title = 'DAGs · Batuta';
    listDags()
      .then((list) => setDags(list.dags))
      .catch((failure: Error) => setError(failure.message));
  }, []);

  const toggle = async (dag: DagSummary) => {
    try {
      const updated = await setPaused(dag.dagId, !dag.paused);
      setDags((list) => list?.map((d) => (d.dagId === dag.dagId ? { ...d, paused: updated.paused } : d)));
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
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
                      disabled={!mayOperate}
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
