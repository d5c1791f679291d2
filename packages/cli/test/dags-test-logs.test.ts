// `batuta dags test` shows task log lines: in a terminal (a pseudo-terminal from `script`), each running
// task's latest lines appear beneath the live grid; piped, each line is printed plainly with its task.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', 'bin', 'batuta.js');
const ESC = String.fromCharCode(27);
const hasScript = spawnSync('script', ['--version']).status === 0;

function run(command: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code, out }));
  });
}

describe('dags test shows task logs', () => {
  let dir: string;
  let dag: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'batuta-dags-test-logs-'));
    dag = join(dir, 'talk.yaml');
    // The task waits between lines, so the grid is redrawn while it runs.
    writeFileSync(
      dag,
      `id: talk
tasks:
  chat:
    operator: shell
    with: { command: 'for i in 1 2 3 4 5 6; do echo "tick $i"; sleep 0.3; done; echo "a warning" >&2' }
  after:
    operator: empty
    upstream: [chat]
`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("captures a module task's console and log() lines as its log, not the process's own output", async () => {
    writeFileSync(
      join(dir, 'speak.mjs'),
      `export default async function (context) {
  console.log('from console', 42);
  context.log('from log()');
  await new Promise((resolve) => setTimeout(resolve, 1));
  console.error('late error');
  return 'ok';
}
`,
    );
    const file = join(dir, 'speak.yaml');
    writeFileSync(file, 'id: speak\ntasks:\n  say:\n    operator: module\n    with: { path: speak.mjs }\n');
    const { code, out } = await run(process.execPath, [bin, 'dags', 'test', file]);
    expect(code).toBe(0);
    expect(out.split('\n').filter((line) => line.includes('[say]'))).toEqual([
      '  [say] from console 42',
      '  [say] from log()',
      '  [say] (stderr) late error',
    ]);
    expect(out).not.toMatch(/^from console/m);
  }, 60_000);

  it.skipIf(!hasScript)(
    "in a terminal, shows a running task's latest lines beneath the grid",
    async () => {
      const { code, out } = await run('script', ['-qfec', `${process.execPath} ${bin} dags test ${dag}`, '/dev/null']);
      expect(code).toBe(0);
      // Frames are separated by the cursor-up sequence of each redraw.
      const frames = out.split(new RegExp(`${ESC}\\[\\d+F`));
      const withTail = frames.filter((frame) => frame.includes('── chat ──'));
      expect(withTail.length).toBeGreaterThan(0);
      const shown = withTail.flatMap((frame) => [...frame.matchAll(/ {2}tick (\d)/g)].map((m) => Number(m[1])));
      expect(new Set(shown).size).toBeGreaterThanOrEqual(2);
      // Beneath the grid: the tail comes after the task rows of its frame.
      const frame = withTail.at(-1)!;
      expect(frame.indexOf('── chat ──')).toBeGreaterThan(frame.indexOf('after'));
      // Once the task is done its lines leave the view; the run still succeeds.
      expect(out).toMatch(/run .*: success/);
    },
    60_000,
  );

  it('piped, prints every line plainly with its task, stderr marked', async () => {
    const { code, out } = await run(process.execPath, [bin, 'dags', 'test', dag]);
    expect(code).toBe(0);
    const lines = out.split('\n').filter((line) => line.startsWith('  [chat]'));
    expect(lines).toEqual([
      '  [chat] tick 1',
      '  [chat] tick 2',
      '  [chat] tick 3',
      '  [chat] tick 4',
      '  [chat] tick 5',
      '  [chat] tick 6',
      '  [chat] (stderr) a warning',
    ]);
    expect(out).not.toContain(`${ESC}[`);
  }, 60_000);
});
