// `npm run bench -- api [--quick]`: the web API over real HTTP (startWebServer, keep-alive fetch) on a
// private redis-server with the Redis state store, authenticated with a bearer token (role viewer).
//  - grid: GET /api/dags/{dagId}/grid?limit=100 for a DAG of 200 tasks × 100 runs (20,000 instances);
//  - history: GET /api/runs?dagId=…&limit=25 for a DAG with 10,000 stored runs;
//  - trigger: POST /api/dags/{dagId}/runs (operator token), requests per second, one client at a time.
// Each request is timed from send to the parsed body; p50/p99 over the samples. Targets (issue #12):
// p99 ≤ 50 ms for grid and history. Baseline in the same run: GET /api/health (the HTTP + auth floor
// without store reads) — `overFloor` is each case's p50 minus the floor's p50.
// Not measured here (yet): SSE fan-out to 100 clients.
// Last line: {"bench":"api","p99Ms":…,"gridP99Ms":…,"historyP99Ms":…,"triggerPerSec":…,…}.
import { parseDagYaml, RedisStateStore } from '@batuta/scheduler';
import { RedisServer } from '@batuta/scheduler/redis-server';
import { AuthStore, createWebApp, startWebServer } from '@batuta/web';
import { Redis } from 'ioredis';

const quick = process.argv.includes('--quick');
const SAMPLES = quick ? 50 : 300;
const HISTORY_RUNS = quick ? 2_000 : 10_000;
const GRID_TASKS = 200;
const GRID_RUNS = 100;

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

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
    for (let r = 0; r < GRID_RUNS; r++) {
      const at = start + r * day;
      const runId = `scheduled__${new Date(at).toISOString()}__wide`;
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
      await store.createRuns(
        Array.from({ length: Math.min(batch, HISTORY_RUNS - r) }, (_, k) => {
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
        }),
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
    const measure = async (path: string, token: string, init?: RequestInit) => {
      for (let i = 0; i < 10; i++) await time(path, token, init); // warm-up (scrypt of the token, JIT)
      const samples: number[] = [];
      for (let i = 0; i < SAMPLES; i++) samples.push(await time(path, token, init));
      return { p50: round(percentile(samples, 0.5)), p99: round(percentile(samples, 0.99)) };
    };
    try {
      const floor = await measure('/api/health', viewer);
      const auth401 = await measure('/api/auth/me', viewer);
      const grid = await measure('/api/dags/wide/grid?limit=100', viewer);
      const history = await measure('/api/runs?dagId=long&limit=25', viewer);
      const triggers = 200;
      const begun = performance.now();
      for (let i = 0; i < triggers; i++) await time('/api/dags/long/runs', operator, { method: 'POST', body: '{}' });
      const triggerPerSec = Math.round(triggers / ((performance.now() - begun) / 1_000));
      console.log(`floor (GET /api/health): p50 ${floor.p50} ms, p99 ${floor.p99} ms`);
      console.log(`authenticated floor (GET /api/auth/me): p50 ${auth401.p50} ms, p99 ${auth401.p99} ms`);
      console.log(
        `grid ${GRID_TASKS} tasks × ${GRID_RUNS} runs: p50 ${grid.p50} ms, p99 ${grid.p99} ms (target p99 ≤ 50)`,
      );
      console.log(
        `history ${HISTORY_RUNS} runs, limit 25: p50 ${history.p50} ms, p99 ${history.p99} ms (target p99 ≤ 50)`,
      );
      console.log(`trigger: ${triggerPerSec} requests/s (one client)`);
      console.log(
        JSON.stringify({
          bench: 'api',
          quick,
          samples: SAMPLES,
          p99Ms: Math.max(grid.p99, history.p99),
          gridP99Ms: grid.p99,
          gridP50Ms: grid.p50,
          historyP99Ms: history.p99,
          historyP50Ms: history.p50,
          historyRuns: HISTORY_RUNS,
          triggerPerSec,
          floor: { p50Ms: floor.p50, p99Ms: floor.p99 },
          authFloor: { p50Ms: auth401.p50, p99Ms: auth401.p99 },
          targets: { p99Ms: 50 },
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

await main();
