// `batuta tasks tries`: every try of an instance from the store's try history, as a table and as --json
// (checked against its documented shape), on the memory store.
import { MemoryStateStore, type TaskInstanceRecord } from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';
import { printTaskTries } from '../src/commands/tasks-tries.js';
import { tasksTriesJson } from '../src/json-shapes.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');

async function storeWithRetriedTask(): Promise<MemoryStateStore> {
  const store = new MemoryStateStore();
  await store.createRun({
    runId: 'r1',
    dagId: 'etl',
    kind: 'manual',
    state: 'running',
    logicalDateMs: T0,
    conf: {},
    createdMs: T0,
  });
  const record = (overrides: Partial<TaskInstanceRecord>): TaskInstanceRecord => ({
    runId: 'r1',
    taskId: 'load',
    mapIndex: -1,
    state: 'running',
    tryNumber: 1,
    ...overrides,
  });
  const write = (overrides: Partial<TaskInstanceRecord>) =>
    store.applyTransition('r1', { instances: [{ record: record(overrides) }] });
  await write({
    state: 'up_for_retry',
    startMs: T0 + 1_000,
    endMs: T0 + 3_500,
    worker: 'host-a:default',
    error: { code: 'SHELL_EXIT', message: 'command exited with code 3\nsecond line' },
  });
  await write({ state: 'running', tryNumber: 2, startMs: T0 + 10_000, worker: 'host-b:default' });
  await store.applyTransition('r1', {
    instances: [{ record: record({ taskId: 'idle', state: 'none', tryNumber: 0 }) }],
  });
  return store;
}

describe('batuta tasks tries', () => {
  it('prints every try oldest first with its state, start, duration, worker and first error line', async () => {
    const store = await storeWithRetriedTask();
    const out: string[] = [];
    expect(await printTaskTries(store, { runId: 'r1', taskId: 'load', json: false }, (text) => out.push(text))).toBe(0);
    const lines = out.join('\n').split('\n');
    expect(lines[0]).toMatch(/^TRY\s+STATE\s+START\s+DURATION\s+WORKER\s+ERROR$/);
    expect(lines[1]).toMatch(
      /^1\s+up_for_retry\s+2026-03-01T00:00:01.000Z\s+2.5 s\s+host-a:default\s+SHELL_EXIT: command exited with code 3$/,
    );
    expect(lines[2]).toMatch(/^2\s+running\s+2026-03-01T00:00:10.000Z\s+host-b:default$/);
  });

  it('prints the documented JSON shape', async () => {
    const store = await storeWithRetriedTask();
    const out: string[] = [];
    await printTaskTries(store, { runId: 'r1', taskId: 'load', json: true }, (text) => out.push(text));
    const document = tasksTriesJson.parse(JSON.parse(out.join('')));
    expect(document).toMatchObject({ runId: 'r1', taskId: 'load', mapIndex: -1, state: 'running' });
    expect(document.tries).toEqual([
      {
        tryNumber: 1,
        state: 'up_for_retry',
        start: '2026-03-01T00:00:01.000Z',
        end: '2026-03-01T00:00:03.500Z',
        durationMs: 2_500,
        worker: 'host-a:default',
        error: { code: 'SHELL_EXIT', message: 'command exited with code 3\nsecond line' },
        reason: null,
      },
      {
        tryNumber: 2,
        state: 'running',
        start: '2026-03-01T00:00:10.000Z',
        end: null,
        durationMs: null,
        worker: 'host-b:default',
        error: null,
        reason: null,
      },
    ]);
  });

  it('says when no try has started, and fails with NOT_FOUND (exit 3) for an unknown instance', async () => {
    const store = await storeWithRetriedTask();
    const out: string[] = [];
    await printTaskTries(store, { runId: 'r1', taskId: 'idle', json: false }, (text) => out.push(text));
    expect(out).toEqual(['no try of idle has started (state none)']);
    await expect(printTaskTries(store, { runId: 'r1', taskId: 'nope', json: false }, () => {})).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      printTaskTries(store, { runId: 'r1', taskId: 'load', mapIndex: -2, json: false }, () => {}),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });
});
