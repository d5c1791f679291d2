// GET /api/dags/{dagId}/grid: the grid of a DAG in one request — its latest runs (a page, with the same
// cursor as GET /api/runs) and every task instance of each, as compact cells. The cells come from the
// store's per-run summary (`getRunCells`: state and try only, written with the instances), read for the
// whole page at once, so a page costs two round trips whatever its size, and never the full records.
import type { TaskInstanceCell } from '@batuta/scheduler';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { visibleDag } from '../auth/dag-access.js';
import type { Env } from '../http-common.js';
import * as schemas from '../schemas.js';
import { decodeRunCursor, encodeRunCursor, type RouteContext } from './route-helpers.js';

const gridQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(25),
  cursor: z.string().min(1).max(1_000).optional(),
});

const cell = z.object({
  taskId: z.string(),
  mapIndex: z.number().int(),
  state: z.string(),
  tryNumber: z.number().int(),
});

const grid = z
  .object({
    dagId: z.string(),
    tasks: z.array(z.string()).openapi({ description: "The DAG's task ids, in declaration order: the rows" }),
    runs: z.array(schemas.run.extend({ cells: z.array(cell) })).openapi({ description: 'Newest first: the columns' }),
    nextCursor: z.string().optional(),
  })
  .openapi('Grid');

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
      const row = new Map(dag.tasks.map((task, index) => [task.id, index]));
      const cells = stored.map((list) => inRowOrder(list, row));
      const last = runs.at(-1);
      return c.json(
        {
          dagId: dag.id,
          tasks: dag.tasks.map((task) => task.id),
          runs: runs.map((run, index) => ({
            ...schemas.runOf(run),
            cells: cells[index] ?? [],
          })),
          ...(page.length > limit && last ? { nextCursor: encodeRunCursor(last) } : {}),
        },
        200,
      );
    },
  );
}

/** Ranges packed into one sort key: row (task) index, map index + 1, and the cell's position. */
const ROW_SPAN = 2 ** 14;
const MAP_SPAN = 2 ** 20;
const POSITION_SPAN = 2 ** 19; // ROW_SPAN × MAP_SPAN × POSITION_SPAN = 2^53: every key is an exact double

/**
 * A run's cells in row order: the DAG's task order (tasks it no longer has last), then map index. A page
 * sorts up to tens of thousands of cells, so each cell's row, map index and position are packed into one
 * number and the numbers sorted natively, rather than calling a comparator (two map lookups) per
 * comparison; cells outside the packed ranges are sorted the plain way.
 */
function inRowOrder(cells: TaskInstanceCell[], row: ReadonlyMap<string, number>): TaskInstanceCell[] {
  const unknownRow = row.size;
  const rank = (cell: TaskInstanceCell) => row.get(cell.taskId) ?? unknownRow;
  const keys = new Float64Array(cells.length);
  let packable = cells.length < POSITION_SPAN && unknownRow < ROW_SPAN;
  for (let position = 0; packable && position < cells.length; position++) {
    const cell = cells[position]!;
    const mapSlot = cell.mapIndex + 1;
    packable = Number.isInteger(mapSlot) && mapSlot >= 0 && mapSlot < MAP_SPAN;
    keys[position] = (rank(cell) * MAP_SPAN + mapSlot) * POSITION_SPAN + position;
  }
  if (!packable) return [...cells].sort((x, y) => rank(x) - rank(y) || x.mapIndex - y.mapIndex);
  keys.sort();
  return Array.from(keys, (key) => cells[key % POSITION_SPAN]!);
}
