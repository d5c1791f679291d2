// `npm run bench -- logs [--quick]`: what keeping task logs costs. A shell task prints 100,000 lines
// (20,000 with --quick) through the `shell` operator; its lines go, as on a worker, through a LogShipper
// to a RedisLogStore (and, as a second figure, a FileLogStore). Measured, each as the median of several
// runs, alternating:
//  - baseline: the same command with its output to /dev/null (nothing to read, nothing stored);
//  - logged: the command's output read line by line and stored, the task ending only once its last
//    line is stored (as a worker does before its report).
//  - piped: the same command read line by line and discarded (what the pipe alone costs);
// `linesPerSec` is lines stored per second of the logged task; `slowdown` is logged / baseline time;
// `storeOverhead` is logged / piped time (what storing adds to reading).
// Targets: linesPerSec ≥ 200,000, slowdown ≤ 1.2.
// Redis: BATUTA_REDIS_URL when set (its own namespace, removed after), else a private redis-server.
// Last line: {"bench":"logs","lines":…,"linesPerSec":…,"slowdown":…,"baseline":{"ms":…},…}.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileLogStore,
  type LogStore,
  RedisLogStore,
  shellOperator,
  systemClock,
  type TaskContext,
} from '@batuta/scheduler';
import { LogShipper } from '@batuta/scheduler/internals';
import { RedisServer } from '@batuta/scheduler/redis-server';
import { removeKeys } from './support/bench-processes.js';

const quick = process.argv.includes('--quick');
const LINES = quick ? 20_000 : 100_000;
const RUNS = quick ? 3 : 5;
// awk prints the lines as a typical chatty task would: numbered, ~60 characters each.
const COMMAND = `awk 'BEGIN { for (i = 1; i <= ${LINES}; i++) printf "step %d of the benchmark task: loss=0.%06d ok\\n", i, i }'`;

function context(runId: string, log: TaskContext['log']): TaskContext {
  return {
    dagId: 'bench',
    runId,
    taskId: 'chatty',
    mapIndex: -1,
    tryNumber: 1,
    logicalDateMs: 0,
    params: {},
    inputs: {},
    item: undefined,
    signal: new AbortController().signal,
    log,
    progress: () => {},
  };
}

async function baselineMs(runId: string): Promise<number> {
  const began = performance.now();
  await shellOperator.run(
    context(runId, () => {}),
    { command: `${COMMAND} > /dev/null`, output: 'none' },
  );
  return performance.now() - began;
}

/** The same command read line by line and thrown away: the cost of the pipe itself, without storing. */
async function pipedMs(runId: string): Promise<number> {
  const began = performance.now();
  await shellOperator.run(
    context(runId, () => {}),
    { command: COMMAND, output: 'none' },
  );
  return performance.now() - began;
}

async function loggedMs(store: LogStore, runId: string): Promise<number> {
  const attempt = { runId, taskId: 'chatty', mapIndex: -1, tryNumber: 1 };
  const shipper = new LogShipper({ store, attempt, clock: systemClock });
  const began = performance.now();
  await shellOperator.run(
    context(runId, (text, stream) => shipper.write(text, stream)),
    { command: COMMAND, output: 'none' },
  );
  await shipper.end();
  const ms = performance.now() - began;
  const page = await store.read(attempt, { limit: 1 });
  if (page.droppedLines > 0 || !page.ended) throw new Error(`lines were not all stored (${page.droppedLines} dropped)`);
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  const server = process.env.BATUTA_REDIS_URL ? undefined : await RedisServer.start();
  const url = process.env.BATUTA_REDIS_URL ?? server!.url;
  const namespace = `bench-logs-${process.pid}`;
  const folder = await mkdtemp(join(tmpdir(), 'batuta-bench-logs-'));
  const redisStore = new RedisLogStore({ url, namespace, caps: { maxLinesPerRun: 100 * LINES } });
  const fileStore = new FileLogStore({ folder, caps: { maxLinesPerRun: 100 * LINES } });
  const baseline: number[] = [];
  const piped: number[] = [];
  const redis: number[] = [];
  const file: number[] = [];
  try {
    await baselineMs('warm-up');
    await loggedMs(redisStore, 'warm-up');
    for (let i = 0; i < RUNS; i++) {
      baseline.push(await baselineMs(`run-${i}`));
      piped.push(await pipedMs(`piped-${i}`));
      redis.push(await loggedMs(redisStore, `redis-${i}`));
      file.push(await loggedMs(fileStore, `file-${i}`));
      console.log(
        `run ${i + 1}/${RUNS}: /dev/null ${baseline.at(-1)!.toFixed(0)} ms, piped ${piped.at(-1)!.toFixed(0)} ms, Redis ${redis.at(-1)!.toFixed(0)} ms, files ${file.at(-1)!.toFixed(0)} ms`,
      );
    }
  } finally {
    await redisStore.close();
    await fileStore.close();
    await rm(folder, { recursive: true, force: true });
    if (server) await server.stop();
    else await removeKeys(url, namespace);
  }
  const baseMs = median(baseline);
  const pipeMs = median(piped);
  const redisMs = median(redis);
  const fileMs = median(file);
  const linesPerSec = Math.round(LINES / (redisMs / 1000));
  const slowdown = Number((redisMs / baseMs).toFixed(2));
  console.log(
    `${LINES} lines, median of ${RUNS}: /dev/null ${baseMs.toFixed(0)} ms; Redis ${redisMs.toFixed(0)} ms ` +
      `(${linesPerSec} lines/s, ${slowdown}×); files ${fileMs.toFixed(0)} ms (${Math.round(LINES / (fileMs / 1000))} lines/s)`,
  );
  console.log(
    JSON.stringify({
      bench: 'logs',
      lines: LINES,
      runs: RUNS,
      linesPerSec,
      slowdown,
      ms: Math.round(redisMs),
      file: {
        ms: Math.round(fileMs),
        linesPerSec: Math.round(LINES / (fileMs / 1000)),
        slowdown: Number((fileMs / baseMs).toFixed(2)),
      },
      baseline: { ms: Math.round(baseMs), output: '/dev/null' },
      piped: { ms: Math.round(pipeMs), slowdown: Number((pipeMs / baseMs).toFixed(2)) },
      storeOverhead: Number((redisMs / pipeMs).toFixed(2)),
      ratio: slowdown,
      targets: { linesPerSec: 200_000, slowdown: 1.2 },
    }),
  );
}

await main();
