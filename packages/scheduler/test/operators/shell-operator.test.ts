import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { shellOperator } from '../../src/operators/builtin.js';

const fixture = fileURLToPath(new URL('./fixtures/shell-attempt.ts', import.meta.url));
const testsTsconfig = fileURLToPath(new URL('../../../../tsconfig.tests.json', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it holds or the deadline passes; returns whether it held. */
async function eventually(check: () => boolean, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** Starts the fixture "worker" running `command` and resolves with it and the first line the command prints. */
async function startAttempt(command: string): Promise<{ worker: ChildProcess; firstLine: string }> {
  const worker = spawn(process.execPath, ['--import', 'tsx', fixture, command], {
    env: { ...process.env, TSX_TSCONFIG_PATH: testsTsconfig },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const firstLine = await new Promise<string>((resolve, reject) => {
    let text = '';
    worker.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end >= 0) resolve(text.slice(0, end));
    });
    worker.once('exit', () => reject(new Error(`the attempt process exited early: ${text}`)));
  });
  return { worker, firstLine };
}

const leftovers: number[] = [];
afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
});

function context(signal: AbortSignal) {
  return {
    dagId: 'd',
    runId: 'r',
    taskId: 't',
    mapIndex: -1,
    tryNumber: 1,
    logicalDateMs: 0,
    params: {},
    inputs: {},
    item: undefined,
    signal,
    log: () => undefined,
    progress: () => undefined,
  };
}

describe('shell operator', () => {
  it("stops the command's whole process group when the worker is killed with SIGKILL", async () => {
    // The group leader `sh` and a grandchild `sleep`: both must go, as a real task's children would.
    const { worker, firstLine } = await startAttempt('sleep 300 & echo "$$ $!"; wait');
    const [shellPid, sleepPid] = firstLine.split(' ').map(Number) as [number, number];
    leftovers.push(shellPid);
    expect(alive(shellPid) && alive(sleepPid)).toBe(true);
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGKILL');
    await exited;
    // The watchdog acts within about a second (SIGTERM at once, SIGKILL after 1 s); the deadline is generous
    // because the test machine is shared, and timing is not what this test checks.
    expect(await eventually(() => !alive(shellPid) && !alive(sleepPid), 15_000)).toBe(true);
  });

  it("does not pass the worker's BATUTA_* settings (its Redis URL) to the command", async () => {
    const previous = process.env.BATUTA_REDIS_URL;
    process.env.BATUTA_REDIS_URL = 'redis://:hunter2@127.0.0.1:6379';
    try {
      const output = await shellOperator.run(context(new AbortController().signal), {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell default, not a JS template.
        command: 'echo "url=${BATUTA_REDIS_URL:-none} task=$BATUTA_TASK_ID mine=$MINE"',
        env: { MINE: 'declared' },
        output: 'last-line',
      });
      expect(output).toBe('url=none task=t mine=declared');
    } finally {
      if (previous === undefined) delete process.env.BATUTA_REDIS_URL;
      else process.env.BATUTA_REDIS_URL = previous;
    }
  });

  it('lets a task that declares BATUTA_REDIS_URL in env see it', async () => {
    const output = await shellOperator.run(context(new AbortController().signal), {
      command: 'echo "$BATUTA_REDIS_URL"',
      env: { BATUTA_REDIS_URL: 'redis://declared:6379' },
      output: 'last-line',
    });
    expect(output).toBe('redis://declared:6379');
  });
});
