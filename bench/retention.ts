// `npm run bench -- retention [--quick]`: does storage stay bounded? A simulated week of 1,000 hourly
// DAGs (200 with --quick) against a private redis-server, written as the scheduler writes them: each
// hour every DAG's run is created (one createRuns call per hour), its lease taken, its three tasks and
// one output written and the run ended in one transition, its lease released. Time is a number the
// bench moves (an injected clock), so a week takes seconds. Measured twice, each on a fresh server:
//  - retention: RetentionPruner with runs kept 1 day, called as a daemon's passes would be (until
//    it has no full batch left) after every simulated hour;
//  - baseline: the same week without retention (today's behaviour: every run stays for ever).
// Reported: Redis used_memory at the end of each day. With retention it must be flat from day 2 on.
// Redis: BATUTA_REDIS_URL when set (the bench then uses and removes its own namespaces), else a private
// redis-server per phase. Last line: {"bench":"retention", …, "baseline":{…}, "ratio": baseline/retention at day 7}.
import { type DagRunRecord, RedisStateStore, runLeaseName, type TaskInstanceRecord } from '@batuta/scheduler';
import { RetentionPruner } from '@batuta/scheduler/internals';
import { RedisServer } from '@batuta/scheduler/redis-server';
import { Redis } from 'ioredis';

const quick = process.argv.includes('--quick');
const DAGS = quick ? 200 : 1_000;
const DAYS = 7;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RETENTION_MS = DAY;
const TASKS = ['extract', 'transform', 'load'];
const START = Date.UTC(2026, 0, 5);
/** Transitions in flight at once (the scheduler drives many runs concurrently). */
const CONCURRENCY = 200;

interface Phase {
  usedMemoryByDay: number[];
  runsWritten: number;
  runsPruned: number;
  seconds: number;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

async function simulateWeek(url: string, namespace: string, withRetention: boolean): Promise<Phase> {
  const store = await RedisStateStore.connect({ url, namespace });
  const probe = new Redis(url);
  const pruner = withRetention
    ? new RetentionPruner({ store, policy: { runsMs: RETENTION_MS, batchSize: 500, everyMs: 0 }, log: () => {} })
    : undefined;
  const emptyMemory = await usedMemory(probe);
  const usedMemoryByDay: number[] = [];
  let runsWritten = 0;
  let runsPruned = 0;
  const began = performance.now();
  for (let hour = 0; hour < DAYS * 24; hour++) {
    const logicalDateMs = START + hour * HOUR;
    const runs: DagRunRecord[] = [];
    for (let d = 0; d < DAGS; d++) {
      const dagId = `dag_${String(d).padStart(4, '0')}`;
      runs.push({
        runId: `scheduled__${new Date(logicalDateMs).toISOString()}__${dagId}`,
        dagId,
        kind: 'scheduled',
        state: 'running',
        logicalDateMs,
        dataIntervalStartMs: logicalDateMs - HOUR,
        dataIntervalEndMs: logicalDateMs,
        conf: {},
        createdMs: logicalDateMs,
        startMs: logicalDateMs,
      });
    }
    await store.createRuns(runs);
    for (let i = 0; i < runs.length; i += CONCURRENCY) {
      await Promise.all(
        runs.slice(i, i + CONCURRENCY).map(async (run) => {
          const owner = 'scheduler-bench';
          await store.acquireLease(runLeaseName(run.runId), owner, 15_000, logicalDateMs);
          const endMs = logicalDateMs + 60_000;
          const instances: TaskInstanceRecord[] = TASKS.map((taskId, t) => ({
            runId: run.runId,
            taskId,
            mapIndex: -1,
            state: 'success',
            tryNumber: 1,
            reason: 'succeeded on try 1',
            queuedMs: logicalDateMs + t * 20_000,
            startMs: logicalDateMs + t * 20_000 + 5,
            endMs: logicalDateMs + (t + 1) * 20_000,
            worker: 'worker-1:4242',
          }));
          await store.applyTransition(run.runId, {
            instances: instances.map((record) => ({ record })),
            outputs: [
              { taskId: 'load', mapIndex: -1, value: { rows: 1_500, path: `s3://lake/${run.dagId}/part.parquet` } },
            ],
            run: { patch: { state: 'success', endMs, reason: 'every leaf succeeded' } },
          });
          await store.releaseLease(runLeaseName(run.runId), owner);
        }),
      );
    }
    runsWritten += runs.length;
    if (pruner) {
      // The daemon prunes one batch per pass and passes come every poll: drain as its passes would.
      const nowMs = logicalDateMs + HOUR - 1;
      for (;;) {
        const pruned = await pruner.prune(nowMs);
        runsPruned += pruned.length;
        if (pruned.length < 500) break;
      }
    }
    if ((hour + 1) % 24 === 0) {
      const used = (await usedMemory(probe)) - emptyMemory;
      usedMemoryByDay.push(used);
      console.log(
        `${withRetention ? 'retention' : 'baseline '} day ${(hour + 1) / 24}: ${(used / 2 ** 20).toFixed(1)} MiB ` +
          `(${runsWritten} runs written, ${runsPruned} pruned)`,
      );
    }
  }
  const seconds = (performance.now() - began) / 1000;
  // Leave a shared Redis as we found it.
  for (;;) {
    const pruned = await store.pruneRuns({ endedBeforeMs: Number.MAX_SAFE_INTEGER, limit: 5_000 });
    if (pruned.length === 0) break;
  }
  probe.disconnect();
  await store.close();
  return { usedMemoryByDay, runsWritten, runsPruned, seconds };
}

async function measure(withRetention: boolean): Promise<Phase> {
  const namespace = `bench-retention-${withRetention ? 'on' : 'off'}-${process.pid}`;
  if (process.env.BATUTA_REDIS_URL) return simulateWeek(process.env.BATUTA_REDIS_URL, namespace, withRetention);
  const server = await RedisServer.start();
  try {
    return await simulateWeek(server.url, namespace, withRetention);
  } finally {
    await server.stop();
  }
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const retention = await measure(true);
const baseline = await measure(false);
const day = (phase: Phase, n: number) => phase.usedMemoryByDay[n - 1]!;
// Steady state with retention: what the store holds per DAG for each day of history it keeps.
const bytesPerDagDay = Math.round(day(retention, DAYS) / DAGS / (RETENTION_MS / DAY));
// Without retention every day adds the same again, for ever.
const baselineBytesPerDagDay = Math.round((day(baseline, DAYS) - day(baseline, 1)) / DAGS / (DAYS - 1));
console.log(
  JSON.stringify({
    bench: 'retention',
    dags: DAGS,
    runsPerDagDay: 24,
    days: DAYS,
    retentionDays: RETENTION_MS / DAY,
    usedMemoryMib: { day2: mib(day(retention, 2)), day7: mib(day(retention, DAYS)) },
    growthDay2to7Pct: Math.round(((day(retention, DAYS) - day(retention, 2)) / day(retention, 2)) * 1000) / 10,
    bytesPerDagDay,
    runsPruned: retention.runsPruned,
    seconds: Math.round(retention.seconds),
    baseline: {
      usedMemoryMib: { day2: mib(day(baseline, 2)), day7: mib(day(baseline, DAYS)) },
      bytesPerDagDay: baselineBytesPerDagDay,
      seconds: Math.round(baseline.seconds),
    },
    ratio: Math.round((day(baseline, DAYS) / day(retention, DAYS)) * 10) / 10,
  }),
);
