// Golden tests of every --json output: each is one JSON document that its zod schema (json-shapes.ts,
// documented in docs/cli.md) accepts, with the values the store holds. Redis is a private server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestPredictions, pythonTextKey, RolloutStore } from '@batuta/ml-tasks';
import { type DagRunRecord, RedisStateStore, type TaskInstanceRecord } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { AuthStore } from '@batuta/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dagsListJson,
  dagsValidateJson,
  predictionsGetJson,
  rolloutStatusJson,
  runsListJson,
  runsShowJson,
  statusJson,
  tokensListJson,
  usersListJson,
} from '../../src/json-shapes.js';
import { runCli } from './run-cli.js';

const redis = useRedisServer();
let namespace: string;
const dir = mkdtempSync(join(tmpdir(), 'batuta-json-'));
const good = join(dir, 'hello.yaml');
const bad = join(dir, 'broken.yaml');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-03-01T00:00:00Z');

const runs: DagRunRecord[] = [
  {
    runId: 'hello__manual__1',
    dagId: 'hello',
    kind: 'manual',
    state: 'success',
    logicalDateMs: T0,
    conf: {},
    createdMs: T0,
    startMs: T0 + 1_000,
    endMs: T0 + 4_500,
  },
  {
    runId: 'hello__manual__2-with-a-very-long-run-id-that-is-wider-than-any-column-default',
    dagId: 'hello',
    kind: 'manual',
    state: 'queued',
    logicalDateMs: T0 + 60_000,
    conf: {},
    createdMs: T0 + 60_000,
  },
];

const instances: TaskInstanceRecord[] = [
  {
    runId: 'hello__manual__1',
    taskId: 'say',
    mapIndex: -1,
    state: 'success',
    tryNumber: 2,
    startMs: T0 + 3_000,
    endMs: T0 + 4_000,
    worker: 'host:default',
    reason: 'succeeded on try 2',
  },
];

/** Parses the single JSON document printed on stdout. */
function documentOf(stdout: string): unknown {
  expect(stdout.split('\n')).toHaveLength(1);
  return JSON.parse(stdout);
}

beforeAll(async () => {
  writeFileSync(good, 'id: hello\nschedule: "0 4 * * *"\ntasks:\n  say: { operator: empty }\n');
  writeFileSync(bad, 'id: broken\ntasks:\n  a: { operator: empty, upstream: [nope] }\n');
  namespace = redis.namespace('json');
  const store = await RedisStateStore.connect({ url: redis.url, namespace });
  try {
    for (const run of runs) await store.createRun(run);
    await store.applyTransition('hello__manual__1', { instances: instances.map((record) => ({ record })) });
  } finally {
    await store.close();
  }
});

const connection = () => ['--redis', redis.url, '--namespace', namespace, '--dags', dir];

