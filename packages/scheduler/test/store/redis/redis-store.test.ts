// The Redis StateStore against a private redis-server (never the shared 127.0.0.1:6379): the
// contract suite unchanged, then what only Redis has — namespaces, races across connections,
// a crash and restart with AOF, and a connection lost mid-call.

import net from 'node:net';
import { RedisServer } from '@batuta/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisStateStore, redisStoreClientOptions } from '../../../src/store/redis/redis-store.js';
import type { DagRunRecord, StateStore, TaskInstanceRecord } from '../../../src/store/state-store.js';
import { stateStoreContract } from '../../contracts/state-store.contract.js';

let server: RedisServer;
let shared: Redis;
let namespaces = 0;

beforeAll(async () => {
  server = await RedisServer.start();
  shared = new Redis(server.url, { ...redisStoreClientOptions });
});

afterAll(async () => {
  shared?.disconnect();
  await server?.stop();
});

/** A store on the shared connection, in a namespace no other test uses. */
/**
 * The store reconnects forever (100 ms doubling to 1 s), so a call that waited for the server would
 * make many attempts; one that fails fast makes at most the attempt in progress and the first retry.
 */
const MAX_ATTEMPTS_BEFORE_REJECTING = 2;

/** Counts the TCP connections ioredis opens (it calls node:net's createConnection) until `stop()`. */
function countConnectionAttempts(): { stop: () => number } {
  const spy = vi.spyOn(net, 'createConnection');
  return {
    stop: () => {
      const count = spy.mock.calls.length;
      spy.mockRestore();
      return count;
    },
  };
}

function freshStore(): RedisStateStore {
  return new RedisStateStore({ redis: shared, namespace: `test-${process.pid}-${++namespaces}` });
}

