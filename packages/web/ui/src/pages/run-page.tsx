// A run: its state, conf and times, its task instances (tries, durations, worker, error), and a cancel
// button for operators while it has not ended.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { cancelRun, getDag, getRun, type Me, type RunDetail, roleAllows } from '../api.js';
import { formatDate, formatDuration, stateClass } from '../format.js';
import { dagPath, Link } from '../router.js';

const REFRESH_MS = 5000;

export function RunPage({ runId, user }: { runId: string; user: Me }) {
  const [run, setRun] = useState<RunDetail>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  const load = useCallback(async () => {
    try {
      const detail = await getRun(runId);
      // Tasks in the DAG's declaration order (upstream first), as the grid shows them.
      const dag = await getDag(detail.dagId).catch(() => undefined);
      const order = new Map(dag?.tasks.map((task, index) => [task.taskId, index]));
      const at = (taskId: string) => order.get(taskId) ?? order.size;
      detail.tasks.sort(
        (a, b) => at(a.taskId) - at(b.taskId) || a.taskId.localeCompare(b.taskId) || a.mapIndex - b.mapIndex,
      );
      setRun(detail);
      setError(undefined);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }, [runId]);

  useEffect(() => {
    document.title = `${runId} · Batuta`;
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [runId, load]);

  const cancel = async () => {
    try {
      const result = await cancelRun(runId);
      setNotice(
        result.outcome === 'cancelled'
          ? 'Cancelled.'
          : result.outcome === 'requested'
            ? 'Cancellation asked of the scheduler driving the run.'
            : 'The run had already ended.',
      );
      await load();
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };

  const ended = run?.state === 'success' || run?.state === 'failed';
  return (
    <section aria-labelledby="run-title">
      {run && (
        <p>
          <Link href={dagPath(run.dagId)}>← {run.dagId}</Link>
        </p>
      )}
      <h1 id="run-title">Run {runId}</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {notice && (
        <p role="status" class="ok">
          {notice}
        </p>
      )}
      {run && (
        <>
          <dl class="facts">
            <dt>State</dt>
            <dd>
              <span class={`badge ${stateClass(run.state)}`}>{run.state}</span>
              {run.reason && <span class="muted"> {run.reason}</span>}
            </dd>
            <dt>Kind</dt>
            <dd>{run.kind}</dd>
            <dt>Logical date</dt>
            <dd>{formatDate(run.logicalDate)}</dd>
            <dt>Started</dt>
            <dd>{formatDate(run.startedAt)}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(run.durationMs)}</dd>
          </dl>
          {roleAllows(user.role, 'operator') && !ended && (
            <button type="button" class="danger" onClick={cancel}>
              Cancel run
            </button>
          )}
          <h2>Conf</h2>
          <pre class="conf">{JSON.stringify(run.conf, null, 2)}</pre>
          <h2>Tasks</h2>
          {run.tasks.length === 0 ? (
            <p class="muted">No task has been scheduled yet.</p>
          ) : (
            <table class="list">
              <caption class="visually-hidden">Task instances of this run</caption>
              <thead>
                <tr>
                  <th scope="col">Task</th>
                  <th scope="col">State</th>
                  <th scope="col">Try</th>
                  <th scope="col">Started</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Worker</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {run.tasks.map((task) => (
                  <tr key={`${task.taskId}/${task.mapIndex}`} id={`task-${encodeURIComponent(task.taskId)}`}>
                    <th scope="row">
                      {task.taskId}
                      {task.mapIndex >= 0 && <span class="muted">[{task.mapIndex}]</span>}
                    </th>
                    <td>
                      <span class={`badge ${stateClass(task.state)}`}>{task.state}</span>
                    </td>
                    <td>{task.tryNumber}</td>
                    <td>{formatDate(task.startedAt)}</td>
                    <td>{formatDuration(task.durationMs)}</td>
                    <td>{task.worker ?? '—'}</td>
                    <td>
                      {task.error ? (
                        <span class="error">
                          {task.error.code && <code>{task.error.code}</code>} {task.error.message}
                        </span>
                      ) : (
                        (task.reason ?? '')
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      {!run && !error && <p aria-busy="true">Loading…</p>}
    </section>
  );
}
