// `npm run bench -- handoff [--quick]`: a chain of 200 no-op tasks; the handoff is the time from an
// upstream body ending to its downstream body starting, both stamped in the worker process (one clock).
//  - Batuta: RunCoordinator (RedisStateStore) → BullmqExecutor → one ResourceWorker process. The path of
//    one handoff: the worker's report → the executor's XREADGROUP → the engine → the store → addBulk →
//    the worker's fetch.
//  - raw BullMQ: a Worker (concurrency 1) whose processor adds the next job of the chain (Queue.add from
//    the worker) and returns; the next job comes back with the completion (BullMQ's fetch-next).
// Redis: BATUTA_REDIS_URL when set, else a private redis-server. Last line:
// {"bench":"handoff","p50Ms","p99Ms","baseline":{"p50Ms","p99Ms"}}.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BullmqExecutor, ResourceWorker } from '@batuta/orchestrator';
import {
  createOperatorRegistry,
  createTaskInvoker,
  type DagSpec,
  DEFAULT_RETRY,
  RedisStateStore,
  RunCoordinator,
  type TaskInvoker,
  type TaskSpec,
} from '@batuta/scheduler';
import { RedisServer } from '@batuta/scheduler/redis-server';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { removeKeys, startRoleChild } from './support/bench-processes.js';

const LENGTH = 200;
const POOL = 'bench';

interface Role {
  role: 'main' | 'batuta-worker' | 'raw-worker';
  redisUrl: string;
  namespace: string;
}

/** Body start and end, stamped in the worker: `${chain}:${index}` → times in ms (sub-ms resolution). */
type Stamps = Record<string, { startMs: number; endMs: number }>;

const role = (process.env.BATUTA_BENCH_ROLE ? JSON.parse(process.env.BATUTA_BENCH_ROLE) : { role: 'main' }) as Role;
const now = () => performance.timeOrigin + performance.now();

/** t0 → t1 → … → t(length-1), no-op bodies; the same spec in every process. */
function chainDag(id: string, length: number): DagSpec {
  const tasks: TaskSpec[] = [];
  for (let i = 0; i < length; i++) {
    tasks.push({
      id: `t${i}`,
      operator: 'function',
      with: {},
      upstream: i === 0 ? [] : [`t${i - 1}`],
      triggerRule: 'all_success',
      retry: DEFAULT_RETRY,
      resources: { cpu: 1, memoryMb: 0, gpu: 0, custom: {} },
      priorityWeight: 1,
      dependsOnPast: false,
      branch: false,
      outlets: [],
      fn: () => undefined,
    });
  }
  return { id, tags: [], catchup: false, maxActiveRuns: 16, maxActiveTasks: 16, params: {}, tasks };
}

function answerStamps(stamps: Stamps): void {
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stamps') process.send?.({ type: 'stamps', stamps });
  });
}

async function batutaWorker(): Promise<void> {
  const stamps: Stamps = {};
  const dags = new Map<string, DagSpec>();
  const store = new RedisStateStore({ url: role.redisUrl, namespace: role.namespace });
  const inner = createTaskInvoker({
    resolveDag: (dagId) => {
      const known = dags.get(dagId);
      if (known) return known;
      const dag = chainDag(dagId, LENGTH);
      dags.set(dagId, dag);
      return dag;
    },
    store,
    operators: createOperatorRegistry(),
  });
  const invoke: TaskInvoker = async (job, signal, report) => {
    const startMs = now();
    const output = await inner(job, signal, report);
    stamps[`${job.runId}:${job.taskId.slice(1)}`] = { startMs, endMs: now() };
    return output;
  };
  const worker = new ResourceWorker({
    redisUrl: role.redisUrl,
    namespace: role.namespace,
    pool: POOL,
    capacity: { cpu: 4, memoryMb: 0, gpu: 0, custom: {} },
    invoke,
    name: 'bench-worker',
  });
  answerStamps(stamps);
  await worker.start();
  process.send?.({ type: 'ready' });
  process.once('disconnect', () => void worker.close({ drain: false }).then(() => process.exit(0)));
}

async function rawWorker(): Promise<void> {
  const stamps: Stamps = {};
  const connection = new Redis(role.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(POOL, { connection, prefix: `batuta:${role.namespace}:raw` });
  const worker = new Worker(
    POOL,
    async (job) => {
      const startMs = now();
      const { chain, index } = job.data as { chain: string; index: number };
      const endMs = now();
      stamps[`${chain}:${index}`] = { startMs, endMs };
      if (index + 1 < LENGTH) await queue.add('link', { chain, index: index + 1 });
      else process.send?.({ type: 'done', chain });
    },
    { connection: new Redis(role.redisUrl, { maxRetriesPerRequest: null }), prefix: `batuta:${role.namespace}:raw` },
  );
  answerStamps(stamps);
  await worker.waitUntilReady();
  process.send?.({ type: 'ready' });
  process.once('disconnect', () => void worker.close(true).then(() => process.exit(0)));
}

function startChild(childRole: Role['role'], redisUrl: string, namespace: string): Promise<ChildProcess> {
  return startRoleChild(fileURLToPath(import.meta.url), childRole, redisUrl, namespace);
}

function request<T>(child: ChildProcess, type: string, send?: Record<string, unknown>): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
    if (send) child.send(send);
  });
}

