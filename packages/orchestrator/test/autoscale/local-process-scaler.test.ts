// The local process scaler really starts and stops processes; they stand in for `batuta worker`.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalProcessScaler, type ScalerEvent } from '../../src/autoscale/local-process-scaler.js';
import type { WorkerPool } from '../../src/pools/worker-pool.js';

// A worker stand-in: runs until SIGTERM, then "drains" briefly and exits 0.
const WORKER = `process.on('SIGTERM', () => setTimeout(() => process.exit(0), 50)); setInterval(() => {}, 1000);`;
// One that ignores SIGTERM (a worker stuck draining); it writes READY_FILE once it does.
const STUBBORN = `process.on('SIGTERM', () => {}); require('node:fs').writeFileSync(process.env.READY_FILE, 'ready'); setInterval(() => {}, 1000);`;

const pool: WorkerPool = {
  name: 'cpu',
  capacity: { cpu: 4, memoryMb: 0, gpu: 0, custom: {} },
  labels: {},
  minWorkers: 1,
  maxWorkers: 3,
};

const scalers: LocalProcessScaler[] = [];
afterEach(async () => {
  for (const scaler of scalers.splice(0)) await scaler.stop();
});

function scaler(script: string, options: Partial<ConstructorParameters<typeof LocalProcessScaler>[0]> = {}) {
  const events: ScalerEvent[] = [];
  const instance = new LocalProcessScaler({
    pool,
    command: [process.execPath, '-e', script],
    stdio: 'ignore',
    onEvent: (event) => events.push(event),
    ...options,
  });
  scalers.push(instance);
  return { scaler: instance, events };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(condition: () => boolean, what: string, deadlineMs = 10_000) {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('LocalProcessScaler', () => {
  it('starts worker processes up to the target and stops the newest with SIGTERM to scale down', async () => {
    const { scaler: workers, events } = scaler(WORKER);
    expect(await workers.scaleTo(3)).toBe(3);
    const pids = workers.pids();
    expect(pids).toHaveLength(3);
    expect(pids.every(alive)).toBe(true);
    expect(await workers.scaleTo(1)).toBe(1);
    expect(workers.pids()).toEqual([pids[0]]);
    await until(() => !alive(pids[1]!) && !alive(pids[2]!), 'the two newest to exit');
    const exits = events.filter((event) => event.type === 'exited');
    // Told to stop (a process SIGTERMed before its handler is installed just ends by the signal).
    expect(exits.map((event) => event.type === 'exited' && event.expected)).toEqual([true, true]);
    expect(exits.every((event) => event.type === 'exited' && (event.code === 0 || event.signal === 'SIGTERM'))).toBe(
      true,
    );
    expect(alive(pids[0]!)).toBe(true);
  });

  it('keeps the count within the pool’s min and max', async () => {
    const { scaler: workers } = scaler(WORKER);
    expect(await workers.scaleTo(10)).toBe(3);
    expect(await workers.scaleTo(0)).toBe(1);
    expect(workers.workers).toBe(1);
  });

  it('sizes to the backlog and replaces a worker that died', async () => {
    let backlog = {
      waiting: 8,
      active: 0,
      waitingNeeds: Array.from({ length: 8 }, () => ({ cpu: 2, memoryMb: 0, gpu: 0, custom: {} })),
    };
    const { scaler: workers, events } = scaler(WORKER, { backlog: async () => backlog });
    expect(await workers.reconcile()).toBe(3);
    const victim = workers.pids()[1]!;
    process.kill(victim, 'SIGKILL');
    await until(() => events.some((event) => event.type === 'exited' && event.pid === victim), 'the kill to be seen');
    expect(events.find((event) => event.type === 'exited' && event.pid === victim)).toMatchObject({ expected: false });
    expect(workers.workers).toBe(2);
    expect(await workers.reconcile()).toBe(3);
    expect(workers.workers).toBe(3);
    backlog = { waiting: 0, active: 0, waitingNeeds: [] };
    expect(await workers.reconcile()).toBe(1);
  });

  it('kills a worker that does not exit within the grace period', async () => {
    const readyFile = join(mkdtempSync(join(tmpdir(), 'batuta-scaler-')), 'ready');
    const { scaler: workers, events } = scaler(STUBBORN, {
      stopGraceMs: 200,
      env: { ...process.env, READY_FILE: readyFile },
    });
    await workers.scaleTo(1);
    const [pid] = workers.pids();
    await until(() => existsSync(readyFile), 'the worker to ignore SIGTERM');
    await workers.stop();
    expect(alive(pid!)).toBe(false);
    expect(events.find((event) => event.type === 'exited')).toMatchObject({ signal: 'SIGKILL', expected: true });
  });
});
