// `npm run bench -- api [--quick]`: the web API over real HTTP (startWebServer, keep-alive fetch) on a
// private redis-server with the Redis state store, authenticated with bearer tokens.
//  - grid: GET /api/dags/{dagId}/grid?limit=100 for a DAG of 200 tasks × 100 runs (20,000 cells), and the
//    answer's size in bytes;
//  - grid, changed: the same page when every one of its runs wrote an instance since the last read (no
//    packed cells to reuse: the worst case for the store's read);
//  - history: GET /api/dags/{dagId}/grid?limit=25 for a DAG with 10,000 stored runs of one task each
//    (and GET /api/runs?dagId=…&limit=25 on the same DAG, for comparison);
//  - trigger: POST /api/dags/{dagId}/runs (operator token), requests per second, one client at a time
//    and 8 at once;
//  - SSE fan-out: 100 clients on GET /api/events/stream, in a child process (bench/support/sse-clients.ts);
//    instance writes are made through the store at a steady pace (one every 20 ms), and each client's
//    delivery of each change is timed from the write's start to the event parsed by the client.
// Each request is timed from send to the parsed body; p50/p99 over the samples. Targets (issue #12):
// p99 ≤ 50 ms for both grid cases, SSE delivery p99 ≤ 200 ms. CPU per request (this process: server and
// client; and the redis-server) is reported beside the times, as it depends less on other load on the
// machine. Baseline in the same run: the store read the grid made before getRunCells (every instance
// record of the page's runs, pipelined) against getRunCells, and GET /api/health (the HTTP + auth floor).
// Last line: {"bench":"api","p99Ms":…,"gridP99Ms":…,"historyP99Ms":…,"ssep99Ms":…,"triggerPerSec":…,…}.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { parseDagYaml, RedisStateStore } from '@batuta/scheduler';
import { RedisServer } from '@batuta/scheduler/redis-server';
import { AuthStore, createWebApp, startWebServer } from '@batuta/web';
import { Redis } from 'ioredis';

const quick = process.argv.includes('--quick');
const SAMPLES = quick ? 50 : 300;
const CHANGED_SAMPLES = quick ? 20 : 100;
const HISTORY_RUNS = quick ? 2_000 : 10_000;
const GRID_TASKS = 200;
const GRID_RUNS = 100;
const TRIGGERS = quick ? 100 : 300;
const TRIGGER_CLIENTS = 8;
const SSE_CLIENTS = 100;
const SSE_EVENTS = quick ? 40 : 200;
/** Pause between two published changes: a busy scheduler's pace, not a flood the stream must queue. */
const SSE_GAP_MS = 20;

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

const round = (ms: number) => Math.round(ms * 100) / 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU milliseconds used by this process so far. */
function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1_000;
}

/** CPU milliseconds used by the redis-server so far (its own account, INFO cpu). */
async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1_000;
}

