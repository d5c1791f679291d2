// The grid: one row per task, one column per run (oldest on the left), each cell coloured by the task
// instance's state; a mapped task's instances are summarised in one cell (the most urgent state, and a
// count). Only the rows in view are in the DOM, so a DAG of a thousand tasks scrolls as one of ten.
// The grid is one tab stop (the last cell focused, else the first in view); arrow keys move between cells,
// Enter opens the task's tries and logs in that run.
import type { TargetedKeyboardEvent } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { DagTask, RunDetail, TaskInstance } from '../api.js';
import { formatDate, stateClass } from '../format.js';
import { Link, runPath, taskPath } from '../router.js';

/** Must match `.grid tbody tr { height }` in styles.css. */
const ROW_HEIGHT = 28;
const OVERSCAN = 10;

// Which state a summary of several instances shows: the one that most needs a look.
const URGENCY = [
  'failed',
  'upstream_failed',
  'up_for_retry',
  'running',
  'queued',
  'scheduled',
  'none',
  'skipped',
  'removed',
  'success',
];

interface Cell {
  state: string;
  label: string;
  count: number;
}

function summarise(instances: TaskInstance[]): Cell {
  if (instances.length === 1) {
    const only = instances[0]!;
    return { state: only.state, label: `${only.state}, try ${only.tryNumber}`, count: 1 };
  }
  const counts = new Map<string, number>();
  for (const instance of instances) counts.set(instance.state, (counts.get(instance.state) ?? 0) + 1);
  const state = [...counts.keys()].sort((a, b) => rank(a) - rank(b))[0] ?? 'none';
  const label = `${instances.length} mapped: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`;
  return { state, label, count: instances.length };
}

const rank = (state: string) => {
  const index = URGENCY.indexOf(state);
  return index === -1 ? URGENCY.length : index;
};

export function Grid({ tasks, runs }: { tasks: DagTask[]; runs: RunDetail[] }) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewportHeight, setViewportHeight] = useState(600);

  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    setViewportHeight(element.clientHeight);
    const observer = new ResizeObserver(() => setViewportHeight(element.clientHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const cells = useMemo(() => {
    const byRun = new Map<string, Map<string, Cell>>();
    for (const run of runs) {
      const byTask = new Map<string, TaskInstance[]>();
      for (const instance of run.tasks) {
        const list = byTask.get(instance.taskId) ?? [];
        list.push(instance);
        byTask.set(instance.taskId, list);
      }
      byRun.set(run.runId, new Map([...byTask].map(([taskId, list]) => [taskId, summarise(list)])));
    }
    return byRun;
  }, [runs]);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(tasks.length, Math.ceil((scrollTop + viewportHeight) / ROW_HEIGHT) + OVERSCAN);
  const visible = tasks.slice(first, last);
  const [active, setActive] = useState<[number, number]>([0, 0]);
  const tabRow = active[0] >= first && active[0] < last ? active[0] : first;
  const tabColumn = tabRow === active[0] ? Math.min(active[1], runs.length - 1) : 0;

  const onKeyDown = (event: TargetedKeyboardEvent<HTMLTableElement>) => {
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    const move = moves[event.key];
    const target = event.target as HTMLElement;
    if (!move || !target.dataset.row) return;
    event.preventDefault();
    const row = Math.min(tasks.length - 1, Math.max(0, Number(target.dataset.row) + move[0]));
    const column = Math.min(runs.length - 1, Math.max(0, Number(target.dataset.column) + move[1]));
    const focusCell = () =>
      scroller.current?.querySelector<HTMLElement>(`[data-row="${row}"][data-column="${column}"]`)?.focus();
    const element = scroller.current;
    if (
      element &&
      (row * ROW_HEIGHT < element.scrollTop || (row + 1) * ROW_HEIGHT > element.scrollTop + element.clientHeight)
    ) {
      element.scrollTop = Math.max(0, row * ROW_HEIGHT - element.clientHeight / 2);
      setScrollTop(element.scrollTop);
      requestAnimationFrame(() => requestAnimationFrame(focusCell));
    } else {
      focusCell();
    }
  };

  if (runs.length === 0) return <p class="muted">No runs yet: trigger one, or wait for the schedule.</p>;

  return (
    <div class="grid-scroll" ref={scroller} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
      <table class="grid" aria-label="Task states by run" aria-rowcount={tasks.length + 1} onKeyDown={onKeyDown}>
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col" class="task-name">
              Task
            </th>
            {runs.map((run) => (
              <th scope="col" key={run.runId} class="run-head">
                <Link
                  href={runPath(run.runId)}
                  class={`bar ${stateClass(run.state)}`}
                  title={`${run.runId}: ${run.state}`}
                  aria-label={`Run of ${formatDate(run.logicalDate)}: ${run.state}`}
                />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {first > 0 && (
            <tr class="spacer">
              <td colSpan={runs.length + 1} style={{ height: `${first * ROW_HEIGHT}px` }} />
            </tr>
          )}
          {visible.map((task, offset) => {
            const row = first + offset;
            return (
              <tr key={task.taskId} aria-rowindex={row + 2}>
                <th scope="row" class="task-name" title={task.operator}>
                  {task.taskId}
                  {task.mapped && <span class="muted"> [ ]</span>}
                </th>
                {runs.map((run, column) => {
                  const cell = cells.get(run.runId)?.get(task.taskId);
                  const state = cell?.state ?? 'none';
                  return (
                    <td key={run.runId}>
                      <Link
                        href={taskPath(run.runId, task.taskId)}
                        class={`cell ${stateClass(state)}`}
                        data-row={row}
                        data-column={column}
                        data-testid={`grid-cell-${run.runId}-${task.taskId}`}
                        tabIndex={row === tabRow && column === tabColumn ? 0 : -1}
                        onFocus={() => setActive([row, column])}
                        aria-label={`${task.taskId} in the run of ${formatDate(run.logicalDate)}: ${cell?.label ?? 'no instance'}`}
                        title={`${task.taskId} · ${cell?.label ?? 'no instance'}`}
                      >
                        {cell && cell.count > 1 ? cell.count : ''}
                      </Link>
                    </td>
                  );
                })}
              </tr>
            );
          })}
          {last < tasks.length && (
            <tr class="spacer">
              <td colSpan={runs.length + 1} style={{ height: `${(tasks.length - last) * ROW_HEIGHT}px` }} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
