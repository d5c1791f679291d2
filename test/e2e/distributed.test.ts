// Multi-process end to end: one `batuta scheduler` and two `batuta worker` processes of different pools
// (cpu, gpu) on a private redis-server. Every task lands on a pool that fits it, and a worker never has
// more cpu in use than its capacity.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisStateStore } from '@batuta/scheduler';
import { RedisServer } from '@batuta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'batuta.js');

describe('scheduler and workers in separate processes', () => {
  let redis: RedisServer;
  let dir: string;
  const children: ChildProcess[] = [];

  const batuta = (args: string[], env: Record<string, string>) =>
    spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

  beforeAll(async () => {
    redis = await RedisServer.start();
    dir = mkdtempSync(join(tmpdir(), 'batuta-e2e-'));
    writeFileSync(
      join(dir, 'pools.yaml'),
      `pools:
  cpu:
    capacity: { cpu: 4, memoryMb: 4096 }
  gpu:
    capacity: { cpu: 2, memoryMb: 4096, gpu: 1 }
`,
    );
    const log = join(dir, 'spans.log');
    const span = (tag: string) =>
      `echo "start ${tag} $BATUTA_TASK_ID $BATUTA_MAP_INDEX $(date +%s%N)" >> ${log}; sleep 0.2; echo "end ${tag} $BATUTA_TASK_ID $BATUTA_MAP_INDEX $(date +%s%N)" >> ${log}`;
    const dags = join(dir, 'dags');
    mkdirSync(dags);
    writeFileSync(
      join(dags, 'train.yaml'),
      `id: train
tasks:
  prepare:
    operator: shell
    map: { over: { part: [0, 1, 2, 3, 4, 5] } }
    resources: { cpu: 2, memoryMb: 512 }
    with: { command: '${span('cpu')}' }
  fit:
    operator: shell
    upstream: [prepare]
    resources: { cpu: 1, memoryMb: 1024, gpu: 1 }
    with: { command: '${span('gpu')}' }
  report:
    operator: shell
    upstream: [fit]
    resources: { cpu: 1, memoryMb: 128 }
    with: { command: 'echo done' }
`,
    );
    writeFileSync(
      join(dags, 'slow.yaml'),
      `id: slow
tasks:
  nap:
    operator: shell
    resources: { cpu: 1, memoryMb: 64 }
    with: { command: 'sleep 30' }
  after:
    operator: empty
    upstream: [nap]
`,
    );
    const env = {
      BATUTA_REDIS_URL: redis.url,
      BATUTA_NAMESPACE: 'e2e',
      BATUTA_DAGS: dags,
      BATUTA_POOLS: join(dir, 'pools.yaml'),
    };
    children.push(
      batuta(['scheduler'], env),
      batuta(['worker', '--pool', 'cpu'], env),
      batuta(['worker', '--pool', 'gpu'], env),
    );
  }, 30_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('places each task on a fitting pool and admits within capacity', async () => {
    const env = { BATUTA_REDIS_URL: redis.url, BATUTA_NAMESPACE: 'e2e', BATUTA_DAGS: join(dir, 'dags') };
    const trigger = batuta(['dags', 'trigger', 'train', '--wait'], env);
    let out = '';
    trigger.stdout?.on('data', (d) => {
      out += d;
    });
    const code = await new Promise<number | null>((resolve) => trigger.once('close', resolve));
    expect(out).toMatch(/success/);
    expect(code).toBe(0);

    const store = await RedisStateStore.connect({ url: redis.url, namespace: 'e2e' });
    const [run] = await store.listRuns({ dagId: 'train' });
    const instances = await store.getTaskInstances(run!.runId);
    await store.close();
    const prepared = instances.filter((i) => i.taskId === 'prepare' && i.mapIndex >= 0);
    expect(prepared).toHaveLength(6);
    for (const i of prepared) expect(i.worker).toMatch(/:cpu$/);
    expect(instances.find((i) => i.taskId === 'fit')?.worker).toMatch(/:gpu$/);

    // Admission: 2-cpu instances on a 4-cpu worker → never more than two at once.
    const events = readFileSync(join(dir, 'spans.log'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .filter((parts) => parts[1] === 'cpu')
      .map((parts) => ({ kind: parts[0], at: BigInt(parts[4]!) }))
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.kind === 'end' ? -1 : 1));
    let running = 0;
    let peak = 0;
    for (const event of events) {
      running += event.kind === 'start' ? 1 : -1;
      peak = Math.max(peak, running);
    }
    expect(events).toHaveLength(12);
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('batuta dags cancel stops the running attempt on its worker and fails the run', async () => {
    const env = { BATUTA_REDIS_URL: redis.url, BATUTA_NAMESPACE: 'e2e', BATUTA_DAGS: join(dir, 'dags') };
    const output = async (args: string[]) => {
      const child = batuta(args, env);
      let out = '';
      child.stdout?.on('data', (d) => {
        out += d;
      });
      // 'close' (not 'exit'): stdout may still hold data when the process has exited.
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      return { code, out: out.trim() };
    };
    const { out: runId, code: triggerCode } = await output(['dags', 'trigger', 'slow']);
    expect(triggerCode).toBe(0);
    const store = await RedisStateStore.connect({ url: redis.url, namespace: 'e2e' });
    try {
      await expect
        .poll(async () => (await store.getTaskInstance(runId, 'nap', -1))?.state, { timeout: 20_000 })
        .toBe('running');
      const cancel = await output(['dags', 'cancel', runId]);
      expect(cancel.code).toBe(0);
      await expect.poll(async () => (await store.getRun(runId))?.state, { timeout: 15_000 }).toBe('failed');
      const nap = await store.getTaskInstance(runId, 'nap', -1);
      expect(nap?.state).toBe('failed');
      expect((await store.getTaskInstance(runId, 'after', -1))?.state ?? 'none').not.toBe('success');
    } finally {
      await store.close();
    }
  }, 60_000);
});
