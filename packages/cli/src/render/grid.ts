// The live view of `batuta dags test`: one row per task, redrawn in place on a terminal, or one line
// per state change when the output is not a terminal (CI logs).
import type { DagSpec, LogLine, TaskInstanceRecord, TaskState } from '@batuta/scheduler';

/** Latest log lines shown beneath the grid for each running task. */
export const TAIL_LINES = 3;

const SYMBOL: Record<TaskState, string> = {
  none: '·',
  scheduled: '○',
  queued: '◔',
  running: '▶',
  success: '✔',
  failed: '✖',
  up_for_retry: '↻',
  upstream_failed: '⊘',
  skipped: '⤼',
  removed: '–',
};

const COLOR: Partial<Record<TaskState, string>> = {
  success: '\x1b[32m',
  failed: '\x1b[31m',
  upstream_failed: '\x1b[33m',
  up_for_retry: '\x1b[33m',
  running: '\x1b[36m',
  skipped: '\x1b[90m',
};

/** Per-task view state: the task row aggregates its mapped instances. */
interface Row {
  taskId: string;
  state: TaskState;
  tries: number;
  startMs?: number;
  endMs?: number;
  mapped: { total: number; done: number };
  progress?: number;
  reason?: string;
}

const TERMINAL = new Set<TaskState>(['success', 'failed', 'skipped', 'upstream_failed', 'removed']);

/** Keeps the latest state of every task of a run and renders it. */
export class RunGrid {
  private readonly rows = new Map<string, Row>();
  private readonly instances = new Map<string, TaskInstanceRecord>();
  private readonly color: boolean;
  private drawnLines = 0;
  /** The latest lines of each task (instance), newest last, for the view beneath the grid. */
  private readonly tails = new Map<string, { taskId: string; label: string; lines: LogLine[] }>();

  constructor(
    readonly dag: DagSpec,
    private readonly out: NodeJS.WriteStream,
    private readonly live: boolean,
  ) {
    this.color = live && !process.env.NO_COLOR;
    for (const task of dag.tasks)
      this.rows.set(task.id, { taskId: task.id, state: 'none', tries: 0, mapped: { total: 0, done: 0 } });
  }

  update(instance: TaskInstanceRecord): void {
    const row = this.rows.get(instance.taskId);
    if (!row) return;
    if (instance.mapIndex >= 0) {
      this.instances.set(`${instance.taskId}#${instance.mapIndex}`, instance);
      let total = 0;
      let done = 0;
      for (const i of this.instances.values()) {
        if (i.taskId !== instance.taskId) continue;
        total++;
        if (TERMINAL.has(i.state)) done++;
      }
      row.mapped = { total, done };
      row.tries = Math.max(row.tries, instance.tryNumber);
      if (row.startMs === undefined && instance.startMs !== undefined) row.startMs = instance.startMs;
      if (!TERMINAL.has(row.state)) row.state = 'running';
    } else {
      const changed = row.state !== instance.state;
      row.state = instance.state;
      row.tries = Math.max(row.tries, instance.tryNumber);
      // Start and end come from the same record (the same try): a new try has no end yet.
      if (instance.startMs !== undefined) row.startMs = instance.startMs;
      else delete row.startMs;
      if (instance.endMs !== undefined) row.endMs = instance.endMs;
      else delete row.endMs;
      if (instance.reason !== undefined) row.reason = instance.reason;
      if (!this.live && changed) this.out.write(`${this.line(row, Date.now())}\n`);
    }
  }

  setProgress(taskId: string, fraction: number): void {
    const row = this.rows.get(taskId);
    if (row) row.progress = fraction;
  }

  /** A task's new log lines: kept for the view beneath the grid (terminal), printed as they come otherwise. */
  addLogLines(taskId: string, mapIndex: number, lines: readonly LogLine[]): void {
    const label = mapIndex >= 0 ? `${taskId}#${mapIndex}` : taskId;
    if (!this.live) {
      for (const line of lines)
        this.out.write(`  [${label}] ${line.stream === 'stderr' ? '(stderr) ' : ''}${line.text}\n`);
      return;
    }
    let tail = this.tails.get(label);
    if (!tail) {
      tail = { taskId, label, lines: [] };
      this.tails.set(label, tail);
    }
    tail.lines.push(...lines.slice(-TAIL_LINES));
    if (tail.lines.length > TAIL_LINES) tail.lines.splice(0, tail.lines.length - TAIL_LINES);
  }

  /** Redraws the grid in place, with each running task's latest log lines beneath it (terminal only). */
  draw(nowMs: number): void {
    if (!this.live) return;
    const lines = [...this.rows.values()].map((row) => this.line(row, nowMs));
    const width = Math.max(20, (this.out.columns ?? 100) - 1);
    for (const tail of this.tails.values()) {
      if (this.rows.get(tail.taskId)?.state !== 'running' || tail.lines.length === 0) continue;
      lines.push(this.paintDim(`── ${tail.label} ──`));
      for (const line of tail.lines) {
        const text = `  ${line.stream === 'stderr' ? '! ' : ''}${withoutControlCharacters(line.text)}`;
        lines.push(text.length > width ? `${text.slice(0, width - 1)}…` : text);
      }
    }
    let text = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F` : '';
    for (const line of lines) text += `\x1b[2K${line}\n`;
    // Clears what a taller previous frame left below (a task's log lines after it finished).
    text += '\x1b[J';
    this.out.write(text);
    this.drawnLines = lines.length;
  }

  /** The final table: task, state, tries, duration, reason. */
  summary(nowMs: number): string {
    const rows = [...this.rows.values()];
    const width = Math.max(4, ...rows.map((r) => r.taskId.length));
    const header = `${'task'.padEnd(width)}  ${'state'.padEnd(15)}  tries  ${'duration'.padStart(9)}  detail`;
    const body = rows.map((row) => {
      const detail = row.mapped.total > 0 ? `${row.mapped.total} mapped instances` : (row.reason ?? '');
      return `${row.taskId.padEnd(width)}  ${this.paint(row.state, row.state.padEnd(15))}  ${String(row.tries).padStart(5)}  ${duration(row, nowMs).padStart(9)}  ${detail}`;
    });
    return [header, ...body].join('\n');
  }

  private line(row: Row, nowMs: number): string {
    const mapped = row.mapped.total > 0 ? ` [${row.mapped.done}/${row.mapped.total}]` : '';
    const progress = row.progress !== undefined && row.state === 'running' ? ` ${Math.round(row.progress * 100)}%` : '';
    const tries = row.tries > 1 ? ` try ${row.tries}` : '';
    return `${this.paint(row.state, SYMBOL[row.state])} ${row.taskId} ${this.paint(row.state, row.state)}${mapped}${progress}${tries} ${duration(row, nowMs)}`.trimEnd();
  }

  private paintDim(text: string): string {
    return this.color ? `\x1b[90m${text}\x1b[0m` : text;
  }

  private paint(state: TaskState, text: string): string {
    const color = this.color ? COLOR[state] : undefined;
    return color ? `${color}${text}\x1b[0m` : text;
  }
}

function duration(row: Row, nowMs: number): string {
  if (row.startMs === undefined) return '';
  // Clocks of different machines may disagree by a little; a duration is never negative.
  const ms = Math.max(0, (row.endMs ?? nowMs) - row.startMs);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** A task's line with its control characters (escape codes, tabs, carriage returns) as spaces, so it cannot move the cursor of the redraw. */
function withoutControlCharacters(text: string): string {
  let result = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    result += code < 0x20 || code === 0x7f ? ' ' : char;
  }
  return result;
}
