// The task graph checks: unknown upstreams, self-dependencies, repeated upstreams, map sources that are
// not upstreams, and cycles. Iterative throughout, so a chain of 100,000 tasks cannot overflow the stack.
import { didYouMean, type PathIssue, type PathSegment } from './issues.js';

/** Beyond this many unknown upstreams, stop computing "did you mean" (it costs a pass over every id). */
const MAX_SUGGESTIONS = 100;
const MAX_CYCLES_REPORTED = 20;
const MAX_CYCLE_NAMES = 20;

/** The part of a task the graph checks read. */
export interface GraphTask {
  id: string;
  upstream: readonly string[];
  /** Mapped arguments that take their list from a task: [argument name, task id]. */
  mapSources?: ReadonlyArray<readonly [string, string]>;
}

/**
 * Unknown upstreams, self-dependencies, repeated upstreams, map sources that are not upstreams, and cycles.
 * Iterative throughout, so a chain of 100,000 tasks cannot overflow the stack.
 */
export function taskGraphIssues(tasks: readonly GraphTask[]): PathIssue[] {
  const issues: PathIssue[] = [];
  const indexOf = new Map<string, number>();
  tasks.forEach((task, index) => {
    if (!indexOf.has(task.id)) indexOf.set(task.id, index);
  });
  const ids = [...indexOf.keys()];
  const adjacency: number[][] = tasks.map(() => []);
  let suggestions = 0;

  tasks.forEach((task, index) => {
    if (indexOf.get(task.id) !== index) return;
    const listed = new Set<string>();
    task.upstream.forEach((upstream, position) => {
      const path: PathSegment[] = ['tasks', task.id, 'upstream', position];
      if (upstream === task.id) {
        issues.push({ code: 'SELF_DEPENDENCY', message: `task '${task.id}' lists itself as an upstream`, path });
      } else if (listed.has(upstream)) {
        issues.push({ code: 'INVALID_VALUE', message: `upstream '${upstream}' is listed twice`, path });
      } else {
        const target = indexOf.get(upstream);
        if (target === undefined) {
          const hint = suggestions++ < MAX_SUGGESTIONS ? didYouMean(upstream, ids) : '';
          const known = ids.length <= 10 ? ` (tasks: ${ids.join(', ')})` : '';
          issues.push({
            code: 'UNKNOWN_UPSTREAM',
            message: `unknown upstream '${upstream}'${hint}${hint === '' ? `; no task has this id${known}` : ''}`,
            path,
          });
        } else {
          adjacency[index]?.push(target);
        }
      }
      listed.add(upstream);
    });
    for (const [argument, source] of task.mapSources ?? []) {
      if (listed.has(source) && source !== task.id) continue;
      const what = indexOf.has(source)
        ? `'${source}', which is not an upstream of '${task.id}'`
        : `'${source}', which is not a task`;
      issues.push({
        code: 'BAD_MAP',
        message: `maps '${argument}' over ${what}; add it to upstream (or write a literal list)`,
        path: ['tasks', task.id, 'map', 'over', argument],
      });
    }
  });

  issues.push(...cycleIssues(tasks, adjacency));
  return issues;
}

/** Depth-first search with an explicit stack; each back edge closes a cycle, reported once per set of tasks. */
function cycleIssues(tasks: readonly GraphTask[], adjacency: readonly number[][]): PathIssue[] {
  const issues: PathIssue[] = [];
  const count = tasks.length;
  const state = new Uint8Array(count); // 0 unvisited, 1 on the stack, 2 done
  const stackPosition = new Int32Array(count);
  const inReportedCycle = new Uint8Array(count);
  const nodeStack: number[] = [];
  const edgeStack: number[] = [];

  for (let root = 0; root < count && issues.length < MAX_CYCLES_REPORTED; root++) {
    if (state[root] !== 0) continue;
    state[root] = 1;
    stackPosition[root] = 0;
    nodeStack.push(root);
    edgeStack.push(0);
    while (nodeStack.length > 0) {
      const top = nodeStack.length - 1;
      const node = nodeStack[top]!;
      const edges = adjacency[node] ?? [];
      const edge = edgeStack[top]!;
      if (edge >= edges.length) {
        state[node] = 2;
        nodeStack.pop();
        edgeStack.pop();
        continue;
      }
      edgeStack[top] = edge + 1;
      const next = edges[edge]!;
      if (state[next] === 0) {
        state[next] = 1;
        stackPosition[next] = nodeStack.length;
        nodeStack.push(next);
        edgeStack.push(0);
      } else if (state[next] === 1 && issues.length < MAX_CYCLES_REPORTED) {
        // nodeStack[i] has nodeStack[i + 1] as an upstream, and `node` has `next`: walking the stack
        // backwards from `node` gives the run order next → node → … → next.
        const members = nodeStack.slice(stackPosition[next]);
        if (members.some((member) => inReportedCycle[member] === 1)) continue;
        for (const member of members) inReportedCycle[member] = 1;
        issues.push(cycleIssue(tasks, [members[0]!, ...members.slice(1).reverse()]));
      }
    }
  }
  return issues;
}

/** `order` lists the cycle in run order (each runs before the next, the last before the first). */
function cycleIssue(tasks: readonly GraphTask[], order: number[]): PathIssue {
  // Start at the task declared first, so the report does not depend on where the search entered the cycle.
  let start = 0;
  for (let index = 1; index < order.length; index++) if (order[index]! < order[start]!) start = index;
  const rotated = [...order.slice(start), ...order.slice(0, start)];
  const first = tasks[rotated[0]!]!;
  const last = tasks[rotated.at(-1)!]!;
  const names = [...rotated, rotated[0]!].map((index) => tasks[index]!.id);
  // A cycle through thousands of tasks is shown by its ends; the field path still names the link to cut.
  if (names.length > MAX_CYCLE_NAMES) {
    const hidden = names.length - MAX_CYCLE_NAMES;
    names.splice(MAX_CYCLE_NAMES / 2, hidden, `… ${hidden} more …`);
  }
  const position = first.upstream.indexOf(last.id);
  return {
    code: 'DAG_CYCLE',
    message: `tasks form a cycle: ${names.join(' → ')}; remove one of these upstream links`,
    path: ['tasks', first.id, 'upstream', position],
  };
}
