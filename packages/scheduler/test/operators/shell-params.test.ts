// A shell task gets its params through a file as well as the environment: a conf too large for the
// environment (Linux caps one variable at 128 KiB) reaches the command instead of failing the spawn.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TaskContext } from '../../src/dag/model.js';
import { shellOperator } from '../../src/operators/builtin.js';

function contextWith(params: Record<string, unknown>): TaskContext {
  return {
    dagId: 'big_conf',
    runId: 'manual__big_conf__1',
    taskId: 'echo',
    mapIndex: -1,
    tryNumber: 1,
    logicalDateMs: Date.UTC(2026, 2, 1),
    params,
    inputs: {},
    item: undefined,
    signal: new AbortController().signal,
    log: () => {},
    progress: () => {},
  };
}

function run(params: Record<string, unknown>, command: string): Promise<unknown> {
  return Promise.resolve(
    shellOperator.run(contextWith(params), shellOperator.args!.parse({ command, output: 'stdout' })),
  );
}

describe('the shell operator passing params', () => {
  it('passes a 1 MiB conf through BATUTA_PARAMS_FILE, leaving BATUTA_PARAMS unset, and removes the file after', async () => {
    const blob = 'x'.repeat(1024 * 1024);
    const output = String(
      await run(
        { blob },
        '[ -n "$BATUTA_PARAMS" ] && echo set || echo unset; echo "$BATUTA_PARAMS_FILE"; wc -c < "$BATUTA_PARAMS_FILE"',
      ),
    );
    const [inline, file, bytes] = output.trim().split('\n');
    expect(inline).toBe('unset');
    expect(Number(bytes)).toBe(JSON.stringify({ blob }).length);
    expect(existsSync(file!)).toBe(false);
  });

  it('passes a small conf both inline and through the file', async () => {
    const output = String(await run({ n: 3 }, 'echo "$BATUTA_PARAMS"; cat "$BATUTA_PARAMS_FILE"'));
    expect(output.trim().split('\n')).toEqual(['{"n":3}', '{"n":3}']);
  });
});