/** Handoffs of one chain: start(i+1) − end(i). */
function handoffs(stamps: Stamps, chain: string): number[] {
  const gaps: number[] = [];
  for (let i = 0; i + 1 < LENGTH; i++) {
    const up = stamps[`${chain}:${i}`];
    const down = stamps[`${chain}:${i + 1}`];
    if (!up || !down) throw new Error(`chain ${chain} is missing link ${i} or ${i + 1}`);
    gaps.push(down.startMs - up.endMs);
  }
  return gaps;
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const chains = quick ? 3 : 5;
  const server = process.env.BATUTA_REDIS_URL ? undefined : await RedisServer.start();
  const redisUrl = process.env.BATUTA_REDIS_URL ?? server!.url;
  const namespace = `bench-handoff-${process.pid}-${Date.now()}`;
  const children: ChildProcess[] = [];
  try {
    const batutaChild = await startChild('batuta-worker', redisUrl, namespace);
    const rawChild = await startChild('raw-worker', redisUrl, namespace);
    children.push(batutaChild, rawChild);
    const store = new RedisStateStore({ url: redisUrl, namespace });
    const executor = new BullmqExecutor({
      redisUrl,
      namespace,
      pools: [
        { name: POOL, capacity: { cpu: 4, memoryMb: 0, gpu: 0, custom: {} }, labels: {}, minWorkers: 1, maxWorkers: 1 },
      ],
    });
    const coordinator = new RunCoordinator({ store, executor });
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue(POOL, { connection, prefix: `batuta:${namespace}:raw` });

    console.log(`handoff: chains of ${LENGTH} no-op tasks, ${chains} chains each side; node ${process.version}`);
    console.log(`redis ${server ? `private on ${redisUrl}` : redisUrl}; Batuta store: RedisStateStore`);
    const dag = chainDag(`handoff_${LENGTH}`, LENGTH);
    const batutaRuns: string[] = [];
    const rawChains: string[] = [];
    for (let round = -1; round < chains; round++) {
      const run = await (await coordinator.startRun(dag, { kind: 'test' })).done;
      if (run.state !== 'success') throw new Error(`the Batuta chain ended ${run.state}: ${run.reason}`);
      const chain = `c${round + 1}`;
      const done = request(rawChild, 'done');
      await queue.add('link', { chain, index: 0 });
      await done;
      // Round -1 warms up (JIT, scripts, connections) and is not counted.
      if (round >= 0) {
        batutaRuns.push(run.runId);
        rawChains.push(chain);
      }
    }
    const batutaStamps = (await request<{ stamps: Stamps }>(batutaChild, 'stamps', { type: 'stamps' })).stamps;
    const rawStamps = (await request<{ stamps: Stamps }>(rawChild, 'stamps', { type: 'stamps' })).stamps;
    const batuta = batutaRuns.flatMap((runId) => handoffs(batutaStamps, runId));
    const raw = rawChains.flatMap((chain) => handoffs(rawStamps, chain));
    const figures = {
      p50Ms: round3(percentile(batuta, 0.5)),
      p99Ms: round3(percentile(batuta, 0.99)),
      baseline: { p50Ms: round3(percentile(raw, 0.5)), p99Ms: round3(percentile(raw, 0.99)) },
    };
    console.log(`Batuta:     p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms (${batuta.length} handoffs)`);
    console.log(
      `raw BullMQ: p50 ${figures.baseline.p50Ms} ms, p99 ${figures.baseline.p99Ms} ms (${raw.length} handoffs)`,
    );
    await coordinator.close();
    await store.close();
    await queue.close();
    connection.disconnect();
    console.log(
      JSON.stringify({
        bench: 'handoff',
        quick,
        length: LENGTH,
        store: 'redis',
        ...figures,
        target: { p50Ms: 2, p99Ms: 10 },
      }),
    );
  } finally {
    for (const child of children) child.disconnect();
    await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));
    if (server) await server.stop();
    else await removeKeys(redisUrl, namespace);
  }
}

if (role.role === 'batuta-worker') await batutaWorker();
else if (role.role === 'raw-worker') await rawWorker();
else await main();
