// GET /api/pools: each worker pool's capacity, queue depth, running jobs, what they were admitted with and
// the workers alive, as @batuta/orchestrator's PoolStatusReader reads them from the pools' queues.
import type { PoolStatus } from '@batuta/orchestrator';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Env } from '../http-common.js';

/** Where the pool figures come from (a PoolStatusReader, or anything with its `read`). */
export interface PoolStatusSource {
  read(): Promise<PoolStatus[]>;
}

const resources = z.object({
  cpu: z.number(),
  memoryMb: z.number(),
  gpu: z.number(),
  custom: z.record(z.string(), z.number()),
});

const poolList = z
  .object({
    pools: z.array(
      z.object({
        pool: z.string(),
        capacity: resources.openapi({ description: 'What one worker offers' }),
        minWorkers: z.number().int(),
        maxWorkers: z.number().int(),
        workersAlive: z.number().int(),
        waiting: z.number().int().openapi({ description: 'Queue depth' }),
        active: z.number().int(),
        delayed: z.number().int(),
        admitted: resources.openapi({ description: 'What the running jobs were admitted with' }),
        desiredWorkers: z.number().int(),
      }),
    ),
  })
  .openapi('PoolList');

export function registerPoolRoutes(app: OpenAPIHono<Env>, context: { pools?: PoolStatusSource }): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/pools',
      responses: {
        200: {
          description: 'The worker pools and their workers',
          content: { 'application/json': { schema: poolList } },
        },
      },
    }),
    async (c) => c.json({ pools: context.pools ? await context.pools.read() : [] }, 200),
  );
}
