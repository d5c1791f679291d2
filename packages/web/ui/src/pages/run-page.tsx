// A run: its state, conf and times, its task instances (tries, durations, resources, worker, error), and for
// who may operate its DAG: clear, mark and cancel, each confirmed. It updates live from the event stream.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type DagDetail, getDag, getRun, type Me, type RunDetail } from '../api.js';
import { Messages } from '../components/messages.js';
import { RunActions, TaskActions } from '../components/repair-actions.js';
import { formatDate, formatDuration, formatResources, stateClass } from '../format.js';
import { useLiveRefresh } from '../live.js';
import { dagPath, Link, runGraphPath, taskPath } from '../router.js';

export function RunPage({ runId }: { runId: string; user: Me }) {
  const [run, setRun] = useState<RunDetail>();
  const [dag, setDag] = useState<DagDetail>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const dagRead = useRef<Promise<DagDetail | undefined>>(undefined);

  const load = useCallback(async () => {
    try {
      const detail = await getRun(runId);
      // The DAG (task order, resources, whether this user may operate it) is read once per page.
      dagRead.current ??= getDag(detail.dagId).catch(() => undefined);
      const spec = await dagRead.current;
      // Tasks in the DAG's declaration order (upstream first), as the grid shows them.
      const order = new Map(spec?.tasks.map((task, index) => [task.taskId, index]));
      const at = (taskId: string) => order.get(taskId) ?? order.size;
      detail.tasks.sort(
        (a, b) => at(a.taskId) - at(b.taskId) || a.taskId.localeCompare(b.taskId) || a.mapIndex - b.mapIndex,
      );
      setDag(spec);
      setRun(detail);
      setError(undefined);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }, [runId]);

  useEffect(() => {
    document.title = `${runId} · Batuta`;
    dagRead.current = undefined;
    void load();
  }, [runId, load]);
  useLiveRefresh(load, (change) => change.runId === runId);

  const done = (message: string) => {
    setNotice(message);
    void load();
  };

  const ended = run?.state === 'success' || run?.state === 'failed';
  const mayOperate = dag?.mayOperate === true;
  const resources = new Map(dag?.tasks.map((task) => [task.taskId, task.resources]));
  const taskIds = dag?.tasks.map((task) => task.taskId) ?? [...new Set(run?.tasks.map((t) => t.taskId))];
  return (
    <section aria-labelledby="run-title">
      {run && (
        <p>
          <Link href={dagPath(run.dagId)}>← {run.dagId}</Link> · <Link href={runGraphPath(runId)}>Graph</Link>
        </p>
      )}
      <h1 id="run-title">Run {runId}</h1>
      <Messages error={error} notice={notice} />
      {run && (
        <>
          <dl class="facts">
            <dt>State</dt>
            <dd>
              <span class={`badge ${stateClass(run.state)}`} data-testid="run-state" title={`Run state: ${run.state}`}>
                {run.state}
              </span>
              {run.reason && <span class="muted"> {run.reason}</span>}
            </dd>
            <dt>Kind</dt>
            <dd>{run.kind}</dd>
            <dt>Logical date</dt>
            <dd>{formatDate(run.logicalDate)}</dd>
            <dt>Started</dt>
            <dd>{formatDate(run.startedAt)}</dd>
            <dt>Ended</dt>
            <dd>{formatDate(run.endedAt)}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(run.durationMs)}</dd>
          </dl>
          {mayOperate && <RunActions runId={runId} taskIds={taskIds} ended={ended} onDone={done} />}
          <h2>Conf</h2>
          <pre class="conf">{JSON.stringify(run.conf, null, 2)}</pre>
          <h2>Tasks</h2>
          {run.tasks.length === 0 ? (
            <p class="muted">No task has been scheduled yet.</p>
          ) : (
            <div class="table-scroll">
              <table class="list">
                <caption class="visually-hidden">Task instances of this run</caption>
                <thead>
                  <tr>
                    <th scope="col">Task</th>
                    <th scope="col">State</th>
                    <th scope="col">Try</th>
                    <th scope="col">Started</th>
                    <th scope="col">Duration</th>
                    <th scope="col">Resources</th>
                    <th scope="col">Worker</th>
                    <th scope="col">Error</th>
                    {mayOperate && <th scope="col">Actions</th>}
                  </tr>
                </thead>
                <tbody>
                  {run.tasks.map((task) => (
                    <tr
                      key={`${task.taskId}/${task.mapIndex}`}
                      id={task.mapIndex < 0 ? `task-${encodeURIComponent(task.taskId)}` : undefined}
                      data-testid={`task-row-${task.taskId}${task.mapIndex >= 0 ? `-${task.mapIndex}` : ''}`}
                    >
                      <th scope="row">
                        <Link href={taskPath(runId, task.taskId, task.mapIndex)}>
                          {task.taskId}
                          {task.mapIndex >= 0 && <span class="muted">[{task.mapIndex}]</span>}
                        </Link>
                      </th>
                      <td>
                        <span class={`badge ${stateClass(task.state)}`}>{task.state}</span>
                      </td>
                      <td>{task.tryNumber}</td>
                      <td>{formatDate(task.startedAt)}</td>
                      <td>{formatDuration(task.durationMs)}</td>
                      <td>{formatResources(resources.get(task.taskId))}</td>
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
                      {mayOperate && (
                        <td>
                          {task.mapIndex <= 0 && (
                            <TaskActions
                              runId={runId}
                              taskId={task.taskId}
                              taskIds={taskIds}
                              ended={ended}
                              onDone={done}
                            />
                          )}
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
      {!run && !error && <p aria-busy="true">Loading…</p>}
    </section>
  );
}
