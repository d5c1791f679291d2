// GET /api/dags/{dagId}/grid: the grid of a DAG in one request — its latest runs (a page, with the same
// cursor as GET /api/runs) and the state of every task row in each. The cells come from the store's
// per-run summary (`getRunCells`: state and try only, written with the instances), read for the whole
// page at once, so a page costs two round trips whatever its size, and never the full records. The answer
// is compact (ADR 018, addendum): per run one character per task row, the tries that are not 1, and a
// summary per mapped row, because one JSON object per cell made a 200 × 100 page 1.29 MB whose
// serialising and parsing cost more than the rest of the request.
import type { TaskInstanceCell, TaskState } from '@batuta/scheduler';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { visibleDag } from '../auth/dag-access.js';
import type { Env } from '../http-common.js';
import * as schemas from '../schemas.js';
import { decodeRunCursor, encodeRunCursor, type RouteContext } from './route-helpers.js';

const gridQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(25),
  cursor: z.string().min(1).max(1_000).optional(),
});

/** One character per task state in a run's `states`; closed, like the states (append, never reuse). */
const STATE_CODES: Readonly<Record<TaskState, string>> = {
  none: 'n',
  scheduled: 'h',
  queued: 'q',
  running: 'r',
  success: 's',
  failed: 'f',
  up_for_retry: 'y',
  upstream_failed: 'u',
  skipped: 'k',
  removed: 'x',
};
/** The character of a row without any instance in the run. */
const NO_INSTANCE = '.';
/** The character of a state this table does not know (a newer writer's); never expected. */
const UNKNOWN_STATE = '?';

// Which state the summary of a row with several instances shows: the one that most needs a look.
const URGENCY: readonly TaskState[] = [
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

const stateCodes = z.record(z.string(), z.string()).openapi({
  description:
    `The legend of \`runs[].states\`: code → task state (${Object.entries(STATE_CODES)
      .map(([state, code]) => `\`${code}\` ${state}`)
      .join(', ')}). ` +
    `\`${NO_INSTANCE}\` is a row without an instance in that run; \`${UNKNOWN_STATE}\` a state not in the legend.`,
  example: Object.fromEntries(Object.entries(STATE_CODES).map(([state, code]) => [code, state])),
});

const gridRun = schemas.run.extend({
  states: z.string().openapi({
    description:
      'One character per row of `tasks`, in the same order (decode with `stateCodes`): the state of the ' +
      "row's instance, or for a row with several instances (a mapped task) the most urgent of their states " +
      '(failed, upstream_failed, up_for_retry, running, queued, scheduled, none, skipped, removed, success)',
  }),
  tries: z.array(z.tuple([z.number().int().min(0), z.number().int()])).openapi({
    description:
      '`[row, tryNumber]` for each row with one instance whose try is not 1, by row; every other row ' +
      'with one instance is on try 1. Rows with several instances are in `mapped` instead',
  }),
  mapped: z
    .array(
      z.object({
        row: z.number().int().min(0),
        counts: z.record(z.string(), z.number().int().min(1)).openapi({
          description: 'Instances by state, states in the order of their first map index',
        }),
      }),
    )
    .openapi({ description: 'The rows with several instances (a mapped task), by row: their count by state' }),
});

const grid = z
  .object({
    dagId: z.string(),
    tasks: z.array(z.string()).openapi({ description: "The DAG's task ids, in declaration order: the rows" }),
    stateCodes,
    runs: z.array(gridRun).openapi({
      description:
        "Newest first: the columns. Instances of tasks the DAG no longer has are not in the grid (the run's " +
        'own page lists them)',
    }),
    nextCursor: z.string().optional(),
  })
  .openapi('Grid');

type GridRun = Pick<z.infer<typeof gridRun>, 'states' | 'tries' | 'mapped'>;

