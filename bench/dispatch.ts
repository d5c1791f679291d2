// `npm run bench -- dispatch [--quick]`: one run of 10,000 independent no-op tasks through one worker
// process, side by side with raw BullMQ on the same Redis in the same run (addBulk of 10,000 jobs + one
// worker process at concurrency 50).
//  - Batuta: the RunCoordinator (RedisStateStore) → BullmqExecutor → one ResourceWorker process with
//    capacity cpu=50 (each task needs cpu=1, so at most 50 run at once, as raw BullMQ's concurrency 50),
//    running each body through createTaskInvoker. Timed from startRun to the run's end.
//  - raw BullMQ: Queue.addBulk of 10,000 jobs, a Worker (concurrency 50) in one process with a no-op
//    processor. Timed from addBulk to the worker having completed them all.
// Redis: BATUTA_REDIS_URL when set, else a private redis-server. Prints both, and as its last line
// {"bench":"dispatch","batutaJobsPerSec",…,"baseline":{"rawBullmqJobsPerSec"},"ratio"}.
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
  type TaskSpec,
} from '@batuta/scheduler';
import { RedisServer } from '@batuta/scheduler/redis-server';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { removeKeys, startRoleChild } from './support/bench-processes.js';

const TASKS = 10_000;
const CONCURRENCY = 50;
const POOL = 'bench';

interface Role {
  role: 'main' | 'batuta-worker' | 'raw-worker';
  redisUrl: string;
  namespace: string;
}

const role = (process.env.BATUTA_BENCH_ROLE ? JSON.parse(process.env.BATUTA_BENCH_ROLE) : { role: 'main' }) as Role;

/** `size` independent no-op tasks, each needing one cpu; the same spec in every process. */
function wideDag(id: string, size: number): DagSpec {
  const tasks: TaskSpec[] = [];
  for (let i = 0; i < size; i++) {
    tasks.push({
      id: `t${i}`,
      operator: 'function',
      with: {},
      upstream: [],
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
  return { id, tags: [], catchup: false, maxActiveRuns: 16, maxActiveTasks: 1_000_000, params: {}, tasks };
}

const dagIds = (size: number) => `dispatch_${size}`;

async function batutaWorker(): Promise<void> {
  const dags = new Map<string, DagSpec>();
  const store = new RedisStateStore({ url: role.redisUrl, namespace: role.namespace });
  const invoke = createTaskInvoker({
    resolveDag: (dagId) => {
      let dag = dags.get(dagId);
      if (!dag) {
        dag = wideDag(dagId, Number(dagId.split('_')[1]));
        dags.set(dagId, dag);
      }
      return dag;
    },
    store,
    operators: createOperatorRegistry(),
  });
  const worker = new ResourceWorker({
    redisUrl: role.redisUrl,
    namespace: role.namespace,
    pool: POOL,
    capacity: { cpu: CONCURRENCY, memoryMb: 0, gpu: 0, custom: {} },
    invoke,
    name: 'bench-worker',
  });
  await worker.start();
  process.send?.({ type: 'ready' });
  process.once('disconnect', () => void worker.close({ drain: false }).then(() => process.exit(0)));
}

async function rawWorker(): Promise<void> {
  let expected = Number.POSITIVE_INFINITY;
  let completed = 0;
  const worker = new Worker(POOL, async () => undefined, {
    connection: new Redis(role.redisUrl, { maxRetriesPerRequest: null }),
    prefix: `batuta:${role.namespace}:raw`,
    concurrency: CONCURRENCY,
  });
  worker.on('completed', () => {
    completed++;
    if (completed === expected) process.send?.({ type: 'done' });
  });
  process.on('message', (message: { type: string; count: number }) => {
    if (message.type === 'expect') {
      completed = 0;
      expected = message.count;
    }
  });
  await worker.waitUntilReady();
  process.send?.({ type: 'ready' });
  process.once('disconnect', () => void worker.close(true).then(() => process.exit(0)));
}

function startChild(childRole: Role['role'], redisUrl: string, namespace: string): Promise<ChildProcess> {
  return startRoleChild(fileURLToPath(import.meta.url), childRole, redisUrl, namespace);
}

function nextMessage(child: ChildProcess, type: string): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
  });
}

