// Signals through real processes: a scheduler or an idle worker told to stop while Redis is away still
// exits (bounded by --shutdown-timeout, with one log line saying so), and a scheduler stopped with
// SIGTERM hands its runs to a live peer, which adopts them at once (not when the leases would lapse); a
// daemon started while Redis is down waits for it instead of exiting.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer } from '@batuta/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'batuta.js');

interface Daemon {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

describe('signals', () => {
  let dir: string;
  let dags: string;
  const daemons: Daemon[] = [];
  const servers: RedisServer[] = [];

  const start = (args: string[], redisUrl: string): Daemon => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, BATUTA_REDIS_URL: redisUrl, BATUTA_NAMESPACE: 'signals', BATUTA_DAGS: dags },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Array<Record<string, unknown>> = [];
    let rest = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) {
        const parsed = parseLine(part);
        if (parsed) lines.push(parsed);
      }
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const daemon = { child, lines, exited };
    daemons.push(daemon);
    return daemon;
  };

  const waitFor = async (daemon: Daemon, matches: (line: Record<string, unknown>) => boolean, what: string) => {
    const deadline = Date.now() + 25_000;
    while (Date.now() < deadline) {
      const found = daemon.lines.find(matches);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no ${what} in ${JSON.stringify(daemon.lines)}`);
  };

  /** The exit code, or 'still running' when the process has not exited by a generous deadline. */
  const exitOf = (daemon: Daemon): Promise<number | null | 'still running'> =>
    Promise.race([
      daemon.exited,
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 25_000)),
    ]);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'batuta-signals-'));
    dags = join(dir, 'dags');
    mkdirSync(dags);
    writeFileSync(
      join(dags, 'nap.yaml'),
      `id: nap
tasks:
  nap:
    operator: shell
    resources: { cpu: 1, memoryMb: 64 }
    with: { command: 'sleep 20' }
`,
    );
  });

  afterEach(async () => {
    for (const daemon of daemons.splice(0)) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    for (const server of servers.splice(0)) await server.stop();
  }, 30_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a scheduler told to stop while Redis is away exits and says why (shutdown_timeout or shutdown_failed)', async () => {
    const redis = await RedisServer.start();
    servers.push(redis);
    const scheduler = start(['scheduler', '--shutdown-timeout', '1s'], redis.url);
    await waitFor(scheduler, (line) => line.event === 'scheduler_started', 'scheduler_started');
    await redis.kill();
    scheduler.child.kill('SIGTERM');
    expect(await exitOf(scheduler)).toBe(1);
    // Either the stop ran into the bound, or the store refused it outright: both say so and exit.
    const line = scheduler.lines.find((l) => l.event === 'shutdown_timeout' || l.event === 'shutdown_failed');
    expect(line).toMatchObject({ level: 'error', what: 'scheduler' });
  }, 60_000);

  it('an idle worker told to stop (twice) while Redis is away exits with a shutdown_timeout line', async () => {
    const redis = await RedisServer.start();
    servers.push(redis);
    const worker = start(['worker', '--pool', 'default', '--shutdown-timeout', '1s'], redis.url);
    await waitFor(worker, (line) => line.event === 'worker_started', 'worker_started');
    await redis.kill();
    worker.child.kill('SIGTERM');
    await waitFor(worker, (line) => line.event === 'worker_stopping', 'worker_stopping');
    worker.child.kill('SIGTERM');
    expect(await exitOf(worker)).toBe(1);
    expect(worker.lines.find((line) => line.event === 'shutdown_timeout')).toMatchObject({ what: 'worker' });
  }, 60_000);

  it('a scheduler and a worker started while Redis is down wait for it (redis_unreachable), then start', async () => {
    const redis = await RedisServer.start({ appendOnly: true });
    servers.push(redis);
    await redis.kill();
    const scheduler = start(['scheduler'], redis.url);
    const worker = start(['worker', '--pool', 'default'], redis.url);
    await waitFor(scheduler, (line) => line.event === 'redis_unreachable', 'the scheduler waiting for Redis');
    await waitFor(worker, (line) => line.event === 'redis_unreachable', 'the worker waiting for Redis');
    await redis.restart();
    await waitFor(scheduler, (line) => line.event === 'scheduler_started', 'scheduler_started');
    await waitFor(worker, (line) => line.event === 'worker_started', 'worker_started');
    expect(scheduler.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
  }, 60_000);

  it('a scheduler stopped with SIGTERM hands its running run to a live peer, which adopts it at once', async () => {
    const redis = await RedisServer.start();
    servers.push(redis);
    const first = start(['scheduler'], redis.url);
    await waitFor(first, (line) => line.event === 'scheduler_started', 'the first scheduler_started');
    start(['worker', '--pool', 'default'], redis.url);
    const trigger = start(['dags', 'trigger', 'nap'], redis.url);
    expect(await exitOf(trigger)).toBe(0);
    const started = await waitFor(first, (line) => line.event === 'run_started', 'run_started');
    // The peer starts after the run did, so the run is the first scheduler's.
    const second = start(['scheduler'], redis.url);
    await waitFor(second, (line) => line.event === 'scheduler_started', 'the second scheduler_started');
    first.child.kill('SIGTERM');
    expect(await exitOf(first)).toBe(0);
    // Handed over: adopted from the leaving scheduler's announcement, not found orphaned after its lease lapsed.
    const adopted = await waitFor(second, (line) => line.event === 'run_adopted', 'run_adopted');
    expect(adopted).toMatchObject({ runId: started.runId, handedOver: true });
  }, 60_000);
});