describe('--json', () => {
  it('dags validate: every file with its verdict and issues (exit 1 with an invalid file)', async () => {
    const result = await runCli(['dags', 'validate', good, bad, '--json']);
    expect(result.code).toBe(1);
    const document = dagsValidateJson.parse(documentOf(result.stdout));
    expect(document).toMatchObject({ valid: 1, invalid: 1 });
    expect(document.files.find((f) => f.file === good)).toEqual({
      file: good,
      ok: true,
      dagId: 'hello',
      tasks: 1,
      issues: [],
    });
    const broken = document.files.find((f) => f.file === bad);
    expect(broken?.ok).toBe(false);
    expect(broken?.issues[0]).toMatchObject({ code: 'UNKNOWN_UPSTREAM', line: expect.any(Number) });
  });

  it('dags list: the DAGs and the files that failed', async () => {
    const result = await runCli(['dags', 'list', dir, '--json']);
    expect(result.code).toBe(1);
    const document = dagsListJson.parse(documentOf(result.stdout));
    expect(document.dags).toEqual([{ dagId: 'hello', schedule: '0 4 * * *', tasks: 1, file: good }]);
    expect(document.errors.map((e) => e.file)).toEqual([bad]);
  });

  it('runs list: newest first, with start, end and a duration that is end − start', async () => {
    const result = await runCli(['runs', 'list', '--json', ...connection()]);
    expect(result.code).toBe(0);
    const document = runsListJson.parse(documentOf(result.stdout));
    expect(document.runs.map((r) => r.runId)).toEqual([runs[1]!.runId, runs[0]!.runId]);
    expect(document.runs[1]).toEqual({
      runId: 'hello__manual__1',
      dagId: 'hello',
      kind: 'manual',
      state: 'success',
      logicalDate: '2026-03-01T00:00:00.000Z',
      start: '2026-03-01T00:00:01.000Z',
      end: '2026-03-01T00:00:04.500Z',
      durationMs: 3_500,
      reason: null,
    });
    expect(document.runs[0]).toMatchObject({ state: 'queued', start: null, end: null, durationMs: null });
  });

  it('runs list --state filters', async () => {
    const result = await runCli(['runs', 'list', '--state', 'queued', '--json', ...connection()]);
    expect(runsListJson.parse(documentOf(result.stdout)).runs.map((r) => r.state)).toEqual(['queued']);
  });

  it("runs show: the run and its tasks, a try's duration from its own start and end", async () => {
    const result = await runCli(['runs', 'show', 'hello__manual__1', '--json', ...connection()]);
    expect(result.code).toBe(0);
    const document = runsShowJson.parse(documentOf(result.stdout));
    expect(document.run.runId).toBe('hello__manual__1');
    expect(document.tasks).toEqual([
      {
        taskId: 'say',
        mapIndex: -1,
        state: 'success',
        tryNumber: 2,
        start: '2026-03-01T00:00:03.000Z',
        end: '2026-03-01T00:00:04.000Z',
        durationMs: 1_000,
        worker: 'host:default',
        detail: 'succeeded on try 2',
      },
    ]);
  });

  it('runs show of an unknown run exits 3', async () => {
    const result = await runCli(['runs', 'show', 'nope', '--json', ...connection()]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
  });

  it('status: namespace, DAGs, runs in flight and pools', async () => {
    const result = await runCli(['status', '--json', ...connection()]);
    expect(result.code).toBe(0);
    const document = statusJson.parse(documentOf(result.stdout));
    expect(document.namespace).toBe(namespace);
    expect(document.dags).toEqual([
      { dagId: 'hello', schedule: '0 4 * * *', nextFire: expect.stringMatching(/T04:00:00\.000Z$/), paused: false },
    ]);
    expect(document.brokenFiles.map((f) => f.file)).toEqual([bad]);
    expect(document.runsInFlight).toEqual([{ runId: runs[1]!.runId, dagId: 'hello', state: 'queued' }]);
    expect(document.pools?.map((p) => p.pool)).toEqual(['default']);
  });

  it('predictions get: the value and where it came from; found false and exit 1 on a miss', async () => {
    const predictionsNamespace = redis.namespace('json-predictions');
    const row = [5.0, 2.9, 1.1, 0.4];
    await ingestPredictions(redis.redis, {
      model: 'iris',
      namespace: predictionsNamespace,
      version: 'v1',
      featureCount: 4,
      keys: [pythonTextKey(row)],
      labels: ['setosa'],
    });
    const args = ['--redis', redis.url, '--namespace', predictionsNamespace, '--json'];
    const hit = await runCli(['predictions', 'get', 'iris', ...args, '--', ...row.map(String)]);
    expect(hit.code).toBe(0);
    expect(predictionsGetJson.parse(documentOf(hit.stdout))).toMatchObject({
      model: 'iris',
      namespace: predictionsNamespace,
      found: true,
      value: 'setosa',
      status: 'hit',
      version: 'v1',
    });
    const miss = await runCli(['predictions', 'get', 'iris', ...args, '--', '1', '2', '3', '-4']);
    expect(miss.code).toBe(1);
    expect(predictionsGetJson.parse(documentOf(miss.stdout))).toMatchObject({ found: false, value: null });
  });

  it('users list and tokens list: names and roles, never a hash or a secret', async () => {
    const authNamespace = redis.namespace('json-auth');
    const auth = new AuthStore(redis.redis, { namespace: authNamespace, scryptCost: { N: 1024, r: 8, p: 1 } });
    await auth.addUser('alice', 'a long password', 'admin');
    const { token } = await auth.createToken('ci', 'operator', { models: ['iris'] });
    const args = ['--redis', redis.url, '--namespace', authNamespace, '--json'];
    const users = await runCli(['users', 'list', ...args]);
    expect(users.code).toBe(0);
    expect(usersListJson.parse(documentOf(users.stdout))).toEqual({
      users: [{ name: 'alice', role: 'admin', created: expect.any(String) }],
    });
    const tokens = await runCli(['tokens', 'list', ...args]);
    expect(tokensListJson.parse(documentOf(tokens.stdout)).tokens).toEqual([
      { id: token.slice(3, 15), name: 'ci', role: 'operator', models: ['iris'], created: expect.any(String) },
    ]);
    expect(`${users.stdout}${tokens.stdout}`).not.toMatch(/scrypt|hash/);
  });

  it('rollout status: split, figures per version, the sample-ratio check and the intervals', async () => {
    const rolloutNamespace = redis.namespace('json-rollout');
    const store = new RolloutStore(redis.redis, { model: 'iris', namespace: rolloutNamespace });
    await store.start({ strategy: 'ab', model: 'iris', baseline: 'v1', candidate: 'v2', split: 0.5 });
    for (let i = 0; i < 20; i++) {
      await store.record({ arm: 'baseline', version: 'v1' }, {});
      await store.record({ arm: 'candidate', version: 'v2' }, { error: i < 2 });
      await store.feedback('v1', i % 4 === 0 ? 0 : 1);
      await store.feedback('v2', i % 2);
    }
    const result = await runCli([
      'rollout',
      'status',
      'iris',
      '--redis',
      redis.url,
      '--namespace',
      rolloutNamespace,
      '--json',
    ]);
    expect(result.code).toBe(0);
    const document = rolloutStatusJson.parse(documentOf(result.stdout));
    expect(document).toMatchObject({
      model: 'iris',
      namespace: rolloutNamespace,
      strategy: 'ab',
      status: 'running',
      split: { v1: 0.5, v2: 0.5 },
      serving: null,
      sampleRatio: { mismatch: false, pValue: 1 },
    });
    expect(document.figures).toEqual([
      { arm: 'v1', requests: 20, errors: 0, compared: 0, disagreements: 0, feedbackTrials: 20, feedbackCorrect: 15 },
      { arm: 'v2', requests: 20, errors: 2, compared: 0, disagreements: 0, feedbackTrials: 20, feedbackCorrect: 10 },
    ]);
    expect(document.accuracy?.estimate).toBeCloseTo(-0.25);
    expect(document.accuracy!.lower!).toBeLessThan(document.accuracy!.upper!);
    expect(document.errorRate?.estimate).toBeCloseTo(0.1);
  });
});

describe('tables', () => {
  it('runs list prints a header and start, end and duration columns aligned past a wide run id', async () => {
    const result = await runCli(['runs', 'list', ...connection()]);
    expect(result.code).toBe(0);
    const [header, ...rows] = result.stdout.split('\n');
    expect(header).toMatch(/^STATE\s+KIND\s+LOGICAL DATE\s+START\s+END\s+DURATION\s+RUN$/);
    expect(rows).toHaveLength(2);
    const runColumn = header!.indexOf('RUN');
    for (const row of rows) expect(row.slice(runColumn)).toMatch(/^hello__manual__/);
    expect(rows[1]).toContain('3.5 s');
  });
});