async function timeBatuta(coordinator: RunCoordinator, size: number): Promise<number> {
  const dag = wideDag(dagIds(size), size);
  const started = performance.now();
  const run = await (await coordinator.startRun(dag, { kind: 'test' })).done;
  const ms = performance.now() - started;
  if (run.state !== 'success') throw new Error(`the Batuta run ended ${run.state}: ${run.reason}`);
  return ms;
}

async function timeRaw(queue: Queue, child: ChildProcess, size: number, round: number): Promise<number> {
  const jobs = Array.from({ length: size }, (_, i) => ({
    name: 'noop',
    data: { i },
    opts: { jobId: `r${round}-${i}` },
  }));
  child.send({ type: 'expect', count: size });
  const done = nextMessage(child, 'done');
  const started = performance.now();
  await queue.addBulk(jobs);
  await done;
  return performance.now() - started;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const repeats = quick ? 3 : 5;
  const server = process.env.BATUTA_REDIS_URL ? undefined : await RedisServer.start();
  const redisUrl = process.env.BATUTA_REDIS_URL ?? server!.url;
  const namespace = `bench-dispatch-${process.pid}-${Date.now()}`;
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
        {
          name: POOL,
          capacity: { cpu: CONCURRENCY, memoryMb: 0, gpu: 0, custom: {} },
          labels: {},
          minWorkers: 1,
          maxWorkers: 1,
        },
      ],
    });
    const coordinator = new RunCoordinator({ store, executor });
    const rawConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue(POOL, { connection: rawConnection, prefix: `batuta:${namespace}:raw` });

    console.log(
      `dispatch: ${TASKS} independent no-op tasks, ${repeats} runs each side, median; node ${process.version}`,
    );
    console.log(`redis ${server ? `private on ${redisUrl}` : redisUrl}; Batuta store: RedisStateStore`);
    // Warm-up: JIT, script loading, connections.
    await timeBatuta(coordinator, 1_000);
    await timeRaw(queue, rawChild, 1_000, -1);
    const batutaMs: number[] = [];
    const rawMs: number[] = [];
    for (let round = 0; round < repeats; round++) {
      globalThis.gc?.();
      batutaMs.push(await timeBatuta(coordinator, TASKS));
      globalThis.gc?.();
      rawMs.push(await timeRaw(queue, rawChild, TASKS, round));
      console.log(
        `  run ${round + 1}: Batuta ${batutaMs.at(-1)!.toFixed(0)} ms, raw BullMQ ${rawMs.at(-1)!.toFixed(0)} ms`,
      );
    }
    const batutaJobsPerSec = Math.round(TASKS / (median(batutaMs) / 1000));
    const rawBullmqJobsPerSec = Math.round(TASKS / (median(rawMs) / 1000));
    const ratio = Number((batutaJobsPerSec / rawBullmqJobsPerSec).toFixed(2));
    console.log(
      `Batuta:     ${batutaJobsPerSec.toLocaleString('en-US')} jobs/s (median ${median(batutaMs).toFixed(0)} ms)`,
    );
    console.log(
      `raw BullMQ: ${rawBullmqJobsPerSec.toLocaleString('en-US')} jobs/s (median ${median(rawMs).toFixed(0)} ms)`,
    );
    await coordinator.close();
    await store.close();
    await queue.close();
    rawConnection.disconnect();
    console.log(
      JSON.stringify({
        bench: 'dispatch',
        quick,
        tasks: TASKS,
        concurrency: CONCURRENCY,
        store: 'redis',
        batutaJobsPerSec,
        baseline: { rawBullmqJobsPerSec },
        ratio,
        target: { ratio: 0.5 },
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
