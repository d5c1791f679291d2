// `batuta tasks clear|mark|test` and `batuta runs clear` in this process against a private Redis, with no
// scheduler: what they list (--dry-run, --json), their not-found and usage errors, and `tasks test`
// reading upstream outputs from a run or stubbing them. Applying is covered end to end in test/e2e.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { main } from '@batuta/cli';
import { RedisStateStore } from '@batuta/scheduler';
import { CONTROL_STREAM, REPAIR_REQUEST } from '@batuta/scheduler/internals';
import { useRedisServer } from '@batuta/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

const redis = useRedisServer();
let dir: string;

const DAG = `id: etl
tasks:
  extract: { operator: empty }
  transform:
    operator: shell
    upstream: [extract]
    with: { command: 'echo "$BATUTA_TASK_ID on $BATUTA_LOGICAL_DATE"' }
  load: { operator: empty, upstream: [transform] }
  count:
    operator: module
    upstream: [extract]
    with: { path: count.mjs, export: count }
`;

// each maps over list's output; regions over two literal lists (4 instances, region varying slowest).
const FAN = `id: fan
tasks:
  list: { operator: empty }
  each:
    operator: module
    upstream: [list]
    map:
      over: { n: list }
    with: { path: each.mjs, export: each }
  regions:
    operator: shell
    map:
      over: { region: [eu, us], day: [mon, tue] }
    with: { command: 'echo "exporting #$BATUTA_MAP_INDEX $BATUTA_MAP_ITEM"' }
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'batuta-tasks-repair-'));
  writeFileSync(join(dir, 'etl.yaml'), DAG);
  writeFileSync(join(dir, 'fan.yaml'), FAN);
  writeFileSync(
    join(dir, 'each.mjs'),
    'export function each(context) {\n' +
      '  console.log("item", JSON.stringify(context.item));\n' +
      '  return { index: context.mapIndex, item: context.item };\n' +
      '}\n',
  );
  writeFileSync(
    join(dir, 'count.mjs'),
    'export function count(context) { return { upstream: context.inputs.extract, logical: context.logicalDateMs }; }\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function batuta(namespace: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const errors: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void errors.push(parts.join(' ')));
  vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void out.push(parts.join(' ')));
  const code = await main([...args, '--redis', redis.url, '--namespace', namespace, '--dags', dir]);
  vi.restoreAllMocks();
  return { code, stdout: out.join('\n'), stderr: errors.join('\n') };
}

/** A failed run of `etl` as a scheduler would have left it: transform failed on try 1, load upstream_failed. */
async function seedFailedRun(namespace: string): Promise<string> {
  const runId = 'manual__seeded__etl';
  const store = await RedisStateStore.connect({ url: redis.url, namespace });
  try {
    const at = Date.UTC(2026, 0, 1);
    await store.createRun({
      runId,
      dagId: 'etl',
      kind: 'manual',
      state: 'failed',
      logicalDateMs: at,
      conf: {},
      createdMs: at,
    });
    const record = (taskId: string, state: 'success' | 'failed' | 'upstream_failed', tryNumber: number) => ({
      record: { runId, taskId, mapIndex: -1, state, tryNumber },
    });
    await store.applyTransition(runId, {
      instances: [
        record('extract', 'success', 1),
        record('transform', 'failed', 1),
        record('load', 'upstream_failed', 0),
      ],
      outputs: [{ taskId: 'extract', mapIndex: -1, value: { rows: 3 } }],
    });
  } finally {
    await store.close();
  }
  return runId;
}

/** A run of `fan` in which list succeeded with [5, 6, 7] and each expanded into 3 instances, index 1 failed. */
async function seedFanRun(namespace: string): Promise<string> {
  const runId = 'manual__seeded__fan';
  const store = await RedisStateStore.connect({ url: redis.url, namespace });
  try {
    const at = Date.UTC(2026, 0, 1);
    await store.createRun({
      runId,
      dagId: 'fan',
      kind: 'manual',
      state: 'failed',
      logicalDateMs: at,
      conf: {},
      createdMs: at,
    });
    const record = (taskId: string, mapIndex: number, state: 'success' | 'failed', tryNumber: number) => ({
      record: { runId, taskId, mapIndex, state, tryNumber },
    });
    await store.applyTransition(runId, {
      instances: [
        record('list', -1, 'success', 1),
        record('each', -1, 'failed', 0),
        record('each', 0, 'success', 1),
        record('each', 1, 'failed', 1),
        record('each', 2, 'success', 1),
      ],
      outputs: [
        { taskId: 'list', mapIndex: -1, value: [5, 6, 7] },
        { taskId: 'each', mapIndex: 0, value: 'zero' },
        { taskId: 'each', mapIndex: 2, value: 'two' },
      ],
    });
  } finally {
    await store.close();
  }
  return runId;
}

describe('batuta tasks test --map-index, tasks mark --map-index', () => {
  it('runs one instance of a task mapped over an upstream output read from --from-run, with its item', async () => {
    const namespace = redis.namespace('map-test');
    const runId = await seedFanRun(namespace);
    const { code, stdout } = await batuta(
      namespace,
      'tasks',
      'test',
      'fan',
      'each',
      '--from-run',
      runId,
      '--map-index',
      '2',
      '--json',
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      dagId: 'fan',
      taskId: 'each',
      mapIndex: 2,
      state: 'success',
      output: { index: 2, item: { n: 7 } },
    });
    // Nothing recorded: the run's instance keeps its state.
    const store = await RedisStateStore.connect({ url: redis.url, namespace });
    const instance = await store.getTaskInstance(runId, 'each', 2);
    await store.close();
    expect(instance).toMatchObject({ state: 'success', tryNumber: 1 });
  });

  it('runs one instance of a task mapped over literal lists without a run (the cross product, first list slowest)', async () => {
    const namespace = redis.namespace('map-literal');
    const { code, stdout } = await batuta(namespace, 'tasks', 'test', 'fan', 'regions', '--map-index', '1');
    expect(code).toBe(0);
    expect(stdout).toContain('regions[1]: success');
    expect(stdout).toContain('exporting #1 {\\"region\\":\\"eu\\",\\"day\\":\\"tue\\"}');
  });

  it.each([
    [
      'a mapped task without --map-index is a usage error listing its map indexes',
      ['each', '--from-run', 'RUN'],
      2,
      "'each' is a mapped task: pass --map-index I to test one instance (its map indexes in run manual__seeded__fan: 0..2)",
    ],
    [
      'an index past the expansion is not found, saying how many instances there are',
      ['each', '--from-run', 'RUN', '--map-index', '3'],
      3,
      "'each' has no map index 3 in run manual__seeded__fan: it expands into 3 instances (map indexes: 0..2)",
    ],
    [
      '--map-index of an unmapped task is a usage error',
      ['list', '--map-index', '0'],
      2,
      "'list' is not a mapped task; run it without --map-index",
    ],
    [
      'a stubbed (null) map source fails, with a hint to pass --from-run',
      ['each', '--map-index', '0'],
      1,
      'which is null, not a list; its upstream outputs are null without --from-run RUN',
    ],
    ['a literal mapping without --map-index lists its indexes too', ['regions'], 2, 'its map indexes: 0..3'],
  ])('%s', async (_name, args, exitCode, message) => {
    const namespace = redis.namespace('map-errors');
    const runId = await seedFanRun(namespace);
    const { code, stderr } = await batuta(
      namespace,
      'tasks',
      'test',
      'fan',
      ...args.map((arg) => (arg === 'RUN' ? runId : arg)),
    );
    expect(code).toBe(exitCode);
    expect(stderr).toContain(message);
  });

  it('tasks test --map-index logs the instance to stderr prefixed with task[index] (a real process)', async () => {
    const namespace = redis.namespace('map-lines');
    const runId = await seedFanRun(namespace);
    const bin = fileURLToPath(new URL('../bin/batuta.js', import.meta.url));
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [
        bin,
        'tasks',
        'test',
        'fan',
        'each',
        '--from-run',
        runId,
        '--map-index',
        '1',
        '--redis',
        redis.url,
        '--dags',
        dir,
      ],
      { env: { ...process.env, BATUTA_NAMESPACE: namespace } },
    );
    expect(stderr.split('\n').filter((line) => line.includes('item'))).toEqual(['[each[1]] item {"n":6}']);
    expect(stdout).toContain('each[1]: success');
  });

  it('tasks mark --map-index lists the instances it marks and the parent it opens again; bad indexes are refused', async () => {
    const namespace = redis.namespace('map-mark');
    const runId = await seedFanRun(namespace);
    const mark = await batuta(namespace, 'tasks', 'mark', runId, 'each', 'success', '--map-index', '1', '--dry-run');
    expect(mark.code).toBe(0);
    expect(mark.stdout).toContain('each: failed → running');
    expect(mark.stdout).toContain('each[1]: failed → success');
    const missing = await batuta(namespace, 'tasks', 'mark', runId, 'each', 'success', '--map-index', '5', '--dry-run');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("'each' has no map index 5; its map indexes are 0..2");
    const unmapped = await batuta(namespace, 'tasks', 'mark', runId, 'list', 'success', '--map-index', '0');
    expect(unmapped.code).toBe(2);
    expect(unmapped.stderr).toContain("'list' is not a mapped task");
    expect((await batuta(namespace, 'tasks', 'mark', runId, 'each', 'success', '--map-index', 'x')).code).toBe(2);
  });
});

describe('batuta tasks clear | mark | test, runs clear', () => {
  it('--dry-run --json lists what a clear --downstream would change and sends nothing', async () => {
    const namespace = redis.namespace('dry');
    const runId = await seedFailedRun(namespace);
    const { code, stdout } = await batuta(
      namespace,
      'tasks',
      'clear',
      runId,
      'transform',
      '--downstream',
      '--dry-run',
      '--json',
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      runId,
      dagId: 'etl',
      action: 'clear',
      dryRun: true,
      applied: false,
      tasks: ['transform', 'load'],
      changes: [
        { taskId: 'transform', mapIndex: -1, from: 'failed', to: 'none', tryNumber: 1 },
        { taskId: 'load', mapIndex: -1, from: 'upstream_failed', to: 'none', tryNumber: 0 },
      ],
    });
    const store = await RedisStateStore.connect({ url: redis.url, namespace });
    const requests = (await store.readEvents(CONTROL_STREAM)).filter((e) => e.type === REPAIR_REQUEST);
    await store.close();
    expect(requests).toEqual([]);
  });

  it('runs clear --only-failed and tasks mark --downstream list their changes as text', async () => {
    const namespace = redis.namespace('text');
    const runId = await seedFailedRun(namespace);
    const clear = await batuta(namespace, 'runs', 'clear', runId, '--only-failed', '--dry-run');
    expect(clear.code).toBe(0);
    expect(clear.stdout).toContain('2 instances would change');
    expect(clear.stdout).toContain('transform: failed → none (tries so far: 1)');
    expect(clear.stdout).not.toContain('extract');
    const mark = await batuta(namespace, 'tasks', 'mark', runId, 'transform', 'success', '--downstream', '--dry-run');
    expect(mark.code).toBe(0);
    expect(mark.stdout).toContain('transform: failed → success');
    expect(mark.stdout).toContain('load: upstream_failed → success');
  });

  it('an unknown run or task is not found (exit 3); a bad state is a usage error (exit 2)', async () => {
    const namespace = redis.namespace('errors');
    const runId = await seedFailedRun(namespace);
    expect((await batuta(namespace, 'tasks', 'clear', 'no_run', 'transform')).code).toBe(3);
    const task = await batuta(namespace, 'tasks', 'clear', runId, 'transfrom');
    expect(task.code).toBe(3);
    expect(task.stderr).toContain("no task 'transfrom'");
    expect((await batuta(namespace, 'tasks', 'mark', runId, 'transform', 'done')).code).toBe(2);
    expect((await batuta(namespace, 'tasks', 'test', 'etl', 'nope')).code).toBe(3);
  });

  it('with no scheduler to apply it, a clear says so and exits 1 after --timeout', async () => {
    const namespace = redis.namespace('alone');
    const runId = await seedFailedRun(namespace);
    const { code, stderr } = await batuta(namespace, 'tasks', 'clear', runId, 'transform', '--timeout', '200ms');
    expect(code).toBe(1);
    expect(stderr).toContain('no scheduler applied the clear');
  });

  it('tasks test runs one task alone, recording nothing, with upstream outputs from --from-run or stubbed', async () => {
    const namespace = redis.namespace('test');
    const runId = await seedFailedRun(namespace);
    const from = await batuta(
      namespace,
      'tasks',
      'test',
      'etl',
      'transform',
      '--from-run',
      runId,
      '--date',
      '2026-03-01T00:00:00Z',
      '--json',
    );
    expect(from.code).toBe(0);
    expect(JSON.parse(from.stdout)).toEqual({
      dagId: 'etl',
      taskId: 'transform',
      state: 'success',
      output: 'transform on 2026-03-01T00:00:00.000Z',
    });
    const counted = await batuta(namespace, 'tasks', 'test', 'etl', 'count', '--from-run', runId, '--json');
    expect(JSON.parse(counted.stdout).output).toMatchObject({ upstream: { rows: 3 } });
    const stubbed = await batuta(namespace, 'tasks', 'test', 'etl', 'count', '--date', '2026-03-01', '--json');
    expect(stubbed.code).toBe(0);
    expect(JSON.parse(stubbed.stdout).output).toEqual({ upstream: null, logical: Date.UTC(2026, 2, 1) });
    const store = await RedisStateStore.connect({ url: redis.url, namespace });
    const runs = await store.listRuns({});
    const transform = await store.getTaskInstance(runId, 'transform', -1);
    await store.close();
    expect(runs.map((r) => r.runId)).toEqual([runId]);
    expect(transform?.state).toBe('failed');
  });

  it('tasks test prints each line the task prints once, prefixed once with its task id (a real process)', async () => {
    // In a process of its own: the task's console is captured there, which an in-process spy would hide.
    const bin = fileURLToPath(new URL('../bin/batuta.js', import.meta.url));
    const { stderr } = await promisify(execFile)(
      process.execPath,
      [bin, 'tasks', 'test', 'etl', 'transform', '--date', '2026-03-01', '--redis', redis.url, '--dags', dir],
      { env: { ...process.env, BATUTA_NAMESPACE: redis.namespace('test-lines') } },
    );
    const lines = stderr.split('\n').filter((line) => line.includes('transform on'));
    expect(lines).toEqual(['[transform] transform on 2026-03-01T00:00:00.000Z']);
  });
});
