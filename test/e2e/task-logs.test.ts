// Task logs across processes: a shell task on a `batuta worker` prints 1,000 lines; its first try's
// worker is SIGKILLed mid-way and a second worker runs try 2. After both workers have exited, another
// process (`batuta tasks logs`) shows every line try 1 printed up to a second before it died, in order,
// and all of try 2's. The workers' own stdout stays JSON lines with no task output in it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisLogStore } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'batuta.js');

interface Child {
  process: ChildProcess;
  stdout: () => string;
  exited: Promise<number | null>;
}

describe('task logs of a killed and a rerun try, read from another process', () => {
  const redis = useRedisServer();
  let dir: string;
  let env: Record<string, string>;
  const children: Child[] = [];

  const batuta = (args: string[]): Child => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr?.resume();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const handle = { process: child, stdout: () => out, exited };
    children.push(handle);
    return handle;
  };

  const eventually = async (condition: () => boolean | Promise<boolean>, what: string, deadlineMs = 60_000) => {
    const deadline = Date.now() + deadlineMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'batuta-e2e-logs-'));
    const dags = join(dir, 'dags');
    mkdirSync(dags);
    // Each line carries the shell's own time of printing, and is also kept in a file per try: the truth
    // the stored log is compared with.
    writeFileSync(
      join(dags, 'chatty.yaml'),
      `id: chatty
tasks:
  print:
    operator: shell
    retry: { retries: 1, delay: 1s }
    resources: { cpu: 1, memoryMb: 64 }
    with:
      output: none
      command: >-
        i=1; while [ $i -le 1000 ]; do
        echo "line $i at $(date +%s%3N)" | tee -a ${dir}/printed-$BATUTA_TRY_NUMBER.txt;
        [ $BATUTA_TRY_NUMBER = 1 ] && sleep 0.01;
        i=$((i+1)); done; echo "to stderr" >&2
`,
    );
    env = { BATUTA_DAGS: dags, BATUTA_NAMESPACE: 'e2e-logs' };
  });

  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows try 1 up to the kill and all of try 2, while the workers print only JSON', async () => {
    env.BATUTA_REDIS_URL = redis.url;
    const logStore = new RedisLogStore({ url: redis.url, namespace: 'e2e-logs' });
    const scheduler = batuta(['scheduler']);
    const stallFlags = ['--lock-duration', '2s', '--stalled-interval', '1s'];
    const first = batuta(['worker', '--pool', 'default', ...stallFlags]);
    const trigger = batuta(['dags', 'trigger', 'chatty']);
    expect(await trigger.exited).toBe(0);
    const runId = trigger.stdout().trim().split('\n').at(-1)!.trim();
    const try1 = { runId, taskId: 'print', mapIndex: -1, tryNumber: 1 };
    await eventually(async () => (await logStore.read(try1)).lines.length > 200, 'try 1 to have stored 200 lines');

    first.process.kill('SIGKILL');
    await first.exited;
    const second = batuta(['worker', '--pool', 'default', ...stallFlags]);
    const try2 = { ...try1, tryNumber: 2 };
    await eventually(async () => (await logStore.read(try2)).ended, 'try 2 to end', 90_000);
    second.process.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    scheduler.process.kill('SIGTERM');
    await scheduler.exited;
    await logStore.close();

    const shown = (tryNumber: number) => {
      const reader = batuta(['tasks', 'logs', runId, 'print', '--try', String(tryNumber), '--json']);
      return reader.exited.then((code) => {
        expect(code).toBe(0);
        return reader
          .stdout()
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { stream: string; text: string; tryNumber: number });
      });
    };
    const printed = (tryNumber: number) =>
      readFileSync(join(dir, `printed-${tryNumber}.txt`), 'utf8')
        .trim()
        .split('\n');

    // Try 1: the stored stdout lines are the printed ones, in order, from the first, missing at most
    // those printed in the last second before the command died.
    const stored1 = (await shown(1)).filter((l) => l.stream === 'stdout').map((l) => l.text);
    const printed1 = printed(1);
    expect(printed1.length).toBeLessThan(1000);
    expect(stored1).toEqual(printed1.slice(0, stored1.length));
    const atMs = (line: string) => Number(line.split(' at ')[1]);
    const diedAtMs = atMs(printed1.at(-1)!);
    const missing = printed1.slice(stored1.length);
    for (const line of missing) expect(diedAtMs - atMs(line)).toBeLessThanOrEqual(1_000);

    // Try 2: everything, stdout and stderr, and only try 2's.
    const lines2 = await shown(2);
    expect(lines2.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(printed(2));
    expect(lines2.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['to stderr']);
    expect(lines2.every((l) => l.tryNumber === 2)).toBe(true);

    // The workers' stdout: JSON lines only, none carrying a task's line (the task returns nothing; a
    // returned value would appear as a short preview in worker_finished).
    for (const worker of [first, second]) {
      for (const line of worker.stdout().trim().split('\n')) {
        expect(() => JSON.parse(line)).not.toThrow();
        expect(line).not.toMatch(/line \d+ at/);
      }
    }
  }, 150_000);
});
