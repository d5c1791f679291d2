// The grid: one row per task, one column per run (oldest on the left), each cell coloured by the task
// instance's state; a mapped task's instances are summarised in one cell (the most urgent state, and a
// count), as the grid answer (GET /api/dags/{dagId}/grid, one state code per row) summarises them. Only
// the rows in view are in the DOM, so a DAG of a thousand tasks scrolls as one of ten.
// The grid is one tab stop (the last cell focused, else the first in view); arrow keys move between cells,
// Enter opens the task's tries and logs in that run.
import type { TargetedKeyboardEvent } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { DagTask, GridPage, GridRun } from '../api.js';
import { formatDate, stateClass } from '../format.js';
import { Link, runPath, taskPath } from '../router.js';

/** Must match `.grid tbody tr { height }` in styles.css. */
const ROW_HEIGHT = 28;
const OVERSCAN = 10;

interface Cell {
  state: string;
  label: string;
  count: number;
}

/** The code of a row without an instance in the run (the API's `states`). */
const NO_INSTANCE = '.';

/** A run's column read from the grid answer: its rows' tries (not 1) and mapped summaries, by row. */
interface Column {
  run: GridRun;
  tries: Map<number, number>;
  mapped: Map<number, Record<string, number>>;
}

function cellOf(column: Column, row: number | undefined, stateCodes: Record<string, string>): Cell | undefined {
  if (row === undefined) return undefined;
  const code = column.run.states[row];
  if (code === undefined || code === NO_INSTANCE) return undefined;
  const state = stateCodes[code] ?? 'unknown';
  const counts = column.mapped.get(row);
  if (!counts) return { state, label: `${state}, try ${column.tries.get(row) ?? 1}`, count: 1 };
  const entries = Object.entries(counts);
  const count = entries.reduce((sum, [, n]) => sum + n, 0);
  return { state, label: `${count} mapped: ${entries.map(([s, n]) => `${n} ${s}`).join(', ')}`, count };
}

export function Grid({ tasks, grid }: { tasks: DagTask[]; grid: GridPage }) {
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

  // Oldest on the left, as time reads; the answer's rows are looked up by task id, so a DAG read a moment
  // before or after the grid (a task added or removed) still lines up.
  const columns = useMemo<Column[]>(
    () =>
      [...grid.runs].reverse().map((run) => ({
        run,
        tries: new Map(run.tries),
        mapped: new Map(run.mapped.map(({ row, counts }) => [row, counts])),
      })),
    [grid],
  );
  const rowOf = useMemo(() => new Map(grid.tasks.map((taskId, row) => [taskId, row])), [grid]);
  const runs = columns.map((column) => column.run);

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
                {columns.map((entry, column) => {
                  const run = entry.run;
                  const cell = cellOf(entry, rowOf.get(task.taskId), grid.stateCodes);
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