/** Deletes every key of the store's namespace (and only those). */
async function deleteNamespace(redis: Redis, store: RedisStateStore): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${store.keys.prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

async function keysOf(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found.sort();
}

stateStoreContract(
  'RedisStateStore',
  async () => freshStore(),
  async (store) => {
    await store.close();
    await deleteNamespace(shared, store as RedisStateStore);
  },
);

function run(runId: string, overrides: Partial<DagRunRecord> = {}): DagRunRecord {
  return {
    runId,
    dagId: 'etl',
    kind: 'manual',
    state: 'running',
    logicalDateMs: Date.UTC(2024, 0, 1),
    conf: {},
    createdMs: 1,
    ...overrides,
  };
}

function instance(runId: string, taskId: string, overrides: Partial<TaskInstanceRecord> = {}): TaskInstanceRecord {
  return { runId, taskId, mapIndex: -1, state: 'success', tryNumber: 1, ...overrides };
}

describe('RedisStateStore', () => {
  describe('run cells', () => {
    const cellsOf = async (store: RedisStateStore, runId: string) =>
      (await store.getRunCells([runId]))[0]!
        .map((cell) => `${cell.taskId}#${cell.mapIndex}=${cell.state},${cell.tryNumber}`)
        .sort();

    it('reads a run written before cells existed from its instances, and derives its cells at its next write', async () => {
      const store = new RedisStateStore({ redis: shared, namespace: 'legacy-cells' });
      await store.createRun(run('old'));
      await store.applyTransition('old', {
        instances: [
          { record: instance('old', 'a') },
          { record: instance('old', 'b', { state: 'failed', tryNumber: 3, error: { message: 'x' } }) },
        ],
      });
      // What an older Batuta left: instances without a cells hash (nor packed cells).
      await shared.del(store.keys.taskCells('old'), store.keys.packedCells('old'));
      expect(await cellsOf(store, 'old')).toEqual(['a#-1=success,1', 'b#-1=failed,3']);
      await store.applyTransition('old', { instances: [{ record: instance('old', 'c', { state: 'running' }) }] });
      expect(await shared.hlen(store.keys.taskCells('old'))).toBe(3);
      expect(await cellsOf(store, 'old')).toEqual(['a#-1=success,1', 'b#-1=failed,3', 'c#-1=running,1']);
      await deleteNamespace(shared, store);
    });

    it('drops the packed cells with every instance write, and keeps them across writes that touch no instance', async () => {
      const store = new RedisStateStore({ redis: shared, namespace: 'packed-cells' });
      await store.createRun(run('r'));
      await store.applyTransition('r', { instances: [{ record: instance('r', 'a', { state: 'running' }) }] });
      expect(await cellsOf(store, 'r')).toEqual(['a#-1=running,1']);
      expect(await shared.exists(store.keys.packedCells('r'))).toBe(1);
      await store.applyTransition('r', { run: { patch: { reason: 'no instance written' } } });
      expect(await shared.exists(store.keys.packedCells('r'))).toBe(1);
      await store.applyTransition('r', { instances: [{ record: instance('r', 'a') }] });
      expect(await shared.exists(store.keys.packedCells('r'))).toBe(0);
      expect(await cellsOf(store, 'r')).toEqual(['a#-1=success,1']);
      await deleteNamespace(shared, store);
    });

    it('answers a task id holding a newline from the instances (the packed text cannot carry it)', async () => {
      const store = new RedisStateStore({ redis: shared, namespace: 'newline-cells' });
      await store.createRun(run('r'));
      await store.applyTransition('r', {
        instances: [{ record: instance('r', 'two\nlines') }, { record: instance('r', 'plain', { mapIndex: 4 }) }],
      });
      expect(await cellsOf(store, 'r')).toEqual(['plain#4=success,1', 'two\nlines#-1=success,1']);
      await deleteNamespace(shared, store);
    });
  });

  describe('keys and namespaces', () => {
    it('keeps every key under batuta:<namespace>: in the documented layout', async () => {
      const store = new RedisStateStore({ redis: shared, namespace: 'layout' });
      await store.createRun(run('r1'));
      await store.applyTransition('r1', {
        instances: [{ record: instance('r1', 't') }],
        outputs: [{ taskId: 't', mapIndex: -1, value: 1 }],
      });
      await store.getRunCells(['r1']);
      await store.appendEvent('events', 'done', null, 1);
      await store.acquireLease('scheduler', 'me', 1_000, 0);
      await store.setDagPaused('etl', true);
      expect(await keysOf(shared, 'batuta:layout:*')).toEqual(
        [
          'batuta:layout:known-dags',
          'batuta:layout:lease:scheduler',
          'batuta:layout:paused-dags',
          'batuta:layout:run:r1:cells',
          'batuta:layout:run:r1:grid',
          'batuta:layout:run:r1:out',
          'batuta:layout:run:r1:record',
          'batuta:layout:run:r1:ti',
          'batuta:layout:run:r1:tries',
          'batuta:layout:runs',
          'batuta:layout:runs:dag-state:running:etl',
          'batuta:layout:runs:dag:etl',
          'batuta:layout:runs:state:running',
          'batuta:layout:stream:events',
        ].sort(),
      );
      await deleteNamespace(shared, store);
    });

    it('shows two namespaces on one server nothing of each other', async () => {
      const a = new RedisStateStore({ redis: shared, namespace: 'team-a' });
      const b = new RedisStateStore({ redis: shared, namespace: 'team-b' });
      await a.createRun(run('same-id', { conf: { team: 'a' } }));
      await a.applyTransition('same-id', {
        instances: [{ record: instance('same-id', 'extract') }],
        outputs: [{ taskId: 'extract', mapIndex: -1, value: 'from a' }],
      });
      await a.appendEvent('runs', 'created', { team: 'a' }, 1);
      await a.acquireLease('scheduler', 'a', 10_000, 0);
      await a.setDagPaused('etl', true);

      expect(await b.getRun('same-id')).toBeUndefined();
      expect(await b.listRuns()).toEqual([]);
      expect(await b.getTaskInstances('same-id')).toEqual([]);
      expect(await b.getOutputs('same-id', [{ taskId: 'extract', mapIndex: -1 }])).toEqual(new Map());
      expect(await b.readEvents('runs')).toEqual([]);
      expect(await b.getLeaseOwner('scheduler', 1)).toBeUndefined();
      expect(await b.isDagPaused('etl')).toBe(false);
      // b can take the same names without touching a.
      expect((await b.createRun(run('same-id', { conf: { team: 'b' } }))).created).toBe(true);
      expect(await b.acquireLease('scheduler', 'b', 10_000, 1)).toBe(true);
      expect(await b.applyTransition('same-id', { instances: [{ record: instance('same-id', 'extract') }] })).toBe(
        true,
      );
      expect((await a.getRun('same-id'))?.conf).toEqual({ team: 'a' });
      expect(await a.getLeaseOwner('scheduler', 1)).toBe('a');
      expect((await a.readEvents('runs')).map((event) => event.payload)).toEqual([{ team: 'a' }]);

      await deleteNamespace(shared, a);
      expect(await b.getRun('same-id')).toBeDefined();
      await deleteNamespace(shared, b);
    });

    it.each(['', 'has:colon', 'has space', 'ünï'])('refuses the namespace %j', (namespace) => {
      expect(() => new RedisStateStore({ redis: shared, namespace })).toThrow(
        expect.objectContaining({ code: 'STORE_BAD_NAMESPACE' }),
      );
    });

    it('accepts a hash-tagged namespace for Redis Cluster', async () => {
      const store = new RedisStateStore({ redis: shared, namespace: '{prod}' });
      await store.createRun(run('r'));
      expect(await keysOf(shared, 'batuta:{prod}:run:*')).toEqual(['batuta:{prod}:run:r:record']);
      await deleteNamespace(shared, store);
    });

    it('refuses a connection with an ioredis keyPrefix, which its scripts could not honour', () => {
      const prefixed = new Redis(server.url, { lazyConnect: true, keyPrefix: 'app:' });
      expect(() => new RedisStateStore({ redis: prefixed })).toThrow(
        expect.objectContaining({ code: 'STORE_BAD_OPTIONS' }),
      );
      prefixed.disconnect();
    });
  });

  describe('run indexes', () => {
    it('moves a run between state and DAG indexes when a transition changes its state or date', async () => {
      const store = freshStore();
      await store.createRun(run('etl-1', { state: 'queued', logicalDateMs: 1_000 }));
      await store.createRun(run('etl-2', { state: 'queued', logicalDateMs: 2_000 }));
      await store.createRun(run('ml-1', { dagId: 'ml', state: 'queued', logicalDateMs: 3_000 }));
      const ids = async (query: Parameters<StateStore['listRuns']>[0]) =>
        (await store.listRuns(query)).map((listed) => listed.runId);

      await store.applyTransition('etl-1', { run: { patch: { state: 'running' }, expectState: 'queued' } });
      expect(await ids({ dagId: 'etl', states: ['running'] })).toEqual(['etl-1']);
      expect(await ids({ dagId: 'etl', states: ['queued'] })).toEqual(['etl-2']);
      expect(await ids({ states: ['queued'] })).toEqual(['ml-1', 'etl-2']);

      // A new logical date re-sorts the run everywhere it is indexed.
      await store.applyTransition('etl-1', { run: { patch: { logicalDateMs: 5_000 } } });
      expect(await ids({})).toEqual(['etl-1', 'ml-1', 'etl-2']);
      expect(await ids({ dagId: 'etl' })).toEqual(['etl-1', 'etl-2']);
      expect(await ids({ states: ['running', 'queued'] })).toEqual(['etl-1', 'ml-1', 'etl-2']);
      expect(await ids({ dagId: 'etl', states: ['running'] })).toEqual(['etl-1']);

      // A failed guard moves nothing.
      expect(
        await store.applyTransition('etl-2', { run: { patch: { state: 'success' }, expectState: 'running' } }),
      ).toBe(false);
      expect(await ids({ states: ['success'] })).toEqual([]);
      await store.close();
      await deleteNamespace(shared, store);
    });

    it('merges states in one order: date descending, then run id bytes', async () => {
      const store = freshStore();
      const states = ['queued', 'running', 'success', 'failed'] as const;
      const created: DagRunRecord[] = [];
      for (let i = 0; i < 40; i++) {
        const record = run(`r-${(i * 7) % 40}`, { state: states[i % 4]!, logicalDateMs: (i % 5) * 1_000 });
        created.push(record);
        await store.createRun(record);
      }
      const expected = [...created]
        .sort((a, b) => b.logicalDateMs - a.logicalDateMs || (a.runId < b.runId ? -1 : 1))
        .filter((record) => record.state !== 'queued')
        .map((record) => record.runId);
      const listed = await store.listRuns({ states: ['failed', 'running', 'success'] });
      expect(listed.map((record) => record.runId)).toEqual(expected);
      expect(
        (await store.listRuns({ states: ['failed', 'running', 'success'], limit: 7 })).map((r) => r.runId),
      ).toEqual(expected.slice(0, 7));
      await store.close();
      await deleteNamespace(shared, store);
    });

    it('refuses, as the memory store does, an instance of another run and a lease without a ttl', async () => {
      const store = freshStore();
      await store.createRun(run('r1'));
      await expect(
        store.applyTransition('r1', {
          instances: [{ record: instance('r1', 'fine') }, { record: instance('r2', 't') }],
        }),
      ).rejects.toMatchObject({ code: 'STORE_BAD_WRITE' });
      expect(await store.getTaskInstances('r1')).toEqual([]);
      await expect(store.acquireLease('l', 'a', 0, 0)).rejects.toMatchObject({ code: 'STORE_BAD_LEASE' });
      await store.close();
      await deleteNamespace(shared, store);
    });

    it('refuses a run state that is not an identifier, writing nothing', async () => {
      const store = freshStore();
      await expect(store.createRun(run('bad', { state: 'odd:state' as DagRunRecord['state'] }))).rejects.toMatchObject({
        code: 'STORE_BAD_WRITE',
      });
      expect(await store.getRun('bad')).toBeUndefined();
      await store.close();
    });
  });

  describe('atomicity under races', () => {
    it('lets exactly one of 50 concurrent transitions over 5 connections enqueue the join', async () => {
      const connections = Array.from({ length: 5 }, () => new Redis(server.url, { ...redisStoreClientOptions }));
      const namespace = `race-${process.pid}`;
      const stores = connections.map((redis) => new RedisStateStore({ redis, namespace }));
      const runId = 'race';
      await stores[0]!.createRun(run(runId));

      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          stores[i % stores.length]!.applyTransition(runId, {
            instances: [
              { record: instance(runId, `upstream_${i}`), expectState: 'absent' },
              {
                record: instance(runId, 'join', { state: 'queued', tryNumber: 0, reason: `enqueued by upstream_${i}` }),
                expectState: 'absent',
              },
            ],
            outputs: [{ taskId: `upstream_${i}`, mapIndex: -1, value: i }],
          }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await stores[1]!.getTaskInstance(runId, 'join', -1))?.reason).toBe(`enqueued by upstream_${winner}`);
      expect((await stores[2]!.getTaskInstances(runId)).map((record) => record.taskId).sort()).toEqual(
        ['join', `upstream_${winner}`].sort(),
      );
      const outputs = await stores[3]!.getOutputs(
        runId,
        Array.from({ length: 50 }, (_, i) => ({ taskId: `upstream_${i}`, mapIndex: -1 })),
      );
      expect([...outputs.keys()]).toEqual([`upstream_${winner}#-1`]);

      // Compare-and-set on one state: one of 50 moves the join from queued to running.
      const claims = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          stores[i % stores.length]!.applyTransition(runId, {
            instances: [
              {
                record: instance(runId, 'join', { state: 'running', tryNumber: 1, worker: `w${i}` }),
                expectState: 'queued',
              },
            ],
          }),
        ),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect((await stores[4]!.getTaskInstance(runId, 'join', -1))?.worker).toBe(`w${claims.indexOf(true)}`);

      await deleteNamespace(shared, stores[0]!);
      for (const redis of connections) redis.disconnect();
    });
  });

  describe('large transitions', () => {
    it('applies 10,000 guarded instance writes and outputs in one transition, or none of them', async () => {
      const store = freshStore();
      const runId = 'wide';
      await store.createRun(run(runId));
      const records = Array.from({ length: 10_000 }, (_, mapIndex) =>
        instance(runId, 'score', { mapIndex, state: 'scheduled', tryNumber: 0 }),
      );
      expect(
        await store.applyTransition(runId, {
          instances: records.map((record) => ({ record, expectState: 'absent' as const })),
          outputs: records.map(({ mapIndex }) => ({ taskId: 'score', mapIndex, value: { mapIndex } })),
          run: { patch: { reason: 'fanned out' }, expectState: 'running' },
        }),
      ).toBe(true);
      expect(await store.getTaskInstances(runId)).toHaveLength(10_000);
      expect(await store.getTaskInstance(runId, 'score', 9_999)).toEqual(records[9_999]);

      // The last of 10,000 guards fails: nothing of the batch is written.
      const next = records.map((record) => ({
        record: { ...record, state: 'queued' as const },
        expectState: 'scheduled' as const,
      }));
      next[9_999]!.expectState = 'running' as unknown as 'scheduled';
      expect(await store.applyTransition(runId, { instances: next })).toBe(false);
      expect((await store.getTaskInstances(runId)).every((record) => record.state === 'scheduled')).toBe(true);
      await store.close();
      await deleteNamespace(shared, store);
    });
  });

  describe('connections', () => {
    it('connects to a URL, owns the connection and quits it on close', async () => {
      const store = await RedisStateStore.connect({ url: server.url, namespace: `owned-${process.pid}` });
      await store.createRun(run('r'));
      expect(store.redis.status).toBe('ready');
      const ended = new Promise((resolve) => store.redis.once('end', resolve));
      await store.close();
      await ended;
      await expect(store.getRun('r')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
      await deleteNamespace(shared, store);
    });

    it('leaves a connection it was given open on close', async () => {
      const store = freshStore();
      await store.close();
      expect(shared.status).toBe('ready');
      await expect(store.listRuns()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    });

    it('fails to connect to a server that is not there with STORE_UNAVAILABLE, promptly', async () => {
      const dead = await RedisServer.start();
      await dead.stop();
      const attempts = countConnectionAttempts();
      await expect(RedisStateStore.connect({ url: dead.url })).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
        message: expect.stringContaining(`127.0.0.1:${dead.port}`),
      });
      // "Promptly" is counted, not timed: it gives up on the first refused connection, not after a reconnect loop.
      const made = attempts.stop();
      expect(made).toBeGreaterThanOrEqual(1);
      expect(made).toBeLessThanOrEqual(MAX_ATTEMPTS_BEFORE_REJECTING);
    });

    it('reports a command Redis refuses as STORE_REDIS_ERROR, naming the call', async () => {
      const store = freshStore();
      await shared.set(store.keys.runRecord('clobbered'), 'not a hash');
      await expect(store.getRun('clobbered')).rejects.toMatchObject({
        code: 'STORE_REDIS_ERROR',
        message: expect.stringMatching(/getRun of run 'clobbered'.*WRONGTYPE/),
      });
      await store.close();
      await deleteNamespace(shared, store);
    });

    it('refuses an event id that Redis streams could not have made', async () => {
      const store = freshStore();
      await expect(store.readEvents('s', 'not-an-id')).rejects.toMatchObject({ code: 'STORE_BAD_EVENT_ID' });
      await store.close();
    });
  });
});

