// Redis is the system of record: a Redis restart (AOF on) in the middle of a distributed run loses
// nothing. The coordinator (Redis state store + BullMQ executor) and a resource-admitting worker keep
// going once Redis is back, and the run completes with every task run once to success.
import { BullmqExecutor, ResourceWorker } from '@batuta/orchestrator';
import {
  createOperatorRegistry,
  createTaskInvoker,
  type DagSpec,
  defineDag,
  RedisStateStore,
  RunCoordinator,
} from '@batuta/scheduler';
import { RedisServer } from '@batuta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('a Redis restart during a distributed run', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start({ appendOnly: true });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('reconnects every client and completes the run, each task succeeding once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runs: string[] = [];
    const dag = defineDag({ id: 'survives_restart', defaults: { resources: { cpu: 1, memoryMb: 64 } } });
    const first = dag.task('first', {
      run: () => {
        runs.push('first');
        return 1;
      },
    });
    const middle = dag.task('middle', {
      upstream: [first],
      run: async ({ inputs }) => {
        runs.push('middle');
        await gate; // Redis restarts while this attempt runs
        return inputs.first + 1;
      },
    });
    dag.task('last', {
      upstream: [middle],
      run: ({ inputs }) => {
        runs.push('last');
        return inputs.middle + 1;
      },
    });
    const spec: DagSpec = dag.spec;
    const namespace = 'restart';
    const store = await RedisStateStore.connect({ url: server.url, namespace });
    const workerStore = await RedisStateStore.connect({ url: server.url, namespace });
    const pools = [
      {
        name: 'cpu',
        capacity: { cpu: 2, memoryMb: 1024, gpu: 0, custom: {} },
        labels: {},
        minWorkers: 1,
        maxWorkers: 1,
      },
    ];
    const executor = new BullmqExecutor({ redisUrl: server.url, namespace, pools });
    const worker = new ResourceWorker({
      redisUrl: server.url,
      namespace,
      pool: 'cpu',
      capacity: pools[0]!.capacity,
      name: 'w1',
      invoke: createTaskInvoker({ resolveDag: () => spec, store: workerStore, operators: createOperatorRegistry() }),
    });
    await worker.start();
    const coordinator = new RunCoordinator({ store, executor });
    try {
      const handle = await coordinator.startRun(spec);
      await expect.poll(() => runs.includes('middle'), { timeout: 15_000 }).toBe(true);
      await server.restart(); // SIGKILL, then the same port and data directory
      release();
      const run = await Promise.race([
        handle.done,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('run did not finish in 45 s')), 45_000)),
      ]);
      expect(run.state).toBe('success');
      expect(runs).toEqual(['first', 'middle', 'last']);
      const stored = await store.getRun(run.runId);
      expect(stored?.state).toBe('success');
      const outputs = await store.getOutputs(run.runId, [{ taskId: 'last', mapIndex: -1 }]);
      expect(outputs.get('last#-1')).toBe(3);
      for (const instance of await store.getTaskInstances(run.runId)) expect(instance.tryNumber).toBe(1);
    } finally {
      await worker.close({ drain: false });
      await coordinator.close();
      await store.close();
      await workerStore.close();
    }
  }, 60_000);
});
