// The BullMQ queue of a worker pool, built in one place so the executor, the autoscaler and the status
// command agree on its name and prefix (a queue built with another prefix is silently another queue).
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { checkNamespace, checkPoolName, poolQueuePrefix } from './keys.js';

/** The queue of `pool` in `namespace`, on `connection` (shared, not closed with the queue). */
export function poolQueue(
  connection: Redis,
  namespace: string,
  pool: string,
  onError?: (error: unknown) => void,
): Queue {
  const queue = new Queue(checkPoolName(pool), { connection, prefix: poolQueuePrefix(checkNamespace(namespace)) });
  // Without a listener an 'error' event would throw; the caller decides where errors go.
  queue.on('error', onError ?? (() => {}));
  return queue;
}
