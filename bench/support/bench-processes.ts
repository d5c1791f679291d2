// Shared by the BullMQ benchmarks (dispatch, handoff): a benchmark file runs itself again as a child
// process in another role, and cleans its keys from a shared Redis afterwards.
import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';

/** Runs `script` again as a child with BATUTA_BENCH_ROLE set; resolves once the child says it is ready. */
export function startRoleChild(
  script: string,
  role: string,
  redisUrl: string,
  namespace: string,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...process.execArgv, script], {
    env: { ...process.env, BATUTA_BENCH_ROLE: JSON.stringify({ role, redisUrl, namespace }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${role} exited with code ${code}`)));
  });
}

/** Deletes a benchmark's keys from a shared Redis (a private server is simply stopped). */
export async function removeKeys(redisUrl: string, namespace: string): Promise<void> {
  const redis = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `batuta:${namespace}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}
