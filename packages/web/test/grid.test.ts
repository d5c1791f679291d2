// The grid endpoint: a page of a DAG's runs, newest first, each with its task instances as cells, paged
// with the runs' cursor; a DAG the principal may not see is a 404.
import { parseDagYaml, RedisStateStore } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthStore, createWebApp } from '../src/index.js';

const harness = useRedisServer();
const dag = parseDagYaml(
  'id: nightly\ntasks:\n  a: { operator: empty }\n  b: { operator: empty, upstream: [a] }\n',
  'nightly.yaml',
);
let store: RedisStateStore;
let app: ReturnType<typeof createWebApp>;
let token: string;

beforeAll(async () => {
  const namespace = harness.namespace('grid');
  store = await RedisStateStore.connect({ url: harness.url, namespace });
  const auth = new AuthStore(harness.redis, { namespace, scryptCost: { N: 1024, r: 8, p: 1 } });
  app = createWebApp({ store, auth, dags: () => new Map([[dag.id, dag]]), serveUi: false, metrics: false });
  token = (await auth.createToken('grid', 'viewer')).token;
  for (let day = 1; day <= 5; day++) {
    const at = Date.UTC(2026, 10, day);
    const runId = `scheduled__${new Date(at).toISOString()}__nightly`;
    await store.createRun({
      runId,
      dagId: 'nightly',
      kind: 'scheduled',
      state: 'running',
      logicalDateMs: at,
      conf: {},
      createdMs: at,
    });
    await store.applyTransition(runId, {
      instances: [
        { record: { runId, taskId: 'a', mapIndex: -1, state: 'success', tryNumber: 1 } },
        {
          record: {
            runId,
            taskId: 'b',
            mapIndex: -1,
            state: day === 5 ? 'running' : 'failed',
            tryNumber: day === 5 ? 1 : 2,
          },
        },
      ],
    });
  }
});
afterAll(async () => {
  await store?.close();
});

const get = async (path: string) => {
  const response = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
  // biome-ignore lint/suspicious/noExplicitAny: the assertions check the body
  return { status: response.status, body: (await response.json()) as any };
};

describe('GET /api/dags/{dagId}/grid', () => {
  it('returns a page of runs, newest first, each with its cells, and a cursor to the next page', async () => {
    const first = await get('/api/dags/nightly/grid?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.tasks).toEqual(['a', 'b']);
    expect(first.body.runs.map((r: { logicalDate: string }) => r.logicalDate)).toEqual([
      '2026-11-05T00:00:00.000Z',
      '2026-11-04T00:00:00.000Z',
    ]);
    expect(first.body.runs[0].cells).toEqual([
      { taskId: 'a', mapIndex: -1, state: 'success', tryNumber: 1 },
      { taskId: 'b', mapIndex: -1, state: 'running', tryNumber: 1 },
    ]);
    const rest = await get(`/api/dags/nightly/grid?limit=10&cursor=${first.body.nextCursor}`);
    expect(rest.body.runs).toHaveLength(3);
    expect(rest.body.nextCursor).toBeUndefined();
    expect(rest.body.runs[2].cells[1]).toMatchObject({ state: 'failed', tryNumber: 2 });
  });

  it('orders each run by task then map index, with instances of tasks the DAG no longer has last', async () => {
    const runId = 'manual__ordering';
    await store.createRun({
      runId,
      dagId: 'nightly',
      kind: 'manual',
      state: 'running',
      logicalDateMs: Date.UTC(2026, 10, 6),
      conf: {},
      createdMs: 0,
    });
    const cell = (taskId: string, mapIndex: number) => ({ taskId, mapIndex, state: 'success' as const, tryNumber: 1 });
    const written = [cell('gone', -1), cell('b', 2), cell('b', 0), cell('a', -1), cell('b', 10)];
    await store.applyTransition(runId, { instances: written.map((c) => ({ record: { runId, ...c } })) });
    const order = async () =>
      (await get('/api/dags/nightly/grid?limit=1')).body.runs[0].cells.map(
        (c: { taskId: string; mapIndex: number }) => `${c.taskId}#${c.mapIndex}`,
      );
    expect(await order()).toEqual(['a#-1', 'b#0', 'b#2', 'b#10', 'gone#-1']);
    // A map index beyond what one sort key holds takes the plain sort, with the same order.
    await store.applyTransition(runId, { instances: [{ record: { runId, ...cell('b', 2 ** 21) } }] });
    expect(await order()).toEqual(['a#-1', 'b#0', 'b#2', 'b#10', `b#${2 ** 21}`, 'gone#-1']);
    await store.applyTransition(runId, { run: { patch: { state: 'success', endMs: 1 } } });
    await store.pruneRuns({ endedBeforeMs: Date.UTC(2026, 10, 7), limit: 1 });
  });

  it('answers 404 for an unknown DAG and 400 for a bad cursor or limit', async () => {
    expect((await get('/api/dags/nope/grid')).status).toBe(404);
    expect((await get('/api/dags/nightly/grid?cursor=garbage')).status).toBe(400);
    expect((await get('/api/dags/nightly/grid?limit=0')).status).toBe(400);
  });
});
