// Pins the BullMQ internals we rely on (src/bullmq/bullmq-internals.ts) to the BullMQ release they were
// checked against, and exercises each on a real redis-server, so an upgrade that changes one fails here
// first, with a message that says what to do, instead of as a hung or silently wrong worker.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { RedisServer } from '@batuta/testing';
import { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BULLMQ_CHECKED_VERSION,
  interruptBlockingFetch,
  JOB_ADDED_FIELD,
  JOB_FINISHED_FIELD,
  jobFetchedWithCompletion,
  jobHashKey,
  jobLockKey,
  markQueueHasJobs,
  wasLostWithItsWorker,
} from '../../src/bullmq/bullmq-internals.js';
import { connectRedis } from '../../src/bullmq/connection.js';
import { poolQueuePrefix } from '../../src/bullmq/keys.js';
import { poolQueue } from '../../src/bullmq/pool-queue.js';
import { eventually, uniqueNamespace } from './harness.js';

/** The version of the bullmq package this process loads (its package.json, found from its entry point). */
function installedBullmqVersion(): string {
  const entry = createRequire(import.meta.url).resolve('bullmq');
  let dir = dirname(entry);
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'bullmq' && manifest.version) return manifest.version;
    } catch {
      // not this folder: go up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json of bullmq above ${entry}`);
    dir = parent;
  }
}

let redis: RedisServer;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A queue and a manual-fetch worker (as ResourceWorker builds it) of a fresh pool. */
function poolPair(options: { lockDuration?: number; stalledInterval?: number } = {}) {
  const namespace = uniqueNamespace('internals');
  const connection = connectRedis(redis.url);
  const workerConnection = connectRedis(redis.url);
  const queue = poolQueue(connection, namespace, 'cpu');
  const worker = new Worker('cpu', null, {
    connection: workerConnection,
    prefix: poolQueuePrefix(namespace),
    autorun: false,
    skipLockRenewal: true,
    maxStalledCount: 0,
    // Long blocks: a fetch that ends early here ends because of what the test did, not a timeout.
    drainDelay: 60,
    lockDuration: options.lockDuration ?? 30_000,
    stalledInterval: options.stalledInterval ?? 30_000,
  });
  worker.on('error', () => {});
  closers.push(async () => {
    await worker.close(true).catch(() => {});
    await queue.close();
    connection.disconnect();
    workerConnection.disconnect();
  });
  return { queue, worker, connection: connection as Redis };
}

