// The grid endpoint: a page of a DAG's runs, newest first, each with one state code per task row, the tries
// that are not 1 and a summary per mapped row, paged with the runs' cursor; a DAG the principal may not
// see is a 404.
import { parseDagYaml, RedisStateStore, type TaskState } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthStore, createWebApp } from '../src/index.js';

const harness = useRedisServer();
const dag = parseDagYaml(
  'id: nightly\ntasks:\n  a: { operator: empty }\n  b: { operator: empty, upstream: [a] }\n  c: { operator: empty }\n',
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

const run = (runId: string, logicalDate: string, extra: Record<string, unknown>) => ({
  runId,
  dagId: 'nightly',
  kind: runId.startsWith('manual') ? 'manual' : 'scheduled',
  state: 'running',
  logicalDate,
  createdAt: runId.startsWith('manual') ? '1970-01-01T00:00:00.000Z' : logicalDate,
  conf: {},
  ...extra,
});

describe('GET /api/dags/{dagId}/grid', () => {
  it('returns a page of runs, newest first, one state code per task row and the tries not 1', async () => {
    const first = await get('/api/dags/nightly/grid?limit=2');
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      dagId: 'nightly',
      tasks: ['a', 'b', 'c'],
      stateCodes: {
        n: 'none',
        h: 'scheduled',
        q: 'queued',
        r: 'running',
        s: 'success',
        f: 'failed',
        y: 'up_for_retry',
        u: 'upstream_failed',
        k: 'skipped',
        x: 'removed',
      },
      runs: [
        run('scheduled__2026-11-05T00:00:00.000Z__nightly', '2026-11-05T00:00:00.000Z', {
          states: 'sr.',
          tries: [],
          mapped: [],
        }),
        run('scheduled__2026-11-04T00:00:00.000Z__nightly', '2026-11-04T00:00:00.000Z', {
          states: 'sf.',
          tries: [[1, 2]],
          mapped: [],
        }),
      ],
      nextCursor: first.body.nextCursor,
    });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await get(`/api/dags/nightly/grid?limit=10&cursor=${first.body.nextCursor}`);
    expect(rest.body.runs.map((r: { states: string }) => r.states)).toEqual(['sf.', 'sf.', 'sf.']);
    expect(rest.body.nextCursor).toBeUndefined();
  });

  it('summarises a mapped row by state, shows its most urgent state, and leaves out tasks the DAG lacks', async () => {
    const runId = 'manual__mapped';
    await store.createRun({
      runId,
      dagId: 'nightly',
      kind: 'manual',
      state: 'running',
      logicalDateMs: Date.UTC(2026, 10, 6),
      conf: {},
      createdMs: 0,
    });
    const cell = (taskId: string, mapIndex: number, state: TaskState, tryNumber = 1) => ({
      taskId,
      mapIndex,
      state,
      tryNumber,
    });
    // Written out of row and map-index order: the answer must not depend on the order cells are stored in.
    const written = [
      cell('gone', -1, 'failed'),
      cell('c', 10, 'success'),
      cell('c', 2, 'failed', 3),
      cell('a', -1, 'none', 0),
      cell('c', 0, 'success'),
      cell('b', 4, 'queued', 2),
    ];
    await store.applyTransition(runId, { instances: written.map((c) => ({ record: { runId, ...c } })) });
    const answer = async () => (await get('/api/dags/nightly/grid?limit=1')).body.runs[0];
    expect(await answer()).toEqual(
      run(runId, '2026-11-06T00:00:00.000Z', {
        // a: none on try 0; b: one instance (map index 4) on try 2; c: three instances, one failed.
        states: 'nqf',
        tries: [
          [0, 0],
          [1, 2],
        ],
        mapped: [{ row: 2, counts: { success: 2, failed: 1 } }],
      }),
    );
    // Every instance succeeding makes the summary success; an up_for_retry one outranks running.
    await store.applyTransition(runId, {
      instances: [
        { record: { runId, ...cell('c', 2, 'success', 3) } },
        { record: { runId, ...cell('b', 5, 'running') } },
        { record: { runId, ...cell('b', 4, 'up_for_retry', 2) } },
      ],
    });
    expect(await answer()).toMatchObject({
      states: 'nys',
      tries: [[0, 0]],
      mapped: [
        { row: 1, counts: { up_for_retry: 1, running: 1 } },
        { row: 2, counts: { success: 3 } },
      ],
    });
    await store.applyTransition(runId, { run: { patch: { state: 'success', endMs: 1 } } });
    await store.pruneRuns({ endedBeforeMs: Date.UTC(2026, 10, 7), limit: 1 });
  });

  it('answers 404 for an unknown DAG and 400 for a bad cursor or limit', async () => {
    expect((await get('/api/dags/nope/grid')).status).toBe(404);
    expect((await get('/api/dags/nightly/grid?cursor=garbage')).status).toBe(400);
    expect((await get('/api/dags/nightly/grid?limit=0')).status).toBe(400);
  });
});
