// The routes that watch and repair runs, against a private Redis and real parts: task logs through the Redis
// LogStore, clear and mark applied by a real scheduler (createScheduler with in-process workers), pools read
// from the BullMQ queues, cursor pages of runs, per-DAG access, live changes over SSE from one Redis
// subscription, and the Prometheus metrics. No wall-clock assertions: waits poll with generous deadlines.
import { createScheduler, PoolStatusReader } from '@batuta/orchestrator';
import { type DagSpec, parseDagYaml, RedisLogStore, RedisStateStore } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthStore, createWebApp, startWebServer } from '../src/index.js';

const harness = useRedisServer();
const cheap = { N: 1024, r: 8, p: 1 };

const report = parseDagYaml(
  `id: report
tasks:
  a: { operator: empty }
  b: { operator: shell, upstream: [a], with: { command: "exit 3" } }
  c: { operator: empty, upstream: [b] }
`,
  'report.yaml',
);
const secret = parseDagYaml(
  `id: secret
access:
  view: ["user:ana", admin]
  operate: ["user:ana"]
tasks:
  only: { operator: empty }
`,
  'secret.yaml',
);
const shared = parseDagYaml(
  `id: shared
access:
  operate: ["user:ana"]
tasks:
  only: { operator: empty }
`,
  'shared.yaml',
);
const dags = new Map<string, DagSpec>([report, secret, shared].map((dag) => [dag.id, dag]));
const pools = {
  pools: [
    {
      name: 'default',
      capacity: { cpu: 2, memoryMb: 512, gpu: 0, custom: {} },
      labels: {},
      minWorkers: 1,
      maxWorkers: 2,
    },
  ],
  slotPools: [],
};

let namespace: string;
let store: RedisStateStore;
let logStore: RedisLogStore;
let auth: AuthStore;
let bullConnection: Redis;
let poolReader: PoolStatusReader;
let app: ReturnType<typeof createWebApp>;
const tokens: Record<string, string> = {};
let anaCookie: { cookie: string; csrf: string };

