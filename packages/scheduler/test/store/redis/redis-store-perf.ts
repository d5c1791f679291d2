// What a transition costs on the Redis store, not a test (nothing is asserted; timings vary by
// machine). Run: npx tsx packages/scheduler/test/store/redis/redis-store-perf.ts [--aof]
// Uses a private redis-server (AOF off; with --aof, appendfsync always: every write is on disk before
// it is acknowledged) and prints one line per case:
// - one transition writing 10,000 instances (the fan-out of a mapped task), guarded and not;
// - many small transitions (an upstream done + its downstream enqueued, guarded 'absent'), one at a
//   time (latency: what the RunCoordinator sees per batch) and 64 in flight (throughput).
import { Redis } from 'ioredis';
import { MemoryStateStore } from '../../../src/store/memory-store.js';
import { encodeTransition } from '../../../src/store/redis/redis-codec.js';
import { RedisServer } from '../../../src/store/redis/redis-server.js';
import { RedisStateStore, redisStoreClientOptions } from '../../../src/store/redis/redis-store.js';
import type { DagRunRecord, StateStore, TaskInstanceRecord, Transition } from '../../../src/store/state-store.js';

const WIDE = 10_000;
const SMALL = 10_000;
const IN_FLIGHT = 64;

function runRecord(runId: string): DagRunRecord {
  return { runId, dagId: 'perf', kind: 'test', state: 'running', logicalDateMs: 0, conf: {}, createdMs: 0 };
}

function instance(runId: string, taskId: string, mapIndex: number, state: TaskInstanceRecord['state']) {
  return { runId, taskId, mapIndex, state, tryNumber: 1, reason: 'scheduled by the perf check', queuedMs: 1 };
}

function wideTransition(runId: string, guarded: boolean, withOutputs: boolean): Transition {
  const instances = Array.from({ length: WIDE }, (_, mapIndex) => ({
    record: instance(runId, 'score', mapIndex, 'scheduled'),
    ...(guarded ? { expectState: 'absent' as const } : {}),
  }));
  return {
    instances,
    ...(withOutputs
      ? { outputs: instances.map((_, mapIndex) => ({ taskId: 'score', mapIndex, value: { rows: mapIndex } })) }
      : {}),
  };
}

/** Upstream `t<2i>` done with its output, downstream `t<2i+1>` enqueued exactly once. */
function smallTransition(runId: string, i: number): Transition {
  return {
    instances: [
      { record: instance(runId, `t${2 * i}`, -1, 'success'), expectState: 'absent' },
      { record: instance(runId, `t${2 * i + 1}`, -1, 'queued'), expectState: 'absent' },
    ],
    outputs: [{ taskId: `t${2 * i}`, mapIndex: -1, value: { ok: true } }],
  };
}

async function time(label: string, count: number, unit: string, work: () => Promise<void>): Promise<void> {
  const started = process.hrtime.bigint();
  await work();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const rate = Math.round((count / ms) * 1000);
  console.log(`${label.padEnd(58)} ${ms.toFixed(1).padStart(8)} ms  ${String(rate).padStart(8)} ${unit}/s`);
}

/** Milliseconds Redis itself spent in scripts since the last call (from INFO commandstats). */
async function scriptServerMs(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  await redis.config('RESETSTAT');
  let usec = 0;
  for (const match of info.matchAll(/cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+)/g)) usec += Number(match[1]);
  return usec / 1000;
}

async function measure(
  name: string,
  makeStore: (tag: string) => StateStore,
  serverMs?: () => Promise<number>,
): Promise<void> {
  console.log(`\n${name}`);
  for (const [guarded, withOutputs] of [
    [false, false],
    [true, false],
    [true, true],
  ] as const) {
    for (let round = 1; round <= 3; round++) {
      const runId = `wide-${guarded}-${withOutputs}-${round}`;
      const store = makeStore(runId);
      await store.createRun(runRecord(runId));
      const transition = wideTransition(runId, guarded, withOutputs);
      const label = `1 transition, ${WIDE} instances${guarded ? ', guarded absent' : ''}${withOutputs ? ' + outputs' : ''} #${round}`;
      await serverMs?.();
      await time(label, WIDE, 'instances', async () => {
        if (!(await store.applyTransition(runId, transition))) throw new Error('not applied');
      });
      if (serverMs) console.log(`  of which the script ran in Redis ${(await serverMs()).toFixed(1)} ms`);
      if (round === 3) {
        await time(`  read back ${WIDE} instances`, WIDE, 'instances', async () => {
          if ((await store.getTaskInstances(runId)).length !== WIDE) throw new Error('missing');
        });
        await time(`  encode only (validation + JSON + arguments)`, WIDE, 'instances', async () => {
          encodeTransition(runId, transition);
        });
      }
    }
  }

  const sequential = makeStore('sequential');
  await sequential.createRun(runRecord('sequential'));
  await time(`${SMALL} small transitions, one at a time`, SMALL, 'transitions', async () => {
    for (let i = 0; i < SMALL; i++) {
      if (!(await sequential.applyTransition('sequential', smallTransition('sequential', i)))) throw new Error('no');
    }
  });

  const concurrent = makeStore('concurrent');
  await concurrent.createRun(runRecord('concurrent'));
  await time(`${SMALL} small transitions, ${IN_FLIGHT} in flight`, SMALL, 'transitions', async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < SMALL) {
          const i = next++;
          if (!(await concurrent.applyTransition('concurrent', smallTransition('concurrent', i))))
            throw new Error('no');
        }
      }),
    );
  });
}

const aof = process.argv.includes('--aof');
const server = await RedisServer.start({ appendOnly: aof });
const redis = new Redis(server.url, { ...redisStoreClientOptions });
try {
  await measure(
    `RedisStateStore (redis-server ${server.url}, ${aof ? 'AOF on, fsync always' : 'AOF off'})`,
    (tag) => new RedisStateStore({ redis, namespace: `perf-${tag}` }),
    () => scriptServerMs(redis),
  );
  const memory = new MemoryStateStore();
  await measure('MemoryStateStore (for scale)', () => memory);
} finally {
  redis.disconnect();
  await server.stop();
}
