// GET /api/schedulers: the schedulers sharing the store, as `batuta status` and every scheduler's peer
// directory see them — announced on the schedulers stream, alive while their heartbeat lease is held, with
// how long ago each renewed it.
import { SCHEDULERS_STREAM, schedulerLease } from '@batuta/scheduler/internals';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Env } from '../http-common.js';
import type { RouteContext } from './route-helpers.js';

/** Events read per page, and pages at most (the stream holds one event per start and stop). */
const PAGE = 1_000;
const MAX_PAGES = 50;

const schedulerList = z
  .object({
    schedulers: z.array(
      z.object({
        schedulerId: z.string(),
        alive: z.boolean().openapi({ description: 'Its heartbeat lease is held now' }),
        heartbeatAgeMs: z
          .number()
          .int()
          .optional()
          .openapi({ description: 'How long ago it last renewed its lease (a live scheduler only)' }),
        lastHeartbeatAt: z.string().optional(),
        leaseExpiresAt: z.string().optional().openapi({ description: 'When it counts as gone without a heartbeat' }),
        announcedAt: z.string().openapi({ description: 'When it last announced itself (started)' }),
        stoppedAt: z.string().optional().openapi({ description: 'When it said it stopped, if it did' }),
      }),
    ),
  })
  .openapi('SchedulerList');

export function registerSchedulerRoutes(app: OpenAPIHono<Env>, context: RouteContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/schedulers',
      responses: {
        200: {
          description: 'The schedulers that announced themselves; alive while their lease is held',
          content: { 'application/json': { schema: schedulerList } },
        },
      },
    }),
    async (c) => {
      const seen = new Map<string, { announcedMs: number; stoppedMs?: number }>();
      let after: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const events = await context.store.readEvents(SCHEDULERS_STREAM, after, PAGE);
        for (const event of events) {
          const id = (event.payload as { schedulerId?: unknown } | null)?.schedulerId;
          if (typeof id !== 'string') continue;
          if (event.type === 'scheduler-stopped') {
            const known = seen.get(id);
            if (known) known.stoppedMs = event.atMs;
          } else {
            seen.set(id, { announcedMs: event.atMs });
          }
        }
        if (events.length < PAGE) break;
        after = events.at(-1)?.id;
      }
      const nowMs = context.now();
      const schedulers = await Promise.all(
        [...seen].map(async ([schedulerId, times]) => {
          const lease = await context.store.getLease(schedulerLease(schedulerId), nowMs);
          const alive = lease?.owner === schedulerId;
          return {
            schedulerId,
            alive,
            ...(lease && alive
              ? {
                  heartbeatAgeMs: Math.max(0, nowMs - lease.renewedMs),
                  lastHeartbeatAt: new Date(lease.renewedMs).toISOString(),
                  leaseExpiresAt: new Date(lease.expiresMs).toISOString(),
                }
              : {}),
            announcedAt: new Date(times.announcedMs).toISOString(),
            ...(times.stoppedMs === undefined ? {} : { stoppedAt: new Date(times.stoppedMs).toISOString() }),
          };
        }),
      );
      schedulers.sort((a, b) => Number(b.alive) - Number(a.alive) || a.schedulerId.localeCompare(b.schedulerId));
      return c.json({ schedulers }, 200);
    },
  );
}