beforeAll(async () => {
  namespace = harness.namespace('live');
  store = await RedisStateStore.connect({ url: harness.url, namespace });
  logStore = new RedisLogStore({ redis: harness.redis, namespace });
  auth = new AuthStore(harness.redis, { namespace, scryptCost: cheap });
  bullConnection = new Redis(harness.url, { maxRetriesPerRequest: null });
  poolReader = new PoolStatusReader({ connection: bullConnection, namespace, pools });
  app = createWebApp({
    store,
    auth,
    logStore,
    pools: poolReader,
    dags: () => dags,
    secureCookies: false,
    repairWaitMs: 30_000,
    heartbeatMs: 200,
  });
  for (const role of ['viewer', 'operator', 'admin'] as const)
    tokens[role] = (await auth.createToken(`${role} bot`, role)).token;
  await auth.addUser('ana', 'correct horse battery', 'operator');
  const login = await app.request('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'ana', password: 'correct horse battery' }),
  });
  anaCookie = {
    cookie: (login.headers.get('set-cookie') ?? '').split(';')[0]!,
    csrf: ((await login.json()) as { csrfToken: string }).csrfToken,
  };
});
afterAll(async () => {
  await poolReader?.close();
  bullConnection?.disconnect();
  await store?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions themselves
type Body = Record<string, any>;
const call = (path: string, init: RequestInit & { as?: string } = {}) => {
  const headers = new Headers(init.headers);
  if (init.as === 'ana') {
    headers.set('cookie', anaCookie.cookie);
    headers.set('x-csrf-token', anaCookie.csrf);
  } else if (init.as) headers.set('authorization', `Bearer ${tokens[init.as]}`);
  if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  return app.request(path, { ...init, headers });
};
const json = async (response: Response | Promise<Response>): Promise<Body> => (await (await response).json()) as Body;

async function until<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs = 30_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function seedRun(runId: string, dagId: string, logicalDateMs: number) {
  await store.createRun({ runId, dagId, kind: 'manual', state: 'success', logicalDateMs, conf: {}, createdMs: 0 });
}

describe('task logs', () => {
  it('reads one try a page at a time, and the latest try by default', async () => {
    await seedRun('logs-run', 'report', 1);
    await store.applyTransition('logs-run', {
      instances: [{ record: { runId: 'logs-run', taskId: 'b', mapIndex: -1, state: 'failed', tryNumber: 2 } }],
    });
    const attempt = { runId: 'logs-run', taskId: 'b', mapIndex: -1 };
    await logStore.append({ ...attempt, tryNumber: 1 }, [{ atMs: 10, stream: 'stdout', text: 'first try' }], {
      end: true,
    });
    await logStore.append(
      { ...attempt, tryNumber: 2 },
      [
        { atMs: 20, stream: 'stdout', text: 'line 1' },
        { atMs: 21, stream: 'stderr', text: 'line 2' },
      ],
      { end: true },
    );
    const latest = await json(call('/api/runs/logs-run/tasks/b/logs', { as: 'viewer' }));
    expect(latest).toMatchObject({ tryNumber: 2, tries: [1, 2], ended: true, state: 'failed' });
    expect(latest.lines.map((line: { text: string }) => line.text)).toEqual(['line 1', 'line 2']);
    const first = await json(call('/api/runs/logs-run/tasks/b/logs?try=1', { as: 'viewer' }));
    expect(first.lines).toEqual([{ time: new Date(10).toISOString(), atMs: 10, stream: 'stdout', text: 'first try' }]);
    const after = await json(
      call(`/api/runs/logs-run/tasks/b/logs?try=2&cursor=${encodeURIComponent(latest.cursor)}`, { as: 'viewer' }),
    );
    expect(after.lines).toEqual([]);
    expect((await call('/api/runs/logs-run/tasks/nope/logs', { as: 'viewer' })).status).toBe(404);
    expect((await call('/api/runs/no-run/tasks/b/logs', { as: 'viewer' })).status).toBe(404);
    expect(await json(call('/api/runs/logs-run/tasks/b/logs?cursor=zz', { as: 'viewer' }))).toMatchObject({
      status: 400,
      errors: [{ field: 'query.cursor' }],
    });
    expect(await json(call('/api/runs/logs-run/tasks/b/logs?try=0', { as: 'viewer' }))).toMatchObject({
      status: 400,
      errors: [{ field: 'query.try' }],
    });
  });
});

describe('task log tails', () => {
  it('answers the last lines of a try with tail, and a cursor that follows on from them', async () => {
    await seedRun('tail-run', 'report', 2);
    const attempt = { runId: 'tail-run', taskId: 'b', mapIndex: -1, tryNumber: 1 };
    const written = Array.from({ length: 30 }, (_, i) => ({ atMs: 100 + i, stream: 'stdout' as const, text: `l${i}` }));
    await logStore.append(attempt, written.slice(0, 12));
    await logStore.append(attempt, written.slice(12));
    const url = '/api/runs/tail-run/tasks/b/logs';
    const texts = (page: Body) => (page.lines as Array<{ text: string }>).map((line) => line.text);
    const tail = await json(call(`${url}?tail=3`, { as: 'viewer' }));
    expect(texts(tail)).toEqual(['l27', 'l28', 'l29']);
    expect(tail).toMatchObject({ tryNumber: 1, tries: [1], ended: false, droppedLines: 0 });
    expect(texts(await json(call(`${url}?tail=100`, { as: 'viewer' })))).toHaveLength(30);
    expect(texts(await json(call(`${url}?tail=0`, { as: 'viewer' })))).toEqual([]);
    // tail takes the place of limit.
    expect(texts(await json(call(`${url}?tail=2&limit=1`, { as: 'viewer' })))).toEqual(['l28', 'l29']);
    await logStore.append(attempt, [{ atMs: 200, stream: 'stderr', text: 'after the tail' }], { end: true });
    const next = await json(call(`${url}?cursor=${encodeURIComponent(tail.cursor)}`, { as: 'viewer' }));
    expect(texts(next)).toEqual(['after the tail']);
    expect(next.ended).toBe(true);
  });

  it('refuses a tail with a cursor, and one out of bounds, naming the field', async () => {
    await seedRun('tail-bad', 'report', 3);
    await logStore.append({ runId: 'tail-bad', taskId: 'b', mapIndex: -1, tryNumber: 1 }, [
      { atMs: 1, stream: 'stdout', text: 'x' },
    ]);
    const url = '/api/runs/tail-bad/tasks/b/logs';
    for (const query of ['tail=1&cursor=0-0', 'tail=-1', 'tail=10001', 'tail=1.5', 'tail=many']) {
      expect(await json(call(`${url}?${query}`, { as: 'viewer' }))).toMatchObject({
        status: 400,
        errors: [{ field: 'query.tail' }],
      });
    }
  });
});

describe('task tries', () => {
  it('answers every try from the store, oldest first, with the log-only tries of before the history', async () => {
    await seedRun('tries-run', 'report', 2);
    const record = { runId: 'tries-run', taskId: 'b', mapIndex: -1 };
    const attempt = { ...record, tryNumber: 1 };
    // Try 1 has only a log (as a run written before the history has); tries 2 and 3 have their records.
    await logStore.append(attempt, [{ atMs: 1, stream: 'stdout', text: 'old' }], { end: true });
    await logStore.append({ ...attempt, tryNumber: 3 }, [{ atMs: 3, stream: 'stdout', text: 'x' }], { end: true });
    const write = (state: 'up_for_retry' | 'running' | 'failed', tryNumber: number, more = {}) =>
      store.applyTransition('tries-run', { instances: [{ record: { ...record, state, tryNumber, ...more } }] });
    await write('up_for_retry', 2, {
      startMs: 1_000,
      endMs: 1_500,
      worker: 'host-a:1',
      error: { message: 'exit code 3', code: 'EXIT_3', stack: 'hidden' },
    });
    await write('running', 3, { startMs: 2_000, worker: 'host-b:2' });
    const answer = await json(call('/api/runs/tries-run/tasks/b/tries', { as: 'viewer' }));
    expect(answer).toEqual({
      runId: 'tries-run',
      taskId: 'b',
      mapIndex: -1,
      state: 'running',
      tries: [
        { tryNumber: 1, hasLog: true },
        {
          tryNumber: 2,
          state: 'up_for_retry',
          startedAt: new Date(1_000).toISOString(),
          endedAt: new Date(1_500).toISOString(),
          durationMs: 500,
          worker: 'host-a:1',
          error: { message: 'exit code 3', code: 'EXIT_3' },
          hasLog: false,
        },
        { tryNumber: 3, state: 'running', startedAt: new Date(2_000).toISOString(), worker: 'host-b:2', hasLog: true },
      ],
    });
    await write('failed', 3, { startMs: 2_000, endMs: 2_100, worker: 'host-b:2' });
    const ended = await json(call('/api/runs/tries-run/tasks/b/tries', { as: 'viewer' }));
    expect(ended.tries.map((t: Body) => `${t.tryNumber}:${t.state ?? 'log'}:${t.durationMs ?? '-'}`)).toEqual([
      '1:log:-',
      '2:up_for_retry:500',
      '3:failed:100',
    ]);
    expect((await call('/api/runs/tries-run/tasks/nope/tries', { as: 'viewer' })).status).toBe(404);
    expect((await call('/api/runs/tries-run/tasks/b/tries?mapIndex=4', { as: 'viewer' })).status).toBe(404);
    expect((await call('/api/runs/no-run/tasks/b/tries', { as: 'viewer' })).status).toBe(404);
    expect(await json(call('/api/runs/tries-run/tasks/b/tries?mapIndex=x', { as: 'viewer' }))).toMatchObject({
      status: 400,
      errors: [{ field: 'query.mapIndex' }],
    });
  });
});

describe('run pages', () => {
  it('pages every run once with nextCursor, ties in run id order, and none after the last page', async () => {
    const ids = ['p-a', 'p-b', 'p-c', 'p-d', 'p-e', 'p-f', 'p-g'];
    for (const [i, runId] of ids.entries()) await seedRun(runId, 'shared', 1_000 + Math.floor(i / 2));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await json(
        call(`/api/runs?dagId=shared&limit=3${cursor ? `&cursor=${cursor}` : ''}`, { as: 'viewer' }),
      );
      seen.push(...page.runs.map((run: { runId: string }) => run.runId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(['p-g', 'p-e', 'p-f', 'p-c', 'p-d', 'p-a', 'p-b']);
    expect(await json(call('/api/runs?cursor=bm9wZQ', { as: 'viewer' }))).toMatchObject({
      status: 400,
      errors: [{ field: 'query.cursor' }],
    });
  });
});

describe('per-DAG access', () => {
  it('hides a DAG and its runs from who may not view it (404), and refuses who may not operate it (403)', async () => {
    await seedRun('secret-run', 'secret', 5_000);
    const viewerDags = await json(call('/api/dags', { as: 'viewer' }));
    expect(viewerDags.dags.map((dag: { dagId: string }) => dag.dagId)).not.toContain('secret');
    expect((await call('/api/dags/secret', { as: 'operator' })).status).toBe(404);
    expect((await call('/api/runs/secret-run', { as: 'viewer' })).status).toBe(404);
    expect((await call('/api/runs?dagId=secret', { as: 'viewer' })).status).toBe(404);
    const all = await json(call('/api/runs?limit=500', { as: 'viewer' }));
    expect(all.runs.map((run: { runId: string }) => run.runId)).not.toContain('secret-run');
    // Ana (a user named in the access) and an admin see it.
    expect((await call('/api/dags/secret', { as: 'ana' })).status).toBe(200);
    expect((await call('/api/runs/secret-run', { as: 'admin' })).status).toBe(200);
    const anaRuns = await json(call('/api/runs?limit=500', { as: 'ana' }));
    expect(anaRuns.runs.map((run: { runId: string }) => run.runId)).toContain('secret-run');
    // `shared` is visible to all, operable only by ana (and admins).
    expect((await call('/api/dags/shared', { as: 'viewer' })).status).toBe(200);
    const refused = await call('/api/dags/shared/runs', { as: 'operator', method: 'POST', body: '{}' });
    expect(refused.status).toBe(403);
    expect((await call('/api/runs/p-a/clear', { as: 'operator', method: 'POST', body: '{}' })).status).toBe(403);
    expect((await call('/api/runs/secret-run/clear', { as: 'operator', method: 'POST', body: '{}' })).status).toBe(404);
    expect((await call('/api/dags/shared/runs', { as: 'ana', method: 'POST', body: '{}' })).status).toBe(201);
  });
});

describe('what the UI may offer', () => {
  it("says in a DAG's detail whether the caller may operate it, by role and by the DAG's access", async () => {
    const mayOperate = async (dagId: string, as: string) => (await json(call(`/api/dags/${dagId}`, { as }))).mayOperate;
    expect(await mayOperate('report', 'viewer')).toBe(false);
    expect(await mayOperate('report', 'operator')).toBe(true);
    expect(await mayOperate('shared', 'operator')).toBe(false); // operate is ana's only
    expect(await mayOperate('shared', 'ana')).toBe(true);
    expect(await mayOperate('shared', 'admin')).toBe(true);
    const listed = async (as: string) =>
      Object.fromEntries((await json(call('/api/dags', { as }))).dags.map((dag: Body) => [dag.dagId, dag.mayOperate]));
    expect(await listed('operator')).toMatchObject({ report: true, shared: false });
    expect(await listed('ana')).toMatchObject({ report: true, shared: true, secret: true });
  });
});

describe('clear, mark, pools and live changes with a real scheduler', () => {
  it('streams the run’s changes to two clients over one subscription, then marks and clears it', async () => {
    const scheduler = createScheduler({
      redisUrl: harness.url,
      namespace,
      dags: [report],
      pools: pools.pools,
      workers: true,
      schedulerId: 'web-test',
    });
    const server = await startWebServer(app, { port: 0 });
    const readers: Array<ReturnType<typeof openStream>> = [];
    try {
      await scheduler.start();
      readers.push(openStream(server.url, tokens.viewer!), openStream(server.url, tokens.operator!));
      await Promise.all(readers.map((reader) => reader.ready));
      const [numsub] = (await harness.redis.pubsub('NUMSUB', `batuta:${namespace}:changes`)) as [string, number];
      expect(numsub).toBe(`batuta:${namespace}:changes`);
      expect(Number((await harness.redis.pubsub('NUMSUB', `batuta:${namespace}:changes`))[1])).toBe(1);

      const created = await json(call('/api/dags/report/runs', { as: 'operator', method: 'POST', body: '{}' }));
      const runId: string = created.runId;
      const failed = await until('the run to fail', async () =>
        (await store.getRun(runId))?.state === 'failed' ? true : undefined,
      );
      expect(failed).toBe(true);
      for (const reader of readers) {
        await until('the failure to reach an SSE client', async () =>
          reader.changes.some((change) => change.runId === runId && change.runState === 'failed') ? true : undefined,
        );
        expect(reader.changes).toContainEqual(expect.objectContaining({ runId, dagId: 'report', created: true }));
        const taskStates = reader.changes.flatMap((change) => change.tasks ?? []);
        expect(taskStates).toContainEqual(expect.objectContaining({ taskId: 'b', state: 'failed' }));
        expect(taskStates).toContainEqual(expect.objectContaining({ taskId: 'c', state: 'upstream_failed' }));
      }

      const dry = await json(
        call(`/api/runs/${encodeURIComponent(runId)}/tasks/mark`, {
          as: 'operator',
          method: 'POST',
          body: JSON.stringify({ taskIds: ['b'], state: 'success', downstream: true, dryRun: true }),
        }),
      );
      expect(dry).toMatchObject({ status: 'dry-run', tasks: ['b', 'c'] });
      expect((await store.getTaskInstance(runId, 'b', -1))?.state).toBe('failed');
      const marked = await call(`/api/runs/${encodeURIComponent(runId)}/tasks/mark`, {
        as: 'operator',
        method: 'POST',
        body: JSON.stringify({ taskIds: ['b'], state: 'success', downstream: true }),
      });
      expect(marked.status).toBe(200);
      expect(await json(marked)).toMatchObject({ status: 'applied', appliedBy: 'web-test' });
      await until('the marked run to succeed', async () =>
        (await store.getRun(runId))?.state === 'success' ? true : undefined,
      );

      const cleared = await json(
        call(`/api/runs/${encodeURIComponent(runId)}/clear`, {
          as: 'operator',
          method: 'POST',
          body: JSON.stringify({ taskIds: ['b'] }),
        }),
      );
      expect(cleared).toMatchObject({ status: 'applied', action: 'clear' });
      await until('the cleared task to fail again on try 2', async () => {
        const b = await store.getTaskInstance(runId, 'b', -1);
        return b?.state === 'failed' && b.tryNumber === 2 ? true : undefined;
      });
      // Both tries stay: the first as it ended (failed, not the later mark), the rerun after the clear.
      const tries = await json(call(`/api/runs/${encodeURIComponent(runId)}/tasks/b/tries`, { as: 'viewer' }));
      expect(tries.tries).toEqual([
        expect.objectContaining({ tryNumber: 1, state: 'failed', worker: expect.any(String) }),
        expect.objectContaining({ tryNumber: 2, state: 'failed', worker: expect.any(String) }),
      ]);
      expect(tries.tries[0].error).toBeDefined();
      expect(tries.tries[0].durationMs).toBeGreaterThanOrEqual(0);
      const badTask = await json(
        call(`/api/runs/${encodeURIComponent(runId)}/clear`, {
          as: 'operator',
          method: 'POST',
          body: JSON.stringify({ taskIds: ['nope'] }),
        }),
      );
      expect(badTask).toMatchObject({ status: 400, errors: [{ field: 'body.taskIds' }] });
      const badIndex = await json(
        call(`/api/runs/${encodeURIComponent(runId)}/tasks/mark`, {
          as: 'operator',
          method: 'POST',
          body: JSON.stringify({ taskIds: ['b'], state: 'success', mapIndexes: [0], dryRun: true }),
        }),
      );
      expect(badIndex).toMatchObject({ status: 400, errors: [{ field: 'body.mapIndexes' }] });
      expect(badIndex.detail).toContain("'b' of DAG 'report' is not a mapped task");
      expect(
        (await call(`/api/runs/${encodeURIComponent(runId)}/clear`, { as: 'viewer', method: 'POST' })).status,
      ).toBe(403);

      const poolList = await json(call('/api/pools', { as: 'viewer' }));
      expect(poolList.pools).toEqual([
        expect.objectContaining({ pool: 'default', workersAlive: 1, waiting: 0, capacity: pools.pools[0]!.capacity }),
      ]);
    } finally {
      for (const reader of readers) reader.close();
      await scheduler.stop();
      await server.close();
    }
    // The last client gone, the server's subscription goes too.
    await until('the subscription to close', async () =>
      Number((await harness.redis.pubsub('NUMSUB', `batuta:${namespace}:changes`))[1]) === 0 ? true : undefined,
    );
  }, 120_000);

  it('sends a viewer no changes of a DAG it may not see', async () => {
    const server = await startWebServer(app, { port: 0 });
    const viewer = openStream(server.url, tokens.viewer!);
    const ana = openStream(server.url, anaCookie.cookie, true);
    try {
      await Promise.all([viewer.ready, ana.ready]);
      await seedRun('secret-live', 'secret', 6_000);
      await seedRun('shared-live', 'shared', 6_000);
      await until('ana to see both', async () =>
        ana.changes.some((c) => c.runId === 'secret-live') && ana.changes.some((c) => c.runId === 'shared-live')
          ? true
          : undefined,
      );
      await until('the viewer to see the shared run', async () =>
        viewer.changes.some((c) => c.runId === 'shared-live') ? true : undefined,
      );
      expect(viewer.changes.some((c) => c.dagId === 'secret')).toBe(false);
      await until('a heartbeat', async () => (viewer.heartbeats() > 0 ? true : undefined));
    } finally {
      viewer.close();
      ana.close();
      await server.close();
    }
  });
});

describe('bad input', () => {
  it('answers any body and query string on the new routes without a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/api/runs/p-a/clear', '/api/runs/p-a/tasks/mark', '/api/runs/none/clear'),
        fc.oneof(fc.json(), fc.string()),
        async (path, body) => {
          const response = await call(path, { as: 'admin', method: 'POST', body });
          expect(response.status).toBeLessThan(500);
        },
      ),
      { numRuns: 100 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/api/runs', '/api/runs/logs-run/tasks/b/logs', '/api/runs/logs-run/tasks/b/tries'),
        fc.dictionary(fc.constantFrom('limit', 'cursor', 'try', 'mapIndex', 'state', 'dagId'), fc.string()),
        async (path, query) => {
          const response = await call(`${path}?${new URLSearchParams(query)}`, { as: 'admin' });
          expect(response.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('the OpenAPI document', () => {
  it('has the new routes', async () => {
    const document = await json(call('/api/openapi.json'));
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/runs/{runId}/tasks/{taskId}/logs',
        '/api/runs/{runId}/tasks/{taskId}/tries',
        '/api/runs/{runId}/clear',
        '/api/runs/{runId}/tasks/mark',
        '/api/pools',
        '/api/datasets',
        '/api/events/stream',
      ]),
    );
    expect(document.components.schemas.RepairResult).toBeDefined();
  });
});

describe('datasets', () => {
  it('lists the datasets of the visible DAGs with producers and consumers', async () => {
    const producer = parseDagYaml(
      'id: producer\ntasks:\n  out: { operator: empty, outlets: [orders] }\n',
      'producer.yaml',
    );
    const consumer = parseDagYaml(
      'id: consumer\nschedule: { datasets: [orders] }\ntasks:\n  use: { operator: empty }\n',
      'consumer.yaml',
    );
    dags.set(producer.id, producer).set(consumer.id, consumer);
    try {
      const body = await json(call('/api/datasets', { as: 'viewer' }));
      expect(body.datasets).toEqual([
        { dataset: 'orders', producers: [{ dagId: 'producer', taskId: 'out' }], consumers: ['consumer'] },
      ]);
    } finally {
      dags.delete(producer.id);
      dags.delete(consumer.id);
    }
  });
});

describe('metrics', () => {
  it('counts requests by route pattern and status, with a latency histogram', async () => {
    await call('/api/dags', { as: 'viewer' });
    await call('/api/runs/x-unknown', { as: 'viewer' });
    const response = await app.request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    const count = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
    expect(count(/batuta_http_requests_total\{method="GET",route="\/api\/dags",status="200"\} (\d+)/)).toBeGreaterThan(
      0,
    );
    expect(
      count(/batuta_http_requests_total\{method="GET",route="\/api\/runs\/\{runId\}",status="404"\} (\d+)/),
    ).toBeGreaterThan(0);
    expect(
      count(/batuta_http_request_duration_seconds_count\{method="GET",route="\/api\/dags"\} (\d+)/),
    ).toBeGreaterThan(0);
    expect(text).not.toContain('x-unknown');
    expect(text).toMatch(/batuta_web_process_cpu_seconds_total/);
  });
});

interface Change {
  runId: string;
  dagId: string;
  created?: boolean;
  runState?: string;
  tasks?: Array<{ taskId: string; state: string }>;
}

/** An SSE client over fetch: collects `change` events and counts heartbeats. */
function openStream(baseUrl: string, credential: string, isCookie = false) {
  const abort = new AbortController();
  const changes: Change[] = [];
  let heartbeats = 0;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const headers: Record<string, string> = isCookie ? { cookie: credential } : { authorization: `Bearer ${credential}` };
  const done = (async () => {
    const response = await fetch(`${baseUrl}/api/events/stream`, { headers, signal: abort.signal });
    if (response.status !== 200 || !response.body) throw new Error(`stream answered ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) heartbeats++;
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === 'ready') markReady();
        if (event === 'change' && data) changes.push(JSON.parse(data) as Change);
        end = buffer.indexOf('\n\n');
      }
    }
  })().catch(() => {});
  return {
    ready,
    changes,
    heartbeats: () => heartbeats,
    close: () => {
      abort.abort();
      void done;
    },
  };
}