interface Figures {
  p50: number;
  p99: number;
  cpuMs: number;
  redisCpuMs: number;
}

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const redis = new Redis(server.url);
  const namespace = 'bench-api';
  const store = await RedisStateStore.connect({ url: server.url, namespace });
  try {
    const gridYaml = [
      'id: wide',
      'tasks:',
      ...Array.from({ length: GRID_TASKS }, (_, i) => `  t${i}: { operator: empty }`),
    ];
    const wide = parseDagYaml(`${gridYaml.join('\n')}\n`, 'wide.yaml');
    const long = parseDagYaml('id: long\ntasks:\n  only: { operator: empty }\n', 'long.yaml');
    const dags = new Map([
      [wide.id, wide],
      [long.id, long],
    ]);
    const day = 86_400_000;
    const start = Date.UTC(2020, 0, 1);
    console.log(`seeding ${GRID_RUNS} runs × ${GRID_TASKS} tasks and ${HISTORY_RUNS} runs of one task …`);
    const wideRunIds: string[] = [];
    for (let r = 0; r < GRID_RUNS; r++) {
      const at = start + r * day;
      const runId = `scheduled__${new Date(at).toISOString()}__wide`;
      wideRunIds.push(runId);
      await store.createRun({
        runId,
        dagId: 'wide',
        kind: 'scheduled',
        state: 'success',
        logicalDateMs: at,
        conf: {},
        createdMs: at,
      });
      await store.applyTransition(runId, {
        instances: wide.tasks.map((task) => ({
          record: {
            runId,
            taskId: task.id,
            mapIndex: -1,
            state: 'success' as const,
            tryNumber: 1,
            startMs: at,
            endMs: at + 1_000,
          },
        })),
      });
    }
    const batch = 500;
    for (let r = 0; r < HISTORY_RUNS; r += batch) {
      const runs = Array.from({ length: Math.min(batch, HISTORY_RUNS - r) }, (_, k) => {
        const at = start + (r + k) * 3_600_000;
        return {
          runId: `scheduled__${new Date(at).toISOString()}__long`,
          dagId: 'long',
          kind: 'scheduled' as const,
          state: 'success' as const,
          logicalDateMs: at,
          conf: {},
          createdMs: at,
        };
      });
      await store.createRuns(runs);
      await Promise.all(
        runs.map((run) =>
          store.applyTransition(run.runId, {
            instances: [
              {
                record: {
                  runId: run.runId,
                  taskId: 'only',
                  mapIndex: -1,
                  state: 'success',
                  tryNumber: 1,
                  startMs: run.logicalDateMs,
                  endMs: run.logicalDateMs + 1_000,
                },
              },
            ],
          }),
        ),
      );
    }
    const auth = new AuthStore(redis, { namespace });
    const viewer = (await auth.createToken('bench viewer', 'viewer')).token;
    const operator = (await auth.createToken('bench operator', 'operator')).token;
    const app = createWebApp({ store, auth, dags: () => dags, serveUi: false, metrics: false });
    const web = await startWebServer(app, { port: 0 });
    const time = async (path: string, token: string, init: RequestInit = {}) => {
      const begun = performance.now();
      const response = await fetch(`${web.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      await response.json();
      if (response.status >= 300) throw new Error(`${path}: ${response.status}`);
      return performance.now() - begun;
    };
    /** Times `sample` (after warm-up), with `between` run untimed before each sample. */
    const measure = async (
      sample: () => Promise<number>,
      count: number,
      between?: () => Promise<void>,
    ): Promise<Figures> => {
      for (let i = 0; i < 10; i++) await sample(); // warm-up (scrypt of the token, JIT)
      const samples: number[] = [];
      let cpuMs = 0;
      let redisMs = 0;
      for (let i = 0; i < count; i++) {
        if (between) await between();
        const cpuBefore = processCpuMs();
        const redisBefore = await redisCpuMs(redis);
        samples.push(await sample());
        cpuMs += processCpuMs() - cpuBefore;
        redisMs += (await redisCpuMs(redis)) - redisBefore;
      }
      return {
        p50: round(percentile(samples, 0.5)),
        p99: round(percentile(samples, 0.99)),
        cpuMs: round(cpuMs / count),
        redisCpuMs: round(redisMs / count),
      };
    };
    const timed = async (call: () => Promise<unknown>) => {
      const begun = performance.now();
      await call();
      return performance.now() - begun;
    };
    let changes = 0;
    /** One instance write in each of the page's runs: every run's packed cells must be built again. */
    const changeEveryRun = async () => {
      changes++;
      await Promise.all(
        wideRunIds.map((runId) =>
          store.applyTransition(runId, {
            instances: [
              {
                record: { runId, taskId: 't0', mapIndex: -1, state: 'success', tryNumber: 1, reason: `${changes}` },
              },
            ],
          }),
        ),
      );
    };
    try {
      const floor = await measure(() => time('/api/health', viewer), SAMPLES);
      const authFloor = await measure(() => time('/api/auth/me', viewer), SAMPLES);
      const gridBytes = Buffer.byteLength(
        await (
          await fetch(`${web.url}/api/dags/wide/grid?limit=100`, { headers: { authorization: `Bearer ${viewer}` } })
        ).text(),
      );
      const grid = await measure(() => time('/api/dags/wide/grid?limit=100', viewer), SAMPLES);
      const gridChanged = await measure(
        () => time('/api/dags/wide/grid?limit=100', viewer),
        CHANGED_SAMPLES,
        changeEveryRun,
      );
      const history = await measure(() => time('/api/dags/long/grid?limit=25', viewer), SAMPLES);
      const runsList = await measure(() => time('/api/runs?dagId=long&limit=25', viewer), SAMPLES);
      const readInstances = await measure(
        () => timed(() => Promise.all(wideRunIds.map((runId) => store.getTaskInstances(runId)))),
        SAMPLES,
      );
      const readCells = await measure(() => timed(() => store.getRunCells(wideRunIds)), SAMPLES);

      const trigger = () => time('/api/dags/long/runs', operator, { method: 'POST', body: '{}' });
      let begun = performance.now();
      for (let i = 0; i < TRIGGERS; i++) await trigger();
      const triggerPerSec = Math.round(TRIGGERS / ((performance.now() - begun) / 1_000));
      begun = performance.now();
      await Promise.all(
        Array.from({ length: TRIGGER_CLIENTS }, async () => {
          for (let i = 0; i < TRIGGERS / TRIGGER_CLIENTS; i++) await trigger();
        }),
      );
      const triggerConcurrentPerSec = Math.round(TRIGGERS / ((performance.now() - begun) / 1_000));

      const sse = await sseFanOut(web.url, viewer, store);

      const show = (name: string, f: Figures, target = '') =>
        console.log(
          `${name}: p50 ${f.p50} ms, p99 ${f.p99} ms${target}; CPU per request ${f.cpuMs} ms here, ` +
            `${f.redisCpuMs} ms redis-server`,
        );
      show('floor (GET /api/health)', floor);
      show('authenticated floor (GET /api/auth/me)', authFloor);
      show(`grid ${GRID_TASKS} tasks × ${GRID_RUNS} runs`, grid, ' (target p99 ≤ 50)');
      console.log(`grid ${GRID_TASKS} × ${GRID_RUNS} answer: ${gridBytes} bytes of JSON`);
      show(`grid ${GRID_TASKS} × ${GRID_RUNS}, every run changed since the last read`, gridChanged);
      show(`grid of a DAG with ${HISTORY_RUNS} runs, limit 25`, history, ' (target p99 ≤ 50)');
      show(`GET /api/runs of that DAG, limit 25`, runsList);
      show(`store read of the 200×100 page, every instance record (the grid before)`, readInstances);
      show(`store read of the 200×100 page, getRunCells`, readCells);
      console.log(
        `trigger: ${triggerPerSec} requests/s (one client), ${triggerConcurrentPerSec} requests/s ` +
          `(${TRIGGER_CLIENTS} clients)`,
      );
      console.log(
        `SSE: ${SSE_CLIENTS} clients × ${SSE_EVENTS} changes: delivery p50 ${sse.p50} ms, p99 ${sse.p99} ms, ` +
          `max ${sse.max} ms (target p99 ≤ 200); ${sse.missing} deliveries missing`,
      );
      console.log(
        JSON.stringify({
          bench: 'api',
          quick,
          samples: SAMPLES,
          p99Ms: Math.max(grid.p99, history.p99),
          gridP99Ms: grid.p99,
          gridP50Ms: grid.p50,
          gridCpuMs: grid.cpuMs,
          gridRedisCpuMs: grid.redisCpuMs,
          gridBytes,
          gridChangedP99Ms: gridChanged.p99,
          gridChangedP50Ms: gridChanged.p50,
          gridChangedRedisCpuMs: gridChanged.redisCpuMs,
          historyP99Ms: history.p99,
          historyP50Ms: history.p50,
          historyRuns: HISTORY_RUNS,
          runsListP99Ms: runsList.p99,
          runsListP50Ms: runsList.p50,
          triggerPerSec,
          triggerConcurrentPerSec,
          ssep99Ms: sse.p99,
          ssep50Ms: sse.p50,
          sseMaxMs: sse.max,
          sseClients: SSE_CLIENTS,
          sseEvents: SSE_EVENTS,
          sseMissing: sse.missing,
          floor: { p50Ms: floor.p50, p99Ms: floor.p99 },
          authFloor: { p50Ms: authFloor.p50, p99Ms: authFloor.p99 },
          baseline: {
            readInstancesP50Ms: readInstances.p50,
            readInstancesP99Ms: readInstances.p99,
            readInstancesCpuMs: readInstances.cpuMs,
            readCellsP50Ms: readCells.p50,
            readCellsP99Ms: readCells.p99,
            readCellsCpuMs: readCells.cpuMs,
          },
          ratio: round(readInstances.p50 / readCells.p50),
          targets: { p99Ms: 50, ssep99Ms: 200 },
        }),
      );
    } finally {
      await web.close();
    }
  } finally {
    await store.close();
    redis.disconnect();
    await server.stop();
  }
}

/**
 * Starts SSE_CLIENTS clients in a child process (bench/support/sse-clients.ts: as browsers, they do not
 * share the server's event loop), writes SSE_EVENTS instance changes (the try number numbers them) and
 * times each client's receipt of each, from just before the write to the parsed event. Waits until every
 * client has every change, or a few seconds after the last write (what is missing then is counted).
 */
async function sseFanOut(
  url: string,
  token: string,
  store: RedisStateStore,
): Promise<{ p50: number; p99: number; max: number; missing: number }> {
  const runId = 'manual__sse';
  await store.createRun({
    runId,
    dagId: 'long',
    kind: 'manual',
    state: 'running',
    logicalDateMs: Date.UTC(2030, 0, 1),
    conf: {},
    createdMs: 0,
  });
  const child = fork(join(import.meta.dirname, 'support', 'sse-clients.ts'), [url, token, runId, String(SSE_CLIENTS)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const message = <T>() => new Promise<T>((resolve) => child.once('message', (value) => resolve(value as T)));
  await message<{ ready: true }>();
  // Absolute times, comparable with the child's (performance.timeOrigin is the shared wall clock).
  const now = () => performance.timeOrigin + performance.now();
  const sentAt: number[] = [];
  for (let sequence = 0; sequence < SSE_EVENTS; sequence++) {
    sentAt[sequence] = now();
    await store.applyTransition(runId, {
      instances: [
        {
          record: {
            runId,
            taskId: 'only',
            mapIndex: -1,
            state: sequence % 2 === 0 ? 'running' : 'up_for_retry',
            tryNumber: sequence,
          },
        },
      ],
    });
    await sleep(SSE_GAP_MS);
  }
  await sleep(2_000); // the last changes' delivery; later than that counts as missing
  const receipts = message<{ receipts: Array<[number, number, number]> }>();
  child.send('stop');
  const latencies = (await receipts).receipts.map(([, sequence, at]) => at - sentAt[sequence]!);
  await exited;
  return {
    p50: round(percentile(latencies, 0.5)),
    p99: round(percentile(latencies, 0.99)),
    max: round(Math.max(...latencies)),
    missing: SSE_CLIENTS * SSE_EVENTS - latencies.length,
  };
}

await main();
