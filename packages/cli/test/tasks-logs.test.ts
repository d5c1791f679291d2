// `batuta tasks logs` on given stores: text and --json output, the default try, a missing run, and
// --follow ending when the attempt's log ends, --tail alone and with --follow.
import { type LogAttempt, MemoryLogStore, MemoryStateStore } from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../src/cli-error.js';
import { printTaskLogs, type TaskLogJsonLine, textLine } from '../src/commands/tasks-logs.js';

const RUN = 'manual__2026-01-01T00:00:00.000Z__etl';

async function stores() {
  const store = new MemoryStateStore();
  await store.createRun({
    runId: RUN,
    dagId: 'etl',
    kind: 'manual',
    state: 'running',
    logicalDateMs: 0,
    conf: {},
    createdMs: 0,
  });
  const logStore = new MemoryLogStore();
  const attempt = (tryNumber: number): LogAttempt => ({ runId: RUN, taskId: 'load', mapIndex: -1, tryNumber });
  await logStore.append(attempt(1), [{ atMs: 0, stream: 'stdout', text: 'first try' }], { end: true });
  await logStore.append(attempt(2), [
    { atMs: 1_000, stream: 'stdout', text: 'second try' },
    { atMs: 1_500, stream: 'stderr', text: 'warning' },
  ]);
  return { store, logStore, attempt };
}

describe('tasks logs', () => {
  it('prints the latest try by default, one line each as time, stream and text', async () => {
    const { store, logStore } = await stores();
    const printed: string[] = [];
    const code = await printTaskLogs(store, logStore, { runId: RUN, taskId: 'load', follow: false, json: false }, (t) =>
      printed.push(t),
    );
    expect(code).toBe(0);
    expect(printed).toEqual(['1970-01-01T00:00:01.000Z stdout second try', '1970-01-01T00:00:01.500Z stderr warning']);
    expect(textLine({ atMs: 0, stream: 'log', text: 'x' })).toBe('1970-01-01T00:00:00.000Z log    x');
  });

  it('prints the JSON shape with --json, for the try asked', async () => {
    const { store, logStore } = await stores();
    const printed: string[] = [];
    await printTaskLogs(store, logStore, { runId: RUN, taskId: 'load', tryNumber: 1, follow: false, json: true }, (t) =>
      printed.push(t),
    );
    const expected: TaskLogJsonLine = {
      runId: RUN,
      taskId: 'load',
      mapIndex: -1,
      tryNumber: 1,
      atMs: 0,
      time: '1970-01-01T00:00:00.000Z',
      stream: 'stdout',
      text: 'first try',
    };
    expect(printed.map((t) => JSON.parse(t))).toEqual([expected]);
  });

  it('says which run or task it could not find', async () => {
    const { store, logStore } = await stores();
    const ask = (runId: string, taskId: string) =>
      printTaskLogs(store, logStore, { runId, taskId, follow: false, json: false }, () => {});
    await expect(ask('nope', 'load')).rejects.toThrow(NotFoundError);
    await expect(ask(RUN, 'other')).rejects.toThrow(/has no task 'other'/);
  });

  it('follows a running try until its end mark', async () => {
    const { store, logStore, attempt } = await stores();
    const printed: string[] = [];
    let polls = 0;
    const following = printTaskLogs(
      store,
      logStore,
      { runId: RUN, taskId: 'load', tryNumber: 2, follow: true, json: false, pollMs: 1 },
      (t) => {
        printed.push(t);
      },
    );
    // The writer ends the attempt after a while; the follow must print that line and stop.
    const writer = (async () => {
      while (printed.length < 2) {
        polls++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await logStore.append(attempt(2), [{ atMs: 2_000, stream: 'log', text: 'done' }], { end: true });
    })();
    await Promise.all([following, writer]);
    expect(printed.at(-1)).toBe('1970-01-01T00:00:02.000Z log    done');
    expect(polls).toBeGreaterThan(0);
  });

  it('prints only the last lines with --tail, as text or JSON', async () => {
    const { store, logStore } = await stores();
    const printed: string[] = [];
    const options = { runId: RUN, taskId: 'load', follow: false, json: false, tail: 1 };
    await printTaskLogs(store, logStore, options, (t) => printed.push(t));
    expect(printed).toEqual(['1970-01-01T00:00:01.500Z stderr warning']);
    printed.length = 0;
    await printTaskLogs(store, logStore, { ...options, tail: 5, json: true }, (t) => printed.push(t));
    expect(printed.map((t) => (JSON.parse(t) as TaskLogJsonLine).text)).toEqual(['second try', 'warning']);
    printed.length = 0;
    await printTaskLogs(store, logStore, { ...options, tail: 0 }, (t) => printed.push(t));
    expect(printed).toEqual([]);
    await expect(printTaskLogs(store, logStore, { ...options, tail: -1 }, () => {})).rejects.toThrow(/--tail/);
  });

  it('prints the last lines with --tail and --follow, then the new ones until the end mark', async () => {
    const { store, logStore, attempt } = await stores();
    const printed: string[] = [];
    const following = printTaskLogs(
      store,
      logStore,
      { runId: RUN, taskId: 'load', tryNumber: 2, tail: 1, follow: true, json: false, pollMs: 1 },
      (t) => {
        printed.push(t);
      },
    );
    const writer = (async () => {
      while (printed.length < 1) await new Promise((resolve) => setImmediate(resolve));
      await logStore.append(attempt(2), [{ atMs: 2_000, stream: 'log', text: 'done' }], { end: true });
    })();
    await Promise.all([following, writer]);
    expect(printed).toEqual(['1970-01-01T00:00:01.500Z stderr warning', '1970-01-01T00:00:02.000Z log    done']);
  });
});
