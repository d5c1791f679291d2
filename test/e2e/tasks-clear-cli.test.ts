// End to end through real processes: `batuta scheduler` and `batuta worker` on a private redis-server, a
// run that fails, then `batuta tasks clear RUN TASK --downstream` (dry run first): the cleared tasks
// rerun in the same run as their next try, the untouched one keeps its try, the run ends success.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisStateStore } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'batuta.js');
const redis = useRedisServer();

describe('batuta tasks clear through the CLI', () => {
  let dir: string;
  let env: Record<string, string>;
  const children: ChildProcess[] = [];

  const batuta = (args: string[]) =>
    spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

  const output = async (args: string[]) => {
    const child = batuta(args);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      err += d;
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    return { code, out: out.trim(), err: err.trim() };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'batuta-repair-'));
    const dags = join(dir, 'dags');
    mkdirSync(dags);
    writeFileSync(
      join(dags, 'repair.yaml'),
      `id: repair_cli
tasks:
  extract:
    operator: shell
    with: { command: 'echo extracted' }
  transform:
    operator: shell
    upstream: [extract]
    with: { command: 'test -f ${join(dir, 'ok')} && echo transformed' }
  load:
    operator: shell
    upstream: [transform]
    with: { command: 'echo loaded' }
`,
    );
    env = { BATUTA_REDIS_URL: redis.url, BATUTA_NAMESPACE: redis.namespace('cli'), BATUTA_DAGS: dags };
    children.push(batuta(['scheduler']), batuta(['worker', '--pool', 'default']));
  }, 30_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('reruns the cleared tasks of a failed run and the run ends success', async () => {
    const trigger = await output(['dags', 'trigger', 'repair_cli', '--wait']);
    expect(trigger.code).toBe(1);
    const runId = trigger.out.split('\n')[0]!;
    expect(trigger.out).toContain('failed');

    const dry = await output(['tasks', 'clear', runId, 'transform', '--downstream', '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const planned = JSON.parse(dry.out);
    expect(planned).toMatchObject({ runId, dryRun: true, applied: false, tasks: ['transform', 'load'] });
    expect(
      planned.changes.map((c: { taskId: string; from: string; to: string }) => `${c.taskId}:${c.from}→${c.to}`),
    ).toEqual(['transform:failed→none', 'load:upstream_failed→none']);

    const unknown = await output(['tasks', 'clear', runId, 'nope']);
    expect(unknown.code).toBe(3);
    expect(unknown.err).toContain("no task 'nope'");

    writeFileSync(join(dir, 'ok'), '');
    const clear = await output(['tasks', 'clear', runId, 'transform', '--downstream', '--json']);
    expect(clear.code).toBe(0);
    expect(JSON.parse(clear.out)).toMatchObject({ applied: true, dryRun: false });

    const store = await RedisStateStore.connect({ url: redis.url, namespace: env.BATUTA_NAMESPACE! });
    try {
      await expect.poll(async () => (await store.getRun(runId))?.state, { timeout: 30_000 }).toBe('success');
      const tries = Object.fromEntries(
        (await store.getTaskInstances(runId)).map((i) => [i.taskId, `${i.state}/${i.tryNumber}`]),
      );
      expect(tries).toEqual({ extract: 'success/1', transform: 'success/2', load: 'success/1' });
    } finally {
      await store.close();
    }

    const test = await output(['tasks', 'test', 'repair_cli', 'transform', '--from-run', runId, '--json']);
    expect(test.code).toBe(0);
    expect(JSON.parse(test.out)).toMatchObject({ taskId: 'transform', state: 'success', output: 'transformed' });
  }, 120_000);
});