export function registerGridRoutes(app: OpenAPIHono<Env>, context: RouteContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/dags/{dagId}/grid',
      request: { params: schemas.dagParams, query: gridQuery },
      responses: {
        200: {
          description: "A page of the DAG's runs with their task instances",
          content: { 'application/json': { schema: grid } },
        },
        404: { description: 'No such DAG', content: { 'application/problem+json': { schema: schemas.problem } } },
      },
    }),
    async (c) => {
      const dag = visibleDag(c.get('principal'), context.dags(), c.req.valid('param').dagId);
      const { limit, cursor } = c.req.valid('query');
      const page = await context.store.listRuns({
        dagId: dag.id,
        limit: limit + 1,
        ...(cursor ? { before: decodeRunCursor(cursor) } : {}),
      });
      const runs = page.slice(0, limit);
      const stored = await context.store.getRunCells(runs.map((run) => run.runId));
      const tasks = dag.tasks.map((task) => task.id);
      const rowOf = new Map(tasks.map((taskId, index) => [taskId, index]));
      const last = runs.at(-1);
      return c.json(
        {
          dagId: dag.id,
          tasks,
          stateCodes: LEGEND,
          runs: runs.map((run, index) => ({ ...schemas.runOf(run), ...gridRunOf(stored[index] ?? [], rowOf) })),
          ...(page.length > limit && last ? { nextCursor: encodeRunCursor(last) } : {}),
        },
        200,
      );
    },
  );
}

const LEGEND: Record<string, string> = Object.fromEntries(
  Object.entries(STATE_CODES).map(([state, code]) => [code, state]),
);
const CODE_OF: ReadonlyMap<string, number> = new Map(
  Object.entries(STATE_CODES).map(([state, code]) => [state, code.charCodeAt(0)]),
);
const NO_INSTANCE_CODE = NO_INSTANCE.charCodeAt(0);
const UNKNOWN_STATE_CODE = UNKNOWN_STATE.charCodeAt(0);
const urgencyOf = (state: string) => {
  const index = URGENCY.indexOf(state as TaskState);
  return index === -1 ? URGENCY.length : index;
};

/**
 * One run's column: a character per row, written into a byte array as the cells come (in no particular
 * order), so a page of 20,000 cells allocates one string per run, not an object per cell. A row's second
 * instance marks it mapped; only those rows (few) are gathered and summarised afterwards.
 */
function gridRunOf(cells: readonly TaskInstanceCell[], rowOf: ReadonlyMap<string, number>): GridRun {
  const rows = rowOf.size;
  const codes = new Uint8Array(rows).fill(NO_INSTANCE_CODE);
  const only = new Int32Array(rows).fill(-1); // the position of the row's one cell; -2 once it has two
  let mappedRows: Map<number, TaskInstanceCell[]> | undefined;
  for (let position = 0; position < cells.length; position++) {
    const cell = cells[position]!;
    const row = rowOf.get(cell.taskId);
    if (row === undefined) continue;
    const seen = only[row]!;
    if (seen === -1) {
      only[row] = position;
      codes[row] = CODE_OF.get(cell.state) ?? UNKNOWN_STATE_CODE;
    } else {
      mappedRows ??= new Map();
      const list = mappedRows.get(row);
      if (list) list.push(cell);
      else mappedRows.set(row, [cells[seen]!, cell]);
      only[row] = -2;
    }
  }
  const tries: [number, number][] = [];
  for (let row = 0; row < rows; row++) {
    const position = only[row]!;
    if (position < 0) continue;
    const tryNumber = cells[position]!.tryNumber;
    if (tryNumber !== 1) tries.push([row, tryNumber]);
  }
  const mapped: GridRun['mapped'] = [];
  for (const [row, list] of [...(mappedRows ?? [])].sort(([x], [y]) => x - y)) {
    list.sort((x, y) => x.mapIndex - y.mapIndex);
    const counts: Record<string, number> = {};
    let summary = list[0]!.state as string;
    for (const cell of list) {
      counts[cell.state] = (counts[cell.state] ?? 0) + 1;
      if (urgencyOf(cell.state) < urgencyOf(summary)) summary = cell.state;
    }
    codes[row] = CODE_OF.get(summary) ?? UNKNOWN_STATE_CODE;
    mapped.push({ row, counts });
  }
  return { states: textOf(codes), tries, mapped };
}

/** The codes (ASCII) as a string, in chunks small enough for one call's arguments. */
function textOf(codes: Uint8Array): string {
  const CHUNK = 8_192;
  let text = '';
  for (let start = 0; start < codes.length; start += CHUNK) {
    text += String.fromCharCode(...codes.subarray(start, start + CHUNK));
  }
  return text;
}
