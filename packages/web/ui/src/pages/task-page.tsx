// A task instance of a run: what the task declares (operator, trigger rule, pool, resources), its tries
// (each try's state, times, worker and error, from the store's try history) and the log of each try,
// followed live while it runs. A mapped task lists its instances. Operators get the task's clear and
// mark buttons.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type DagDetail, getDag, getRun, type Me, type RunDetail } from '../api.js';
import { LogViewer } from '../components/log-viewer.js';
import { Messages } from '../components/messages.js';
import { TaskActions } from '../components/repair-actions.js';
import { formatDate, formatDuration, formatResources, stateClass } from '../format.js';
import { useLiveRefresh } from '../live.js';
import { getTaskTries, type TaskTry } from '../operations-api.js';
import { Link, runGraphPath, runPath, taskPath } from '../router.js';

export interface TaskPageProps {
  runId: string;
  taskId: string;
  mapIndex: number;
  user: Me;
}

export function TaskPage({ runId, taskId, mapIndex }: TaskPageProps) {
  const [run, setRun] = useState<RunDetail>();
  const [dag, setDag] = useState<DagDetail>();
  const [storedTries, setStoredTries] = useState<TaskTry[]>([]);
  const [chosenTry, setChosenTry] = useState<number>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const dagRead = useRef<Promise<DagDetail | undefined>>(undefined);

  const load = useCallback(async () => {
    try {
      const detail = await getRun(runId);
      dagRead.current ??= getDag(detail.dagId).catch(() => undefined);
      const [spec, tries] = await Promise.all([
        dagRead.current,
        // A mapped task's parent, or an instance not written yet, has no tries (404).
        getTaskTries(runId, taskId, mapIndex)
          .then((answer) => answer.tries)
          .catch(() => []),
      ]);
      setRun(detail);
      setDag(spec);
      setStoredTries(tries);
      setError(undefined);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }, [runId, taskId, mapIndex]);

  useEffect(() => {
    document.title = `${taskId} · ${runId} · Batuta`;
    dagRead.current = undefined;
    setChosenTry(undefined);
    void load();
  }, [runId, taskId, mapIndex, load]);
  useLiveRefresh(load, (change) => change.runId === runId && (change.tasks ?? []).some((t) => t.taskId === taskId));

  const spec = dag?.tasks.find((task) => task.taskId === taskId);
  const instances = run?.tasks.filter((task) => task.taskId === taskId) ?? [];
  const instance = instances.find((task) => task.mapIndex === mapIndex);
  const mapped = instances.some((task) => task.mapIndex >= 0);
  const lastTry = Math.max(instance?.tryNumber ?? 0, storedTries.at(-1)?.tryNumber ?? 0);
  const tries = triesNewestFirst(storedTries, lastTry);
  const shownTry = chosenTry ?? (lastTry > 0 ? lastTry : undefined);
  const label = `${taskId}${mapIndex >= 0 ? `[${mapIndex}]` : ''}`;

  return (
    <section aria-labelledby="task-title">
      <p>
        <Link href={runPath(runId)}>← Run {runId}</Link> · <Link href={runGraphPath(runId)}>Graph</Link>
      </p>
      <h1 id="task-title">Task {label}</h1>
      <Messages error={error} notice={notice} />
      {run && (
        <>
          <dl class="facts">
            <dt>State</dt>
            <dd>
              <span class={`badge ${stateClass(instance?.state ?? 'none')}`} data-testid="task-state">
                {instance?.state ?? (mapped ? 'mapped' : 'none')}
              </span>
              {instance?.reason && <span class="muted"> {instance.reason}</span>}
            </dd>
            <dt>Operator</dt>
            <dd>{spec?.operator ?? '—'}</dd>
            <dt>Trigger rule</dt>
            <dd>{spec?.triggerRule ?? '—'}</dd>
            <dt>Upstream</dt>
            <dd>{spec && spec.upstream.length > 0 ? spec.upstream.join(', ') : '—'}</dd>
            <dt>Pool</dt>
            <dd>{spec?.pool ?? 'default'}</dd>
            <dt>Resources</dt>
            <dd>{formatResources(spec?.resources)}</dd>
          </dl>
          {dag?.mayOperate && (
            <TaskActions
              runId={runId}
              taskId={taskId}
              taskIds={dag.tasks.map((task) => task.taskId)}
              ended={run.state === 'success' || run.state === 'failed'}
              onDone={(message) => {
                setNotice(message);
                void load();
              }}
            />
          )}
          {mapped && (
            <nav aria-label="Mapped instances">
              <h2>Mapped instances</h2>
              <ul class="chips">
                {instances.map((task) => (
                  <li key={task.mapIndex}>
                    <Link
                      href={taskPath(runId, taskId, task.mapIndex)}
                      class={`chip ${stateClass(task.state)}`}
                      aria-current={task.mapIndex === mapIndex ? 'page' : undefined}
                      aria-label={`Instance ${task.mapIndex}: ${task.state}`}
                    >
                      {task.mapIndex}
                    </Link>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          <h2>Tries</h2>
          {tries.length === 0 ? (
            <p class="muted">No try has started yet.</p>
          ) : (
            <table class="list" data-testid="tries">
              <caption class="visually-hidden">Tries of {label}</caption>
              <thead>
                <tr>
                  <th scope="col">Try</th>
                  <th scope="col">State</th>
                  <th scope="col">Started</th>
                  <th scope="col">Ended</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Worker</th>
                  <th scope="col">Error</th>
                  <th scope="col">Log</th>
                </tr>
              </thead>
              <tbody>
                {tries.map((entry) => {
                  const { tryNumber } = entry;
                  return (
                    <tr key={tryNumber} aria-current={tryNumber === shownTry ? 'true' : undefined}>
                      <th scope="row">{tryNumber}</th>
                      <td>
                        {entry.state ? (
                          <span class={`badge ${stateClass(entry.state)}`} title={entry.reason}>
                            {entry.state}
                          </span>
                        ) : (
                          <span class="muted">{entry.hasLog ? 'log only' : 'not recorded'}</span>
                        )}
                      </td>
                      <td>{formatDate(entry.startedAt)}</td>
                      <td>{formatDate(entry.endedAt)}</td>
                      <td>{formatDuration(entry.durationMs)}</td>
                      <td>{entry.worker ?? '—'}</td>
                      <td>
                        {entry.error ? (
                          <span class="error" data-testid={`try-error-${tryNumber}`}>
                            {entry.error.code && <code>{entry.error.code}</code>} {entry.error.message}
                          </span>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td>
                        <button
                          type="button"
                          data-testid={`show-try-${tryNumber}`}
                          aria-pressed={tryNumber === shownTry}
                          aria-label={`Show the log of try ${tryNumber}`}
                          onClick={() => setChosenTry(tryNumber)}
                          disabled={!entry.hasLog && tryNumber !== instance?.tryNumber}
                        >
                          Log
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {instance?.error && (
            <p class="error">
              {instance.error.code && <code>{instance.error.code}</code>} {instance.error.message}
            </p>
          )}
          {shownTry !== undefined && (!mapped || mapIndex >= 0) && (
            <LogViewer runId={runId} taskId={taskId} mapIndex={mapIndex} tryNumber={shownTry} />
          )}
        </>
      )}
      {!run && !error && <p aria-busy="true">Loading…</p>}
    </section>
  );
}

/**
 * The rows of the tries table, newest first: every try the API answered, and a bare row for any try
 * number up to the instance's own that neither the history nor a log knows (its log was pruned).
 */
function triesNewestFirst(stored: readonly TaskTry[], lastTry: number): TaskTry[] {
  const byNumber = new Map(stored.map((entry) => [entry.tryNumber, entry]));
  return Array.from(
    { length: lastTry },
    (_, i) => byNumber.get(lastTry - i) ?? { tryNumber: lastTry - i, hasLog: false },
  );
}