describe('BullMQ internals', () => {
  it(`are used with the BullMQ release they were checked against (${BULLMQ_CHECKED_VERSION})`, () => {
    const installed = installedBullmqVersion();
    if (installed !== BULLMQ_CHECKED_VERSION) {
      throw new Error(
        `bullmq ${installed} is installed, but src/bullmq/bullmq-internals.ts was checked against ` +
          `${BULLMQ_CHECKED_VERSION}: reread BullMQ's source for each function there (key layout, reply ` +
          `shapes, members), run this suite, then set BULLMQ_CHECKED_VERSION to ${installed}`,
      );
    }
  });

  it('keeps a job in the hash jobHashKey names, with its added and finished times, and its lock beside it', async () => {
    const { queue, worker, connection } = poolPair();
    await queue.add('t', { n: 1 }, { jobId: 'j1' });
    const key = jobHashKey(queue, 'j1');
    expect(key).toBe(jobHashKey(worker, 'j1'));
    expect(Number(await connection.hget(key, JOB_ADDED_FIELD))).toBeGreaterThan(0);
    expect(await connection.hget(key, JOB_FINISHED_FIELD)).toBeNull();
    const job = await worker.getNextJob('token-1', { block: false });
    expect(job?.id).toBe('j1');
    expect(await connection.get(jobLockKey(key))).toBe('token-1');
    await job!.moveToCompleted('done', 'token-1', false);
    expect(Number(await connection.hget(key, JOB_FINISHED_FIELD))).toBeGreaterThan(0);
  });

  it('hands over the next job with a completion, in the reply jobFetchedWithCompletion reads', async () => {
    const { queue, worker } = poolPair();
    await queue.add('t', { n: 1 }, { jobId: 'first' });
    await queue.add('t', { n: 2 }, { jobId: 'second' });
    const first = await worker.getNextJob('token-a', { block: false });
    const reply = await first!.moveToCompleted(null, 'token-a', true);
    const next = jobFetchedWithCompletion(worker, reply, 'token-a');
    expect(next).toBeInstanceOf(Job);
    expect(next?.id).toBe('second');
    expect(next?.data).toEqual({ n: 2 });
    expect(next?.token).toBe('token-a');
    const none = await next!.moveToCompleted(null, 'token-a', true);
    expect(jobFetchedWithCompletion(worker, none, 'token-a')).toBeUndefined();
  });

  it('wakes a worker blocked on an empty queue when markQueueHasJobs follows a moveToWait', async () => {
    const { queue, worker, connection } = poolPair();
    await queue.add('t', {}, { jobId: 'back', priority: 5 });
    const taken = await worker.getNextJob('token-x', { block: false });
    // Another worker of the pool, blocked because the queue looks empty (for up to a minute).
    const { worker: idle } = poolPairOn(queue.opts.prefix!, 'cpu');
    let fetched: Job | undefined;
    void fetchUntilJob(idle, 'token-y').then((job) => {
      fetched = job;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fetched).toBeUndefined();
    await taken!.moveToWait('token-x');
    await markQueueHasJobs(connection, worker);
    await eventually(() => fetched !== undefined, 'the blocked worker to fetch the job handed back', 15_000);
    expect(fetched?.id).toBe('back');
  });

  it('ends a blocking fetch at once with interruptBlockingFetch', async () => {
    const { worker } = poolPair();
    await worker.waitUntilReady();
    // The first fetch of a worker never blocks: it finds the queue empty and marks the worker drained.
    expect(await worker.getNextJob('token-z', { block: true })).toBeUndefined();
    let settled = false;
    const fetching = worker.getNextJob('token-z', { block: true }).then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(settled).toBe(false);
    await interruptBlockingFetch(worker);
    await eventually(() => settled, 'the blocking fetch to end', 15_000);
    await fetching;
  });

  it('marks a job whose lock expired so that wasLostWithItsWorker sees it on its next fetch', async () => {
    const { queue, worker } = poolPair({ lockDuration: 200, stalledInterval: 100 });
    await queue.add('t', {}, { jobId: 'orphan' });
    const taken = await worker.getNextJob('dead-token', { block: false });
    expect(wasLostWithItsWorker(taken!)).toBe(false);
    // Nobody renews the lock (the worker "died"); the stalled checker fails the job on its next fetch.
    let stalled = false;
    worker.on('stalled', () => {
      stalled = true;
    });
    await worker.startStalledCheckTimer();
    await eventually(() => stalled, 'the stalled check', 10_000);
    const again = await worker.getNextJob('live-token', { block: false });
    expect(again?.id).toBe('orphan');
    expect(wasLostWithItsWorker(again!)).toBe(true);
  });
});

/** A second manual-fetch worker on the queue of `prefix`/`name`. */
function poolPairOn(prefix: string, name: string) {
  const connection = connectRedis(redis.url);
  const worker = new Worker(name, null, { connection, prefix, autorun: false, skipLockRenewal: true, drainDelay: 60 });
  worker.on('error', () => {});
  closers.push(async () => {
    await worker.close(true).catch(() => {});
    connection.disconnect();
  });
  return { worker };
}

/** Fetches as ResourceWorker's loop does (a fetch may end without a job) until a job comes or the worker closes. */
async function fetchUntilJob(worker: Worker, token: string): Promise<Job | undefined> {
  while (!worker.closing) {
    const job = await worker.getNextJob(token, { block: true }).catch(() => undefined);
    if (job) return job;
  }
  return undefined;
}
