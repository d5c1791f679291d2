// GET /api/events/stream: live updates as server-sent events. An `event: change` per store change notice
// (run created, run or task instance state written) of the DAGs the principal may view, a `ready` event once
// listening, and a comment line every heartbeat so proxies keep the connection. A client reads the state
// once (GET /api/runs/…) and then applies the changes; after a reconnect it reads again.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { mayView } from '../auth/dag-access.js';
import type { Env } from '../http-common.js';
import { ChangeHub } from '../live/change-hub.js';
import type { RouteContext } from './route-helpers.js';

export function registerLiveRoutes(app: OpenAPIHono<Env>, context: RouteContext & { heartbeatMs: number }): ChangeHub {
  const hub = new ChangeHub(context.store);
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/events/stream',
      responses: {
        200: {
          description:
            'Server-sent events: `ready` once listening, then `change` with a StoreChange JSON ' +
            '({runId, dagId, created?, runState?, tasks?: [{taskId, mapIndex, state, tryNumber}]}) per change',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
      },
    }),
    (c) => {
      const principal = c.get('principal');
      return streamSSE(c, async (stream) => {
        let wake: () => void = () => {};
        const closed = new Promise<void>((resolve) => {
          wake = resolve;
        });
        stream.onAbort(() => wake());
        // Changes are written in order, one after the other.
        let queue = Promise.resolve();
        const leave = await hub.add({
          mayView: (dagId) => mayView(principal, context.dags().get(dagId)?.access),
          send: (change) => {
            queue = queue
              .then(() => stream.writeSSE({ event: 'change', data: JSON.stringify(change) }))
              .catch(() => wake());
          },
        });
        try {
          await stream.writeSSE({ event: 'ready', data: '{}' });
          while (!stream.aborted && !stream.closed) {
            let timer: ReturnType<typeof setTimeout> | undefined;
            const beat = new Promise<'beat'>((resolve) => {
              timer = setTimeout(() => resolve('beat'), context.heartbeatMs);
            });
            const why = await Promise.race([beat, closed.then(() => 'closed' as const)]);
            clearTimeout(timer);
            if (why === 'closed') break;
            await queue;
            await stream.write(': heartbeat\n\n');
          }
        } finally {
          await leave();
        }
      }) as never;
    },
  );
  return hub;
}
