// GET /api/datasets: the datasets the visible DAGs publish (a task's `outlets`) and wait for (a `datasets`
// schedule), with who produces and who consumes each — the dataset graph, from the loaded DAGs alone.
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { mayView } from '../auth/dag-access.js';
import type { Env } from '../http-common.js';
import type { RouteContext } from './route-helpers.js';

const datasetList = z
  .object({
    datasets: z.array(
      z.object({
        dataset: z.string(),
        producers: z.array(z.object({ dagId: z.string(), taskId: z.string() })),
        consumers: z.array(z.string()).openapi({ description: 'DAGs scheduled on this dataset' }),
      }),
    ),
  })
  .openapi('DatasetList');

export function registerDatasetRoutes(app: OpenAPIHono<Env>, context: Pick<RouteContext, 'dags'>): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/datasets',
      responses: {
        200: {
          description: 'Datasets with their producing tasks and consuming DAGs',
          content: { 'application/json': { schema: datasetList } },
        },
      },
    }),
    (c) => {
      const principal = c.get('principal');
      const byName = new Map<string, { producers: Array<{ dagId: string; taskId: string }>; consumers: string[] }>();
      const entry = (name: string) => {
        let found = byName.get(name);
        if (!found) {
          found = { producers: [], consumers: [] };
          byName.set(name, found);
        }
        return found;
      };
      for (const dag of context.dags().values()) {
        if (!mayView(principal, dag.access)) continue;
        for (const task of dag.tasks)
          for (const name of task.outlets) entry(name).producers.push({ dagId: dag.id, taskId: task.id });
        if (dag.schedule?.kind === 'datasets')
          for (const name of dag.schedule.datasets) entry(name).consumers.push(dag.id);
      }
      const datasets = [...byName]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([dataset, { producers, consumers }]) => ({ dataset, producers, consumers }));
      return c.json({ datasets }, 200);
    },
  );
}