describe('RedisStateStore across a Redis crash (AOF on)', () => {
  let durable: RedisServer;

  beforeAll(async () => {
    durable = await RedisServer.start({ appendOnly: true });
  });

  afterAll(async () => {
    await durable?.stop();
  });

  it('keeps every acknowledged write through SIGKILL and restart, and the same store works again', async () => {
    const store = await RedisStateStore.connect({ url: durable.url, namespace: 'durable' });
    const runId = 'etl__2024-01-01';
    await store.createRun(run(runId, { state: 'queued' }));
    expect(
      await store.applyTransition(runId, {
        instances: [
          { record: instance(runId, 'extract'), expectState: 'absent' },
          { record: instance(runId, 'load', { state: 'queued', tryNumber: 0 }), expectState: 'absent' },
        ],
        outputs: [{ taskId: 'extract', mapIndex: -1, value: { rows: 150 } }],
        run: { patch: { state: 'running', startMs: 10 }, expectState: 'queued' },
      }),
    ).toBe(true);
    const eventId = await store.appendEvent('runs', 'started', { runId }, 10);
    await store.acquireLease('scheduler', 'node-1', 60_000, 0);
    await store.setDagPaused('etl', true);

    await durable.restart();

    // ioredis reconnects on its own; calls fail fast (never hang) until it has.
    const deadline = Date.now() + 10_000;
    let recovered: DagRunRecord | undefined;
    while (Date.now() < deadline) {
      try {
        recovered = await store.getRun(runId);
        break;
      } catch (error) {
        expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE' });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect(recovered).toEqual({ ...run(runId, { state: 'queued' }), state: 'running', startMs: 10 });
    expect((await store.getTaskInstances(runId)).map((record) => record.taskId).sort()).toEqual(['extract', 'load']);
    expect(await store.getOutputs(runId, [{ taskId: 'extract', mapIndex: -1 }])).toEqual(
      new Map([['extract#-1', { rows: 150 }]]),
    );
    expect(await store.readEvents('runs')).toEqual([{ id: eventId, type: 'started', payload: { runId }, atMs: 10 }]);
    expect(await store.getLeaseOwner('scheduler', 1)).toBe('node-1');
    expect(await store.isDagPaused('etl')).toBe(true);
    expect((await store.listRuns({ dagId: 'etl', states: ['running'] })).map((listed) => listed.runId)).toEqual([
      runId,
    ]);

    // The restarted server has no scripts cached: EVALSHA falls back to EVAL by itself.
    expect(
      await store.applyTransition(runId, {
        instances: [{ record: instance(runId, 'load', { state: 'running', tryNumber: 1 }), expectState: 'queued' }],
      }),
    ).toBe(true);
    const laterId = await store.appendEvent('runs', 'load started', null, 11);
    expect((await store.readEvents('runs', eventId)).map((event) => event.id)).toEqual([laterId]);
    await store.close();
  });

  it('rejects a call in flight when the server dies, and a call while it is down, within a bounded number of reconnects', async () => {
    const store = await RedisStateStore.connect({ url: durable.url, namespace: 'loss' });
    await store.createRun(run('r'));
    // Hold the server still so the next call is in flight when the server is killed.
    const pauser = new Redis(durable.url, { ...redisStoreClientOptions });
    pauser.on('error', () => {});
    await pauser.client('PAUSE', 10_000, 'ALL');
    const attempts = countConnectionAttempts();
    // Settled into a value at once, so the rejection is never unhandled while the server dies.
    const inFlight = store.applyTransition('r', { instances: [{ record: instance('r', 't') }] }).then(
      (applied) => ({ applied }),
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await durable.kill();
    expect(await inFlight).toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringContaining("applyTransition on run 'r'"),
    });
    // Bounded by reconnect attempts, not by the clock: the call fails on the lost connection, not after retrying.
    expect(attempts.stop()).toBeLessThanOrEqual(MAX_ATTEMPTS_BEFORE_REJECTING);

    const whileDown = countConnectionAttempts();
    await expect(store.getRun('r')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(whileDown.stop()).toBeLessThanOrEqual(MAX_ATTEMPTS_BEFORE_REJECTING);

    pauser.disconnect();
    await store.close();
    await durable.restart();
  });

  it('never keeps a try without the state change that ended it, nor the change without the try, through a SIGKILL', async () => {
    const store = await RedisStateStore.connect({ url: durable.url, namespace: 'tries-crash' });
    await store.createRun(run('r'));
    const tasks = Array.from({ length: 20 }, (_, i) => `t${i}`);
    const TRIES_PER_TASK = 60;
    let acknowledged = 0;
    // Every task retries try after try, all tasks at once, until the server dies under them.
    const writers = tasks.map(async (taskId) => {
      try {
        for (let tryNumber = 1; tryNumber <= TRIES_PER_TASK; tryNumber++) {
          await store.applyTransition('r', {
            instances: [{ record: instance('r', taskId, { state: 'up_for_retry', tryNumber, startMs: tryNumber }) }],
          });
          acknowledged++;
        }
      } catch {
        // The server died: this task's later tries were never written.
      }
    });
    const deadline = Date.now() + 10_000;
    while (acknowledged < 100 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    await durable.kill();
    await Promise.all(writers);
    await store.close();
    await durable.restart();

    const raw = new Redis(durable.url, { ...redisStoreClientOptions });
    const stored = await raw.hgetall('batuta:tries-crash:run:r:ti');
    const kept = await raw.hkeys('batuta:tries-crash:run:r:tries');
    raw.disconnect();
    expect(Object.keys(stored).length).toBeGreaterThan(0);
    for (const taskId of tasks) {
      const json = stored[`${taskId}#-1`];
      const lastTry = json === undefined ? 0 : (JSON.parse(json) as TaskInstanceRecord).tryNumber;
      // The instance's try n is stored exactly when tries 1..n are in the history (n is below the bound).
      const keptTries = kept
        .filter((field) => field.startsWith(`${taskId}#-1#`))
        .map((field) => Number(field.slice(field.lastIndexOf('#') + 1)))
        .sort((a, b) => a - b);
      expect(keptTries, taskId).toEqual(Array.from({ length: lastTry }, (_, i) => i + 1));
    }
  });
});
