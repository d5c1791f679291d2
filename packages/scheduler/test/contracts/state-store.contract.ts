// The StateStore contract: every adapter (memory, Redis, …) runs this suite unchanged.
// Each test gets a fresh store from `makeStore`; `cleanup` (default: `store.close()`) runs after it.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskState } from '../../src/dag/model.js';
import type {
  DagRunRecord,
  StateStore,
  StoreChange,
  TaskInstanceCell,
  TaskInstanceRecord,
  Transition,
} from '../../src/store/state-store.js';
import { outputKey } from '../../src/store/state-store.js';

const DAY_MS = 86_400_000;
const JAN_1 = Date.UTC(2024, 0, 1);

function runRecord(overrides: Partial<DagRunRecord> = {}): DagRunRecord {
  return {
    runId: 'etl__2024-01-01',
    dagId: 'etl',
    kind: 'scheduled',
    state: 'queued',
    logicalDateMs: JAN_1,
    dataIntervalStartMs: JAN_1 - DAY_MS,
    dataIntervalEndMs: JAN_1,
    conf: { sample: 1 },
    createdMs: 1_000,
    ...overrides,
  };
}

function instanceRecord(
  runId: string,
  taskId: string,
  state: TaskState,
  overrides: Partial<TaskInstanceRecord> = {},
): TaskInstanceRecord {
  return { runId, taskId, mapIndex: -1, state, tryNumber: 1, ...overrides };
}

/** Everything a transition could have touched in one run, for "changed nothing" checks. */
async function snapshotRun(store: StateStore, runId: string, outputTasks: string[]) {
  return {
    run: await store.getRun(runId),
    instances: sortInstances(await store.getTaskInstances(runId)),
    outputs: [
      ...(
        await store.getOutputs(
          runId,
          outputTasks.map((taskId) => ({ taskId, mapIndex: -1 })),
        )
      ).entries(),
    ],
  };
}

function sortInstances(records: TaskInstanceRecord[]): TaskInstanceRecord[] {
  return [...records].sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : a.mapIndex - b.mapIndex));
}

/** Values that every adapter must hand back exactly as given. */
const ROUND_TRIP_VALUES: Record<string, unknown> = {
  nested: { a: { b: { c: [1, { d: 'deep' }, [true, false, null]] } } },
  unicode: { text: 'héllo wörld — 数据 — 🎼🎻 — e\u0301', '🔑 key.with#odd chars': 'ok', '': 'empty key' },
  numbers: [0, 1, -1, 0.5, -2.25, 1e-300, 1.7976931348623157e308, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
  empties: { object: {}, array: [], string: '' },
  nullish: { value: null, list: [null] },
  quotes: { text: 'say "hi"\n\ttab\\backslash\u0000nul' },
};

/** Registers the StateStore contract suite for one adapter. */
export function stateStoreContract(
  name: string,
  makeStore: () => Promise<StateStore>,
  cleanup?: (store: StateStore) => Promise<void>,
): void {
  describe(`StateStore contract: ${name}`, () => {
    let store: StateStore;

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      if (cleanup) await cleanup(store);
      else await store.close();
    });

    describe('runs', () => {
      it('creates a run and reads it back unchanged', async () => {
        const run = runRecord({ startMs: 2_000, reason: 'scheduled by cron' });
        const result = await store.createRun(run);
        expect(result).toEqual({ created: true, run });
        expect(await store.getRun(run.runId)).toEqual(run);
      });

      it('returns the original run on a second createRun of the same id and does not overwrite it', async () => {
        const original = runRecord();
        await store.createRun(original);
        const second = await store.createRun(runRecord({ state: 'running', conf: { sample: 2 }, createdMs: 9_999 }));
        expect(second).toEqual({ created: false, run: original });
        expect(await store.getRun(original.runId)).toEqual(original);
      });

      it('creates a run exactly once when many callers create the same id at the same time', async () => {
        const attempts = Array.from({ length: 12 }, (_, i) => runRecord({ conf: { caller: i }, createdMs: i }));
        const results = await Promise.all(attempts.map((run) => store.createRun(run)));
        const created = results.filter((result) => result.created);
        expect(created).toHaveLength(1);
        const stored = await store.getRun(attempts[0]!.runId);
        expect(stored).toEqual(created[0]!.run);
        for (const result of results) expect(result.run).toEqual(stored);
      });

      it('createRuns creates many runs in one call, in order, indexed as createRun indexes them', async () => {
        // More runs than one Redis script call carries (250), over two DAGs and two states.
        const runs = Array.from({ length: 300 }, (_, i) =>
          runRecord({
            runId: `batch-${String(i).padStart(3, '0')}`,
            dagId: i % 2 === 0 ? 'even' : 'odd',
            state: i % 3 === 0 ? 'running' : 'queued',
            logicalDateMs: JAN_1 + i * DAY_MS,
          }),
        );
        const results = await store.createRuns(runs);
        expect(results).toEqual(runs.map((run) => ({ created: true, run })));
        expect(await store.getRun('batch-299')).toEqual(runs[299]);
        const even = await store.listRuns({ dagId: 'even', states: ['running'] });
        expect(even.map((run) => run.runId)).toEqual(
          runs
            .filter((run) => run.dagId === 'even' && run.state === 'running')
            .map((run) => run.runId)
            .reverse(),
        );
        expect(await store.listRuns({ limit: 1 })).toEqual([runs[299]]);
      });

      it('createRuns leaves existing runs unchanged, and creates an id given twice once', async () => {
        const existing = runRecord({ runId: 'there', conf: { first: true } });
        await store.createRun(existing);
        const fresh = runRecord({ runId: 'fresh' });
        const results = await store.createRuns([
          runRecord({ runId: 'there', conf: { second: true } }),
          fresh,
          runRecord({ runId: 'fresh', conf: { again: true } }),
        ]);
        expect(results).toEqual([
          { created: false, run: existing },
          { created: true, run: fresh },
          { created: false, run: fresh },
        ]);
        expect(await store.getRun('there')).toEqual(existing);
      });

      it('createRuns from several callers at once creates every run exactly once', async () => {
        const ids = Array.from({ length: 40 }, (_, i) => `race-${i}`);
        const callers = [0, 1, 2].map((caller) =>
          store.createRuns([...ids].reverse().map((runId) => runRecord({ runId, conf: { caller } }))),
        );
        const results = (await Promise.all(callers)).flat();
        expect(results.filter((result) => result.created)).toHaveLength(ids.length);
        for (const runId of ids) {
          const stored = await store.getRun(runId);
          for (const result of results.filter((r) => r.run.runId === runId)) expect(result.run).toEqual(stored);
        }
      });

      it('createRuns keeps control characters, quotes and non-ASCII text exactly', async () => {
        const conf = { text: 'a\u0001b\u0000c "q" \\ ünïcode ✓ 🎼', nested: { list: ['\u0001', '\n'] } };
        const run = runRecord({ runId: 'odd\u0001id ✓', dagId: 'dag ü', conf });
        expect(await store.createRuns([run])).toEqual([{ created: true, run }]);
        expect(await store.getRun(run.runId)).toEqual(run);
        expect(await store.listRuns({ dagId: 'dag ü' })).toEqual([run]);
      });

      it('createRuns rejects a run that cannot be stored, and does not create it', async () => {
        const bad = runRecord({ runId: 'bad', conf: { score: Number.NaN } });
        await expect(store.createRuns([runRecord({ runId: 'good' }), bad])).rejects.toMatchObject({
          code: 'STORE_NOT_SERIALIZABLE',
        });
        expect(await store.getRun('bad')).toBeUndefined();
      });

      it('returns undefined for an unknown run', async () => {
        expect(await store.getRun('no-such-run')).toBeUndefined();
      });

      it('lists runs newest logical date first, ties in runId order', async () => {
        await store.createRun(runRecord({ runId: 'b', logicalDateMs: JAN_1 }));
        await store.createRun(runRecord({ runId: 'c', logicalDateMs: JAN_1 + 2 * DAY_MS }));
        await store.createRun(runRecord({ runId: 'a', logicalDateMs: JAN_1 }));
        await store.createRun(runRecord({ runId: 'd', logicalDateMs: JAN_1 + DAY_MS }));
        expect((await store.listRuns()).map((run) => run.runId)).toEqual(['c', 'd', 'a', 'b']);
        expect((await store.listRuns({})).map((run) => run.runId)).toEqual(['c', 'd', 'a', 'b']);
      });

      it('filters runs by DAG, by states and limits the count', async () => {
        await store.createRun(runRecord({ runId: 'etl-1', dagId: 'etl', state: 'success', logicalDateMs: JAN_1 }));
        await store.createRun(
          runRecord({ runId: 'etl-2', dagId: 'etl', state: 'running', logicalDateMs: JAN_1 + DAY_MS }),
        );
        await store.createRun(
          runRecord({ runId: 'etl-3', dagId: 'etl', state: 'failed', logicalDateMs: JAN_1 + 2 * DAY_MS }),
        );
        await store.createRun(
          runRecord({ runId: 'ml-1', dagId: 'ml', state: 'running', logicalDateMs: JAN_1 + 3 * DAY_MS }),
        );

        const ids = async (query: Parameters<StateStore['listRuns']>[0]) =>
          (await store.listRuns(query)).map((run) => run.runId);
        expect(await ids({ dagId: 'etl' })).toEqual(['etl-3', 'etl-2', 'etl-1']);
        expect(await ids({ dagId: 'nobody' })).toEqual([]);
        expect(await ids({ states: ['running'] })).toEqual(['ml-1', 'etl-2']);
        expect(await ids({ states: ['success', 'failed'] })).toEqual(['etl-3', 'etl-1']);
        expect(await ids({ states: [] })).toEqual([]);
        expect(await ids({ dagId: 'etl', states: ['running', 'success'] })).toEqual(['etl-2', 'etl-1']);
        expect(await ids({ limit: 2 })).toEqual(['ml-1', 'etl-3']);
        expect(await ids({ dagId: 'etl', limit: 1 })).toEqual(['etl-3']);
        expect(await ids({ limit: 100 })).toHaveLength(4);
      });

      it('pages runs with a cursor, ties in runId order, and survives the cursor run going away', async () => {
        for (const [runId, day, state] of [
          ['a', 0, 'success'],
          ['b', 0, 'failed'],
          ['c', 0, 'success'],
          ['d', 1, 'success'],
          ['e', 2, 'running'],
          ['f', 3, 'success'],
        ] as const) {
          await store.createRun(runRecord({ runId, logicalDateMs: JAN_1 + day * DAY_MS, state }));
        }
        const ids = async (query: Parameters<StateStore['listRuns']>[0]) =>
          (await store.listRuns(query)).map((run) => run.runId);
        expect(await ids({})).toEqual(['f', 'e', 'd', 'a', 'b', 'c']);
        const pages: string[][] = [];
        let before: { logicalDateMs: number; runId: string } | undefined;
        for (;;) {
          const page = await store.listRuns({ limit: 2, ...(before ? { before } : {}) });
          if (page.length === 0) break;
          pages.push(page.map((run) => run.runId));
          const last = page.at(-1)!;
          before = { logicalDateMs: last.logicalDateMs, runId: last.runId };
        }
        expect(pages).toEqual([
          ['f', 'e'],
          ['d', 'a'],
          ['b', 'c'],
        ]);
        // A cursor inside a tie, and one naming a run that does not exist.
        expect(await ids({ before: { logicalDateMs: JAN_1, runId: 'a' } })).toEqual(['b', 'c']);
        expect(await ids({ before: { logicalDateMs: JAN_1, runId: 'bb' } })).toEqual(['c']);
        expect(await ids({ before: { logicalDateMs: JAN_1 + DAY_MS / 2, runId: 'zz' } })).toEqual(['a', 'b', 'c']);
        expect(await ids({ before: { logicalDateMs: JAN_1 + 2 * DAY_MS, runId: 'e' }, limit: 1 })).toEqual(['d']);
        expect(await ids({ before: { logicalDateMs: JAN_1 + 3 * DAY_MS, runId: 'f' }, states: ['success'] })).toEqual([
          'd',
          'a',
          'c',
        ]);
        expect(
          await ids({ before: { logicalDateMs: JAN_1, runId: 'a' }, states: ['success', 'failed'], limit: 1 }),
        ).toEqual(['b']);
        expect(await ids({ before: { logicalDateMs: JAN_1, runId: 'c' } })).toEqual([]);
      });

      it('lists the state a transition gave a run', async () => {
        await store.createRun(runRecord({ runId: 'r1', state: 'queued' }));
        await store.applyTransition('r1', { run: { patch: { state: 'running' } } });
        expect((await store.listRuns({ states: ['queued'] })).map((run) => run.runId)).toEqual([]);
        expect((await store.listRuns({ states: ['running'] })).map((run) => run.runId)).toEqual(['r1']);
      });

      it('returns an empty list from an empty store', async () => {
        expect(await store.listRuns()).toEqual([]);
      });
    });

    describe('change notices', () => {
      /** Collects notices until `count` arrived (Redis delivers them asynchronously), with a deadline. */
      const collect = async (count: number, act: () => Promise<void>) => {
        const seen: StoreChange[] = [];
        let wake: () => void = () => {};
        const enough = new Promise<void>((resolve) => {
          wake = resolve;
        });
        const stop = await store.watchChanges((change) => {
          seen.push(change);
          if (seen.length >= count) wake();
        });
        try {
          await act();
          await Promise.race([enough, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        } finally {
          await stop();
        }
        return seen;
      };

      it('announces created runs and applied transitions, and nothing for a refused one', async () => {
        const seen = await collect(4, async () => {
          await store.createRun(runRecord({ runId: 'r1', dagId: 'etl', state: 'queued' }));
          await store.createRun(runRecord({ runId: 'r1', dagId: 'etl', state: 'queued' }));
          await store.createRuns([runRecord({ runId: 'r2', dagId: 'ml', state: 'running' })]);
          await store.applyTransition('r1', { run: { patch: { state: 'failed' }, expectState: 'success' } });
          await store.applyTransition('r1', {
            run: { patch: { state: 'running', startMs: 5 } },
            instances: [{ record: instanceRecord('r1', 'extract', 'queued', { tryNumber: 1 }) }],
          });
          await store.applyTransition('r1', { outputs: [{ taskId: 'extract', mapIndex: -1, value: 1 }] });
          await store.applyTransition('r1', {
            instances: [{ record: instanceRecord('r1', 'load', 'running', { mapIndex: 2, tryNumber: 3 }) }],
          });
        });
        expect(seen).toEqual([
          { runId: 'r1', dagId: 'etl', created: true, runState: 'queued' },
          { runId: 'r2', dagId: 'ml', created: true, runState: 'running' },
          {
            runId: 'r1',
            dagId: 'etl',
            runState: 'running',
            tasks: [{ taskId: 'extract', mapIndex: -1, state: 'queued', tryNumber: 1 }],
          },
          { runId: 'r1', dagId: 'etl', tasks: [{ taskId: 'load', mapIndex: 2, state: 'running', tryNumber: 3 }] },
        ]);
      });

      it('stops telling a listener once it stops watching', async () => {
        const late: StoreChange[] = [];
        const stop = await store.watchChanges((change) => late.push(change));
        await stop();
        const seen = await collect(1, () => store.createRun(runRecord({ runId: 'r3' })).then(() => {}));
        expect(seen.map((change) => change.runId)).toEqual(['r3']);
        expect(late).toEqual([]);
      });
    });

    describe('transitions', () => {
      const runId = 'etl__2024-01-01';

      beforeEach(async () => {
        await store.createRun(runRecord({ runId }));
      });

      it('writes instances, outputs and the run patch together', async () => {
        const extract = instanceRecord(runId, 'extract', 'success', { startMs: 10, endMs: 20, worker: 'w1' });
        const load = instanceRecord(runId, 'load', 'queued', { tryNumber: 0, queuedMs: 20 });
        const applied = await store.applyTransition(runId, {
          instances: [{ record: extract }, { record: load, expectState: 'absent' }],
          outputs: [{ taskId: 'extract', mapIndex: -1, value: { rows: 150 } }],
          run: { patch: { state: 'running', startMs: 10 }, expectState: 'queued' },
        });
        expect(applied).toBe(true);
        expect(sortInstances(await store.getTaskInstances(runId))).toEqual([extract, load]);
        expect(await store.getTaskInstance(runId, 'extract', -1)).toEqual(extract);
        expect(await store.getOutputs(runId, [{ taskId: 'extract', mapIndex: -1 }])).toEqual(
          new Map([[outputKey('extract', -1), { rows: 150 }]]),
        );
        expect(await store.getRun(runId)).toEqual({ ...runRecord({ runId }), state: 'running', startMs: 10 });
      });

      it('appends the events of a transition with its writes, in order', async () => {
        await store.appendEvent('dataset:sales', 'earlier', null, 1);
        const applied = await store.applyTransition(runId, {
          instances: [{ record: instanceRecord(runId, 'load', 'success') }],
          events: [
            { stream: 'dataset:sales', type: 'dataset-updated', payload: { runId, taskId: 'load' }, atMs: 50 },
            { stream: 'dataset:stock', type: 'dataset-updated', payload: undefined, atMs: 51 },
            { stream: 'dataset:sales', type: 'second', payload: [1, 'two'], atMs: 52 },
          ],
        });
        expect(applied).toBe(true);
        const sales = await store.readEvents('dataset:sales');
        expect(sales.map(({ type, payload, atMs }) => ({ type, payload, atMs }))).toEqual([
          { type: 'earlier', payload: null, atMs: 1 },
          { type: 'dataset-updated', payload: { runId, taskId: 'load' }, atMs: 50 },
          { type: 'second', payload: [1, 'two'], atMs: 52 },
        ]);
        expect(sales[1]!.id > sales[0]!.id).toBe(true);
        expect((await store.readEvents('dataset:stock')).map((e) => e.payload)).toEqual([null]);
      });

      it('appends no event when a guard fails or a value cannot be stored', async () => {
        const events = [{ stream: 'dataset:sales', type: 'dataset-updated', payload: { n: 1 }, atMs: 5 }];
        expect(await store.applyTransition(runId, { run: { patch: {}, expectState: 'failed' }, events })).toBe(false);
        expect(await store.applyTransition('no-such-run', { events })).toBe(false);
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        await expect(
          store.applyTransition(runId, {
            instances: [{ record: instanceRecord(runId, 'load', 'success') }],
            events: [...events, { stream: 'dataset:sales', type: 'bad', payload: cyclic, atMs: 6 }],
          }),
        ).rejects.toMatchObject({ code: 'STORE_NOT_SERIALIZABLE' });
        expect(await store.readEvents('dataset:sales')).toEqual([]);
        expect(await store.getTaskInstances(runId)).toEqual([]);
      });

      it('keeps the run fields a patch does not name', async () => {
        await store.applyTransition(runId, { run: { patch: { state: 'success', endMs: 99, reason: 'all done' } } });
        expect(await store.getRun(runId)).toEqual({
          ...runRecord({ runId }),
          state: 'success',
          endMs: 99,
          reason: 'all done',
        });
      });

      it('applies an empty transition to a known run', async () => {
        expect(await store.applyTransition(runId, {})).toBe(true);
        expect(await store.getRun(runId)).toEqual(runRecord({ runId }));
      });

      it('applies instance writes with a matching expectState, and without a guard unconditionally', async () => {
        expect(
          await store.applyTransition(runId, {
            instances: [{ record: instanceRecord(runId, 't', 'scheduled'), expectState: 'absent' }],
          }),
        ).toBe(true);
        expect(
          await store.applyTransition(runId, {
            instances: [{ record: instanceRecord(runId, 't', 'queued'), expectState: 'scheduled' }],
          }),
        ).toBe(true);
        expect(
          await store.applyTransition(runId, { instances: [{ record: instanceRecord(runId, 't', 'removed') }] }),
        ).toBe(true);
        expect((await store.getTaskInstance(runId, 't', -1))?.state).toBe('removed');
      });

      it('replaces the whole instance record, dropping fields the new record leaves out', async () => {
        const failed = instanceRecord(runId, 't', 'failed', {
          error: { message: 'boom', name: 'Error', code: 'E_BOOM', retryable: true },
          endMs: 50,
        });
        await store.applyTransition(runId, { instances: [{ record: failed }] });
        const retrying = instanceRecord(runId, 't', 'up_for_retry', { tryNumber: 1, nextTryAtMs: 300 });
        await store.applyTransition(runId, { instances: [{ record: retrying, expectState: 'failed' }] });
        expect(await store.getTaskInstance(runId, 't', -1)).toEqual(retrying);
      });

      it('keeps mapped instances apart by mapIndex', async () => {
        const records = [0, 1, 2].map((mapIndex) =>
          instanceRecord(runId, 'score', 'success', { mapIndex, worker: `w${mapIndex}` }),
        );
        await store.applyTransition(runId, {
          instances: records.map((record) => ({ record, expectState: 'absent' as const })),
          outputs: records.map(({ mapIndex }) => ({ taskId: 'score', mapIndex, value: mapIndex * 10 })),
        });
        expect(sortInstances(await store.getTaskInstances(runId))).toEqual(records);
        expect(await store.getTaskInstance(runId, 'score', 1)).toEqual(records[1]);
        expect(await store.getTaskInstance(runId, 'score', -1)).toBeUndefined();
        const outputs = await store.getOutputs(runId, [
          { taskId: 'score', mapIndex: 2 },
          { taskId: 'score', mapIndex: 0 },
        ]);
        expect(outputs).toEqual(
          new Map([
            [outputKey('score', 2), 20],
            [outputKey('score', 0), 0],
          ]),
        );
      });

      describe('a failing guard changes nothing', () => {
        const before = instanceRecord(runId, 'a', 'running', { startMs: 5 });

        beforeEach(async () => {
          await store.applyTransition(runId, {
            instances: [{ record: before }],
            outputs: [{ taskId: 'a', mapIndex: -1, value: 'old output' }],
          });
        });

        async function expectRejectedWithoutChange(transition: Transition): Promise<void> {
          const snapshot = await snapshotRun(store, runId, ['a', 'b']);
          expect(await store.applyTransition(runId, transition)).toBe(false);
          expect(await snapshotRun(store, runId, ['a', 'b'])).toEqual(snapshot);
        }

        /** Writes that would be visible if applied: a new instance, a changed one, outputs and a run patch. */
        function everything(): Transition {
          return {
            instances: [
              { record: instanceRecord(runId, 'b', 'queued'), expectState: 'absent' },
              { record: instanceRecord(runId, 'a', 'success', { endMs: 9 }) },
            ],
            outputs: [
              { taskId: 'a', mapIndex: -1, value: 'new output' },
              { taskId: 'b', mapIndex: -1, value: 'b output' },
            ],
            run: { patch: { state: 'running', startMs: 1 } },
          };
        }

        it('when an instance expectState does not match', async () => {
          const transition = everything();
          transition.instances!.push({ record: instanceRecord(runId, 'a', 'success'), expectState: 'queued' });
          await expectRejectedWithoutChange(transition);
        });

        it('when the first instance guard fails and later ones hold', async () => {
          const transition = everything();
          transition.instances!.unshift({ record: instanceRecord(runId, 'a', 'success'), expectState: 'scheduled' });
          await expectRejectedWithoutChange(transition);
        });

        it("when an instance expected 'absent' exists", async () => {
          const transition = everything();
          transition.instances!.push({ record: instanceRecord(runId, 'a', 'queued'), expectState: 'absent' });
          await expectRejectedWithoutChange(transition);
        });

        it('when an instance expected in a state does not exist', async () => {
          const transition = everything();
          transition.instances!.push({ record: instanceRecord(runId, 'ghost', 'queued'), expectState: 'scheduled' });
          await expectRejectedWithoutChange(transition);
        });

        it('when the run expectState does not match', async () => {
          const transition = everything();
          transition.run = { patch: { state: 'success' }, expectState: 'running' };
          await expectRejectedWithoutChange(transition);
        });

        it('when the run is unknown', async () => {
          const snapshot = await snapshotRun(store, runId, ['a', 'b']);
          const ghost = 'no-such-run';
          expect(
            await store.applyTransition(ghost, {
              instances: [{ record: instanceRecord(ghost, 'a', 'queued') }],
              outputs: [{ taskId: 'a', mapIndex: -1, value: 1 }],
              run: { patch: { state: 'running' } },
            }),
          ).toBe(false);
          expect(await store.getRun(ghost)).toBeUndefined();
          expect(await store.getTaskInstances(ghost)).toEqual([]);
          expect(await store.getOutputs(ghost, [{ taskId: 'a', mapIndex: -1 }])).toEqual(new Map());
          expect(await snapshotRun(store, runId, ['a', 'b'])).toEqual(snapshot);
        });
      });

      it('enqueues a join exactly once when its upstreams finish at the same time', async () => {
        const attempts = Array.from({ length: 16 }, (_, i) =>
          store.applyTransition(runId, {
            instances: [
              { record: instanceRecord(runId, `upstream_${i}`, 'success') },
              {
                record: instanceRecord(runId, 'join', 'queued', { reason: `enqueued by upstream_${i}` }),
                expectState: 'absent',
              },
            ],
          }),
        );
        const results = await Promise.all(attempts);
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect((await store.getTaskInstance(runId, 'join', -1))?.reason).toBe(`enqueued by upstream_${winner}`);
        // The losers wrote nothing, not even their own upstream instance.
        const stored = (await store.getTaskInstances(runId)).map((record) => record.taskId).sort();
        expect(stored).toEqual(['join', `upstream_${winner}`].sort());
      });

      it('lets exactly one of many concurrent compare-and-set writes on the same state win', async () => {
        await store.applyTransition(runId, { instances: [{ record: instanceRecord(runId, 't', 'scheduled') }] });
        const results = await Promise.all(
          Array.from({ length: 16 }, (_, i) =>
            store.applyTransition(runId, {
              instances: [
                { record: instanceRecord(runId, 't', 'queued', { worker: `w${i}` }), expectState: 'scheduled' },
              ],
              run: { patch: { reason: `by ${i}` } },
            }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect((await store.getTaskInstance(runId, 't', -1))?.worker).toBe(`w${winner}`);
        expect((await store.getRun(runId))?.reason).toBe(`by ${winner}`);
      });

      it('returns only the outputs that exist', async () => {
        await store.applyTransition(runId, {
          outputs: [
            { taskId: 'a', mapIndex: -1, value: { n: 1 } },
            { taskId: 'b', mapIndex: -1, value: null },
          ],
        });
        const outputs = await store.getOutputs(runId, [
          { taskId: 'a', mapIndex: -1 },
          { taskId: 'b', mapIndex: -1 },
          { taskId: 'missing', mapIndex: -1 },
          { taskId: 'a', mapIndex: 0 },
        ]);
        expect(outputs).toEqual(
          new Map<string, unknown>([
            [outputKey('a', -1), { n: 1 }],
            [outputKey('b', -1), null],
          ]),
        );
        expect(await store.getOutputs(runId, [])).toEqual(new Map());
        expect(await store.getOutputs('no-such-run', [{ taskId: 'a', mapIndex: -1 }])).toEqual(new Map());
      });

      it('stores no output for an undefined value, and an undefined value removes an earlier output', async () => {
        await store.applyTransition(runId, { outputs: [{ taskId: 'a', mapIndex: -1, value: undefined }] });
        expect(await store.getOutputs(runId, [{ taskId: 'a', mapIndex: -1 }])).toEqual(new Map());
        await store.applyTransition(runId, { outputs: [{ taskId: 'b', mapIndex: -1, value: 'first try' }] });
        await store.applyTransition(runId, { outputs: [{ taskId: 'b', mapIndex: -1, value: undefined }] });
        expect(await store.getOutputs(runId, [{ taskId: 'b', mapIndex: -1 }])).toEqual(new Map());
      });

      it('drops object properties whose value is undefined, as JSON does', async () => {
        await store.applyTransition(runId, {
          outputs: [{ taskId: 'a', mapIndex: -1, value: { kept: 1, gone: undefined } }],
        });
        const value = (await store.getOutputs(runId, [{ taskId: 'a', mapIndex: -1 }])).get(outputKey('a', -1));
        expect(value).toEqual({ kept: 1 });
        expect(Object.keys(value as object)).toEqual(['kept']);
      });

      it.each([
        ['a function', { fn: () => 1 }],
        ['a Date', { at: new Date(0) }],
        ['a Map', new Map([['k', 1]])],
        ['NaN', { score: Number.NaN }],
        ['a bigint', { big: 10n }],
        ['undefined inside an array', [1, undefined, 3]],
      ])('rejects an output holding %s with STORE_NOT_SERIALIZABLE and changes nothing', async (_, value) => {
        const snapshot = await snapshotRun(store, runId, ['a', 'bad']);
        await expect(
          store.applyTransition(runId, {
            instances: [{ record: instanceRecord(runId, 'a', 'success') }],
            outputs: [
              { taskId: 'a', mapIndex: -1, value: 'fine' },
              { taskId: 'bad', mapIndex: -1, value },
            ],
            run: { patch: { state: 'running' } },
          }),
        ).rejects.toMatchObject({ code: 'STORE_NOT_SERIALIZABLE' });
        expect(await snapshotRun(store, runId, ['a', 'bad'])).toEqual(snapshot);
      });

      it('rejects a cyclic output with STORE_NOT_SERIALIZABLE', async () => {
        const cyclic: Record<string, unknown> = { name: 'loop' };
        cyclic.self = cyclic;
        await expect(
          store.applyTransition(runId, { outputs: [{ taskId: 'a', mapIndex: -1, value: cyclic }] }),
        ).rejects.toMatchObject({ code: 'STORE_NOT_SERIALIZABLE' });
      });
    });

    describe('run cells (what a grid reads)', () => {
      const runId = 'cells';

      /** A run's cells, sorted as sortInstances sorts records. */
      async function cellsOf(...runIds: string[]): Promise<TaskInstanceCell[][]> {
        return (await store.getRunCells(runIds)).map((cells) =>
          [...cells].sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : a.mapIndex - b.mapIndex)),
        );
      }

      /** The cells the run's instance records imply: what getRunCells must always agree with. */
      async function cellsOfInstances(id: string): Promise<TaskInstanceCell[]> {
        return sortInstances(await store.getTaskInstances(id)).map(({ taskId, mapIndex, state, tryNumber }) => ({
          taskId,
          mapIndex,
          state,
          tryNumber,
        }));
      }

      beforeEach(async () => {
        await store.createRun(runRecord({ runId }));
      });

      it('gives each run its cells in the order asked, and none for a run without instances or unknown', async () => {
        await store.createRun(runRecord({ runId: 'empty', logicalDateMs: JAN_1 + DAY_MS }));
        await store.applyTransition(runId, {
          instances: [
            { record: instanceRecord(runId, 'extract', 'success', { startMs: 1, endMs: 2, worker: 'w1' }) },
            { record: instanceRecord(runId, 'load', 'queued', { tryNumber: 0 }) },
          ],
        });
        expect(await cellsOf('empty', runId, 'no-such-run')).toEqual([
          [],
          [
            { taskId: 'extract', mapIndex: -1, state: 'success', tryNumber: 1 },
            { taskId: 'load', mapIndex: -1, state: 'queued', tryNumber: 0 },
          ],
          [],
        ]);
        expect(await store.getRunCells([])).toEqual([]);
      });

      it('follows every transition that writes an instance, and keeps mapped instances apart', async () => {
        await store.applyTransition(runId, {
          instances: [0, 1, 2].map((mapIndex) => ({
            record: instanceRecord(runId, 'score', 'running', { mapIndex }),
            expectState: 'absent' as const,
          })),
        });
        await store.applyTransition(runId, {
          instances: [{ record: instanceRecord(runId, 'score', 'success', { mapIndex: 1 }), expectState: 'running' }],
        });
        expect((await cellsOf(runId))[0]!.map((cell) => `${cell.mapIndex}:${cell.state}`)).toEqual([
          '0:running',
          '1:success',
          '2:running',
        ]);
        // A transition whose guard fails writes no cell either.
        expect(
          await store.applyTransition(runId, {
            instances: [{ record: instanceRecord(runId, 'score', 'failed', { mapIndex: 0 }), expectState: 'queued' }],
          }),
        ).toBe(false);
        expect(await cellsOf(runId)).toEqual([await cellsOfInstances(runId)]);
      });

      it('follows a retry, a clear and a mark as their instance writes make them', async () => {
        const write = (record: TaskInstanceRecord, expectState?: TaskState) =>
          store.applyTransition(runId, { instances: [{ record, ...(expectState ? { expectState } : {}) }] });
        // First try fails and is retried: up_for_retry, then the second try runs and fails for good.
        await write(instanceRecord(runId, 't', 'running', { tryNumber: 1 }));
        await write(instanceRecord(runId, 't', 'up_for_retry', { tryNumber: 1, nextTryAtMs: 50 }), 'running');
        expect(await cellsOf(runId)).toEqual([[{ taskId: 't', mapIndex: -1, state: 'up_for_retry', tryNumber: 1 }]]);
        await write(instanceRecord(runId, 't', 'running', { tryNumber: 2 }), 'up_for_retry');
        await write(instanceRecord(runId, 't', 'failed', { tryNumber: 2 }), 'running');
        await store.applyTransition(runId, { run: { patch: { state: 'failed', endMs: 60 } } });
        expect(await cellsOf(runId)).toEqual([[{ taskId: 't', mapIndex: -1, state: 'failed', tryNumber: 2 }]]);
        // Cleared: back to none (its tries keep counting) and the run reopens.
        await store.applyTransition(runId, {
          instances: [
            {
              record: instanceRecord(runId, 't', 'none', { tryNumber: 2, triesBeforeClear: 2, reason: 'cleared' }),
              expectState: 'failed',
            },
          ],
          run: { patch: { state: 'running' } },
        });
        expect(await cellsOf(runId)).toEqual([[{ taskId: 't', mapIndex: -1, state: 'none', tryNumber: 2 }]]);
        // Marked success by hand.
        await write(instanceRecord(runId, 't', 'success', { tryNumber: 2, reason: 'marked' }), 'none');
        expect(await cellsOf(runId)).toEqual([[{ taskId: 't', mapIndex: -1, state: 'success', tryNumber: 2 }]]);
      });

      it('shows a change made after an earlier read (a read never keeps an old copy)', async () => {
        await store.createRun(runRecord({ runId: 'done', state: 'success', logicalDateMs: JAN_1 - DAY_MS }));
        await store.applyTransition('done', { instances: [{ record: instanceRecord('done', 'a', 'success') }] });
        await store.applyTransition(runId, { instances: [{ record: instanceRecord(runId, 'a', 'running') }] });
        expect((await cellsOf(runId, 'done')).map((cells) => cells[0]?.state)).toEqual(['running', 'success']);
        expect((await cellsOf(runId, 'done')).map((cells) => cells[0]?.state)).toEqual(['running', 'success']);
        await store.applyTransition(runId, { instances: [{ record: instanceRecord(runId, 'a', 'success') }] });
        await store.applyTransition('done', {
          instances: [{ record: instanceRecord('done', 'a', 'failed', { tryNumber: 3 }) }],
        });
        expect(await cellsOf(runId, 'done')).toEqual([
          [{ taskId: 'a', mapIndex: -1, state: 'success', tryNumber: 1 }],
          [{ taskId: 'a', mapIndex: -1, state: 'failed', tryNumber: 3 }],
        ]);
      });

      it('agrees with the instance records after any sequence of writes', async () => {
        const states: TaskState[] = ['none', 'scheduled', 'queued', 'running', 'success', 'failed', 'up_for_retry'];
        const write = fc.record({
          taskId: fc.constantFrom('a', 'b', 'c.d', 'e-f'),
          mapIndex: fc.integer({ min: -1, max: 3 }),
          state: fc.constantFrom(...states),
          tryNumber: fc.integer({ min: 0, max: 5 }),
          guarded: fc.boolean(),
        });
        let round = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.array(write, { minLength: 1, maxLength: 4 }), { maxLength: 8 }),
            async (steps) => {
              const id = `prop-${round++}`;
              await store.createRun(runRecord({ runId: id }));
              for (const step of steps) {
                const current = await store.getTaskInstances(id);
                await store.applyTransition(id, {
                  instances: step.map(({ taskId, mapIndex, state, tryNumber, guarded }) => {
                    const before = current.find((i) => i.taskId === taskId && i.mapIndex === mapIndex);
                    const record = instanceRecord(id, taskId, state, { mapIndex, tryNumber });
                    return guarded ? { record, expectState: before?.state ?? ('absent' as const) } : { record };
                  }),
                });
                expect(await cellsOf(id)).toEqual([await cellsOfInstances(id)]);
              }
            },
          ),
          { numRuns: 25 },
        );
      });

      it('goes with the run when retention prunes it', async () => {
        await store.createRun(runRecord({ runId: 'old', state: 'running', logicalDateMs: JAN_1 - 90 * DAY_MS }));
        await store.applyTransition('old', {
          instances: [{ record: instanceRecord('old', 'a', 'success') }],
          run: { patch: { state: 'success', endMs: JAN_1 - 90 * DAY_MS } },
        });
        expect((await cellsOf('old'))[0]).toHaveLength(1);
        expect(await store.pruneRuns({ endedBeforeMs: JAN_1 - DAY_MS, limit: 10 })).toHaveLength(1);
        expect(await cellsOf('old')).toEqual([[]]);
        // A run created again with the same id starts without cells.
        await store.createRun(runRecord({ runId: 'old', state: 'running', logicalDateMs: JAN_1 - 90 * DAY_MS }));
        expect(await cellsOf('old')).toEqual([[]]);
      });
    });

    describe('try history (every try of an instance)', () => {
      const runId = 'tries';
      const write = (record: TaskInstanceRecord, expectState?: TaskState) =>
        store.applyTransition(runId, { instances: [{ record, ...(expectState ? { expectState } : {}) }] });
      const brief = (tries: Awaited<ReturnType<StateStore['getTaskTries']>>) =>
        tries.map(({ tryNumber, state }) => `${tryNumber}:${state}`);

      beforeEach(async () => {
        await store.createRun(runRecord({ runId, state: 'running' }));
      });

      it('keeps each try through retries: state, times, duration, worker and error of each', async () => {
        await write(instanceRecord(runId, 't', 'queued', { tryNumber: 1, queuedMs: 5 }));
        expect(await store.getTaskTries(runId, 't', -1)).toEqual([{ tryNumber: 1, state: 'queued', queuedMs: 5 }]);
        await write(instanceRecord(runId, 't', 'running', { tryNumber: 1, queuedMs: 5, startMs: 10, worker: 'w1' }));
        await write(
          instanceRecord(runId, 't', 'up_for_retry', {
            tryNumber: 1,
            queuedMs: 5,
            startMs: 10,
            endMs: 25,
            worker: 'w1',
            nextTryAtMs: 40,
            reason: 'boom; try 2 in 15 ms',
            error: { message: 'boom', name: 'Error', code: 'E_BOOM', stack: 'Error: boom\n    at x' },
          }),
          'running',
        );
        // The next try overwrites the instance record; the first try stays as it ended.
        await write(instanceRecord(runId, 't', 'scheduled', { tryNumber: 2 }), 'up_for_retry');
        await write(instanceRecord(runId, 't', 'running', { tryNumber: 2, startMs: 40, worker: 'w2' }), 'scheduled');
        expect(await store.getTaskTries(runId, 't', -1)).toEqual([
          {
            tryNumber: 1,
            state: 'up_for_retry',
            queuedMs: 5,
            startMs: 10,
            endMs: 25,
            durationMs: 15,
            worker: 'w1',
            error: { message: 'boom', name: 'Error', code: 'E_BOOM' },
            reason: 'boom; try 2 in 15 ms',
          },
          { tryNumber: 2, state: 'running', startMs: 40, worker: 'w2' },
        ]);
        await write(
          instanceRecord(runId, 't', 'success', { tryNumber: 2, startMs: 40, endMs: 41, worker: 'w2' }),
          'running',
        );
        const tries = await store.getTaskTries(runId, 't', -1);
        expect(brief(tries)).toEqual(['1:up_for_retry', '2:success']);
        expect(tries[1]).toEqual({
          tryNumber: 2,
          state: 'success',
          startMs: 40,
          endMs: 41,
          durationMs: 1,
          worker: 'w2',
        });
        // Other instances (another map index, another task) have tries of their own; unknown ones have none.
        expect(await store.getTaskTries(runId, 't', 0)).toEqual([]);
        expect(await store.getTaskTries(runId, 'other', -1)).toEqual([]);
        expect(await store.getTaskTries('no-such-run', 't', -1)).toEqual([]);
      });

      it('keeps the earlier tries through a clear and the rerun, and counts on', async () => {
        await write(instanceRecord(runId, 't', 'running', { tryNumber: 1, startMs: 1 }));
        await write(
          instanceRecord(runId, 't', 'failed', { tryNumber: 1, startMs: 1, endMs: 2, error: { message: 'x' } }),
        );
        await store.applyTransition(runId, {
          instances: [
            {
              record: instanceRecord(runId, 't', 'none', { tryNumber: 1, triesBeforeClear: 1, reason: 'cleared' }),
              expectState: 'failed',
            },
          ],
        });
        // Cleared: the try that failed is still there; state none is not a try.
        expect(brief(await store.getTaskTries(runId, 't', -1))).toEqual(['1:failed']);
        await write(instanceRecord(runId, 't', 'running', { tryNumber: 2, triesBeforeClear: 1, startMs: 3 }), 'none');
        await write(instanceRecord(runId, 't', 'success', { tryNumber: 2, triesBeforeClear: 1, startMs: 3, endMs: 4 }));
        expect(brief(await store.getTaskTries(runId, 't', -1))).toEqual(['1:failed', '2:success']);
      });

      it('keeps how a try ended when it is marked later, and records a mapped parent (try 0) as no try', async () => {
        await write(instanceRecord(runId, 't', 'failed', { tryNumber: 1, startMs: 1, endMs: 2 }));
        await write(
          instanceRecord(runId, 't', 'success', { tryNumber: 1, reason: 'marked success by user' }),
          'failed',
        );
        expect(await store.getTaskTries(runId, 't', -1)).toEqual([
          { tryNumber: 1, state: 'failed', startMs: 1, endMs: 2, durationMs: 1 },
        ]);
        expect((await store.getTaskInstance(runId, 't', -1))?.state).toBe('success');
        await write(instanceRecord(runId, 'mapped', 'success', { tryNumber: 0 }));
        expect(await store.getTaskTries(runId, 'mapped', -1)).toEqual([]);
      });

      it('keeps at most the newest 100 tries of an instance, and cuts long error messages', async () => {
        const long = 'e'.repeat(5_000);
        for (let tryNumber = 1; tryNumber <= 103; tryNumber++) {
          await write(instanceRecord(runId, 't', 'up_for_retry', { tryNumber, error: { message: long } }));
        }
        const tries = await store.getTaskTries(runId, 't', -1);
        expect(tries.map((entry) => entry.tryNumber)).toEqual(Array.from({ length: 100 }, (_, i) => i + 4));
        expect(tries[0]!.error!.message.length).toBeLessThanOrEqual(500);
      });

      it('writes no try when the transition that would end it does not apply (guard failed, or a bad value)', async () => {
        await write(instanceRecord(runId, 't', 'running', { tryNumber: 1, startMs: 1 }));
        expect(await write(instanceRecord(runId, 't', 'failed', { tryNumber: 1, endMs: 2 }), 'queued')).toBe(false);
        await expect(
          store.applyTransition(runId, {
            instances: [{ record: instanceRecord(runId, 't', 'failed', { tryNumber: 1, endMs: 2 }) }],
            outputs: [{ taskId: 't', mapIndex: -1, value: { bad: () => 1 } }],
          }),
        ).rejects.toThrow();
        expect(await store.getTaskTries(runId, 't', -1)).toEqual([{ tryNumber: 1, state: 'running', startMs: 1 }]);
        expect((await store.getTaskInstance(runId, 't', -1))?.state).toBe('running');
      });

      it('are removed with their run by pruneRuns, and not before', async () => {
        await write(instanceRecord(runId, 't', 'up_for_retry', { tryNumber: 1 }));
        await write(instanceRecord(runId, 't', 'success', { tryNumber: 2 }));
        await store.applyTransition(runId, { run: { patch: { state: 'success', endMs: JAN_1 + 1 } } });
        expect(await store.pruneRuns({ endedBeforeMs: JAN_1 + 2, limit: 10, dryRun: true })).toHaveLength(1);
        expect(brief(await store.getTaskTries(runId, 't', -1))).toEqual(['1:up_for_retry', '2:success']);
        expect(await store.pruneRuns({ endedBeforeMs: JAN_1 + 2, limit: 10 })).toHaveLength(1);
        expect(await store.getTaskTries(runId, 't', -1)).toEqual([]);
        // A run created again under the same id starts with no tries.
        await store.createRun(runRecord({ runId, state: 'running' }));
        await write(instanceRecord(runId, 't', 'running', { tryNumber: 1 }));
        expect(brief(await store.getTaskTries(runId, 't', -1))).toEqual(['1:running']);
      });
    });

    describe('copies', () => {
      const runId = 'copies';

      beforeEach(async () => {
        await store.createRun(runRecord({ runId, conf: { nested: { list: [1, 2] } } }));
        await store.applyTransition(runId, {
          instances: [{ record: instanceRecord(runId, 't', 'failed', { error: { message: 'boom', code: 'E1' } }) }],
          outputs: [{ taskId: 't', mapIndex: -1, value: { rows: [{ id: 1 }] } }],
        });
      });

      it('returns runs that callers can mutate without changing the store', async () => {
        const run = (await store.getRun(runId))!;
        run.state = 'failed';
        (run.conf.nested as { list: number[] }).list.push(3);
        const listed = (await store.listRuns())[0]!;
        listed.conf.extra = true;
        const again = (await store.createRun(runRecord({ runId }))).run;
        again.dagId = 'other';
        expect(await store.getRun(runId)).toEqual(runRecord({ runId, conf: { nested: { list: [1, 2] } } }));
      });

      it('returns instances that callers can mutate without changing the store', async () => {
        const [listed] = await store.getTaskInstances(runId);
        listed!.state = 'success';
        listed!.error!.message = 'changed';
        const single = (await store.getTaskInstance(runId, 't', -1))!;
        single.tryNumber = 7;
        expect(await store.getTaskInstance(runId, 't', -1)).toEqual(
          instanceRecord(runId, 't', 'failed', { error: { message: 'boom', code: 'E1' } }),
        );
      });

      it('returns outputs that callers can mutate without changing the store', async () => {
        const key = outputKey('t', -1);
        const first = (await store.getOutputs(runId, [{ taskId: 't', mapIndex: -1 }])).get(key) as {
          rows: Array<{ id: number }>;
        };
        first.rows[0]!.id = 99;
        first.rows.push({ id: 2 });
        expect((await store.getOutputs(runId, [{ taskId: 't', mapIndex: -1 }])).get(key)).toEqual({
          rows: [{ id: 1 }],
        });
      });

      it('keeps its own copy of what callers wrote', async () => {
        const conf = { list: [1] };
        const run = runRecord({ runId: 'written', conf });
        await store.createRun(run);
        conf.list.push(2);
        run.state = 'failed';

        const record = instanceRecord('written', 't', 'running', { error: { message: 'm' } });
        const value = { nested: { n: 1 } };
        await store.applyTransition('written', {
          instances: [{ record }],
          outputs: [{ taskId: 't', mapIndex: -1, value }],
        });
        record.state = 'success';
        record.error!.message = 'changed';
        value.nested.n = 2;

        const payload = { items: ['x'] };
        await store.appendEvent('copies', 'made', payload, 1);
        payload.items.push('y');

        expect(await store.getRun('written')).toEqual(runRecord({ runId: 'written', conf: { list: [1] } }));
        expect(await store.getTaskInstance('written', 't', -1)).toEqual(
          instanceRecord('written', 't', 'running', { error: { message: 'm' } }),
        );
        expect((await store.getOutputs('written', [{ taskId: 't', mapIndex: -1 }])).get(outputKey('t', -1))).toEqual({
          nested: { n: 1 },
        });
        expect((await store.readEvents('copies'))[0]?.payload).toEqual({ items: ['x'] });
      });

      it('returns events that callers can mutate without changing the store', async () => {
        await store.appendEvent('copies', 'made', { items: ['x'] }, 1);
        const [event] = await store.readEvents('copies');
        (event!.payload as { items: string[] }).items.push('y');
        event!.type = 'changed';
        expect(await store.readEvents('copies')).toEqual([
          { id: event!.id, type: 'made', payload: { items: ['x'] }, atMs: 1 },
        ]);
      });
    });

    describe('pruning ended runs', () => {
      const CUTOFF = JAN_1 + 30 * DAY_MS;

      async function endedRun(runId: string, state: 'success' | 'failed', logicalDateMs: number, endMs?: number) {
        await store.createRun(runRecord({ runId, logicalDateMs, state: 'running', createdMs: logicalDateMs }));
        await store.applyTransition(runId, {
          instances: [{ record: instanceRecord(runId, 'load', state) }],
          outputs: [{ taskId: 'load', mapIndex: -1, value: { rows: 1 } }],
          run: { patch: { state, ...(endMs === undefined ? {} : { endMs }) } },
        });
        await store.acquireLease(`run:${runId}`, 'scheduler-a', 60_000, logicalDateMs);
      }

      it('removes old ended runs with their instances, outputs, lease and index entries, oldest first', async () => {
        await endedRun('b-old', 'success', JAN_1, JAN_1 + 1_000);
        await endedRun('a-old', 'failed', JAN_1, JAN_1 + 2_000);
        await endedRun('older', 'success', JAN_1 - DAY_MS, JAN_1 - DAY_MS + 1);
        await endedRun('recent', 'success', CUTOFF + 1, CUTOFF + 2);
        const pruned = await store.pruneRuns({ endedBeforeMs: CUTOFF, limit: 10 });
        expect(pruned).toEqual([
          { runId: 'older', dagId: 'etl', state: 'success', logicalDateMs: JAN_1 - DAY_MS, endMs: JAN_1 - DAY_MS + 1 },
          { runId: 'a-old', dagId: 'etl', state: 'failed', logicalDateMs: JAN_1, endMs: JAN_1 + 2_000 },
          { runId: 'b-old', dagId: 'etl', state: 'success', logicalDateMs: JAN_1, endMs: JAN_1 + 1_000 },
        ]);
        for (const { runId } of pruned) {
          expect(await store.getRun(runId)).toBeUndefined();
          expect(await store.getTaskInstances(runId)).toEqual([]);
          expect(await store.getOutputs(runId, [{ taskId: 'load', mapIndex: -1 }])).toEqual(new Map());
          expect(await store.getLeaseOwner(`run:${runId}`, JAN_1)).toBeUndefined();
        }
        expect((await store.listRuns()).map((r) => r.runId)).toEqual(['recent']);
        expect(await store.listRuns({ dagId: 'etl', states: ['success', 'failed'] })).toHaveLength(1);
        expect(await store.getLeaseOwner('run:recent', CUTOFF + 1)).toBe('scheduler-a');
      });

      it('never removes a queued or running run, nor one that ended after the cutoff', async () => {
        await store.createRun(runRecord({ runId: 'queued', logicalDateMs: JAN_1, createdMs: JAN_1 }));
        await store.createRun(runRecord({ runId: 'running', state: 'running', logicalDateMs: JAN_1, createdMs: 1 }));
        await endedRun('backfilled', 'success', JAN_1, CUTOFF + 5);
        expect(await store.pruneRuns({ endedBeforeMs: CUTOFF, limit: 10 })).toEqual([]);
        expect(await store.listRuns()).toHaveLength(3);
      });

      it('removes at most the batch size per call, and only the DAG asked for', async () => {
        for (let day = 0; day < 5; day++) {
          await endedRun(`etl-${day}`, 'success', JAN_1 + day * DAY_MS, JAN_1 + day * DAY_MS + 1);
        }
        await store.createRun(
          runRecord({ runId: 'other-0', dagId: 'other', state: 'success', logicalDateMs: JAN_1, endMs: JAN_1 + 1 }),
        );
        const first = await store.pruneRuns({ endedBeforeMs: CUTOFF, limit: 2, dagId: 'etl' });
        expect(first.map((r) => r.runId)).toEqual(['etl-0', 'etl-1']);
        const rest = await store.pruneRuns({ endedBeforeMs: CUTOFF, limit: 10, dagId: 'etl' });
        expect(rest.map((r) => r.runId)).toEqual(['etl-2', 'etl-3', 'etl-4']);
        expect((await store.listRuns()).map((r) => r.runId)).toEqual(['other-0']);
      });

      it('in a dry run lists what would go and removes nothing', async () => {
        await endedRun('old', 'success', JAN_1, JAN_1 + 1);
        const before = await snapshotRun(store, 'old', ['load']);
        const listed = await store.pruneRuns({ endedBeforeMs: CUTOFF, limit: 10, dryRun: true });
        expect(listed.map((r) => r.runId)).toEqual(['old']);
        expect(await snapshotRun(store, 'old', ['load'])).toEqual(before);
        expect(await store.getLeaseOwner('run:old', JAN_1)).toBe('scheduler-a');
      });
    });

    describe('events', () => {
      it('reads events back in append order with their type, payload and time', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push(await store.appendEvent('runs', `type_${i}`, { i }, 1_000 + i));
        expect(new Set(ids).size).toBe(5);
        expect(await store.readEvents('runs')).toEqual(
          ids.map((id, i) => ({ id, type: `type_${i}`, payload: { i }, atMs: 1_000 + i })),
        );
      });

      it('keeps append order even when event times go backwards', async () => {
        await store.appendEvent('s', 'late', null, 5_000);
        await store.appendEvent('s', 'early', null, 1_000);
        expect((await store.readEvents('s')).map((event) => event.type)).toEqual(['late', 'early']);
      });

      it('pages with afterId (exclusive) and limit', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) ids.push(await store.appendEvent('paged', 'tick', i, i));
        expect((await store.readEvents('paged', undefined, 3)).map((event) => event.payload)).toEqual([0, 1, 2]);
        expect((await store.readEvents('paged', ids[2])).map((event) => event.payload)).toEqual([3, 4, 5, 6]);
        expect((await store.readEvents('paged', ids[2], 2)).map((event) => event.payload)).toEqual([3, 4]);
        expect(await store.readEvents('paged', ids[6])).toEqual([]);

        const seen: unknown[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.readEvents('paged', after, 2);
          if (page.length === 0) break;
          seen.push(...page.map((event) => event.payload));
          after = page[page.length - 1]!.id;
        }
        expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
      });

      it('sees events appended after a page was read', async () => {
        const first = await store.appendEvent('live', 'a', 1, 1);
        expect(await store.readEvents('live', first)).toEqual([]);
        await store.appendEvent('live', 'b', 2, 2);
        expect((await store.readEvents('live', first)).map((event) => event.type)).toEqual(['b']);
      });

      it('keeps separate streams independent', async () => {
        await store.appendEvent('one', 'a', 1, 1);
        await store.appendEvent('two', 'x', 'x', 1);
        await store.appendEvent('one', 'b', 2, 2);
        expect((await store.readEvents('one')).map((event) => event.type)).toEqual(['a', 'b']);
        expect((await store.readEvents('two')).map((event) => event.type)).toEqual(['x']);
        expect(await store.readEvents('none')).toEqual([]);
      });

      it('reads an undefined payload back as null', async () => {
        await store.appendEvent('s', 'bare', undefined, 1);
        expect((await store.readEvents('s'))[0]?.payload).toBeNull();
      });

      it('rejects a payload that is not JSON with STORE_NOT_SERIALIZABLE and appends nothing', async () => {
        await expect(store.appendEvent('s', 'bad', { fn: () => 1 }, 1)).rejects.toMatchObject({
          code: 'STORE_NOT_SERIALIZABLE',
        });
        expect(await store.readEvents('s')).toEqual([]);
      });
    });

    describe('stream trimming and cursors', () => {
      it('trims a stream through an id, inclusive, and keeps later events and other streams', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push(await store.appendEvent('event:sales', 'event', { i }, i));
        await store.appendEvent('event:other', 'event', {}, 0);
        expect(await store.trimEvents('event:sales', ids[2]!)).toBe(3);
        expect((await store.readEvents('event:sales')).map((e) => e.id)).toEqual(ids.slice(3));
        expect(await store.readEvents('event:other')).toHaveLength(1);
        expect(await store.trimEvents('event:sales', ids[2]!)).toBe(0);
        expect(await store.trimEvents('no-such-stream', ids[4]!)).toBe(0);
        // Ids keep increasing after a trim: a reader's cursor stays meaningful.
        const next = await store.appendEvent('event:sales', 'event', { i: 5 }, 5);
        expect((await store.readEvents('event:sales', ids[4])).map((e) => e.id)).toEqual([next]);
        expect(await store.trimEvents('event:sales', next)).toBe(3);
        const after = await store.appendEvent('event:sales', 'event', { i: 6 }, 6);
        expect((await store.readEvents('event:sales', next)).map((e) => e.id)).toEqual([after]);
      });

      it('persists cursors that only move forward', async () => {
        const first = await store.appendEvent('event:sales', 'event', {}, 1);
        const second = await store.appendEvent('event:sales', 'event', {}, 2);
        expect(await store.getCursor('event:sales')).toBeUndefined();
        await store.advanceCursor('event:sales', second);
        await store.advanceCursor('event:sales', first);
        expect(await store.getCursor('event:sales')).toBe(second);
        expect(await store.getCursor('event:other')).toBeUndefined();
        const third = await store.appendEvent('event:sales', 'event', {}, 3);
        await Promise.all([store.advanceCursor('event:sales', third), store.advanceCursor('event:sales', first)]);
        expect(await store.getCursor('event:sales')).toBe(third);
      });
    });

    describe('leases', () => {
      it('grants a free lease and reports its owner until it expires', async () => {
        expect(await store.acquireLease('scheduler', 'a', 1_000, 10_000)).toBe(true);
        expect(await store.getLeaseOwner('scheduler', 10_000)).toBe('a');
        expect(await store.getLeaseOwner('scheduler', 10_999)).toBe('a');
        expect(await store.getLeaseOwner('scheduler', 11_000)).toBeUndefined();
        expect(await store.getLeaseOwner('unknown', 10_000)).toBeUndefined();
      });

      it('refuses another owner until the lease expires at the injected time', async () => {
        await store.acquireLease('scheduler', 'a', 1_000, 10_000);
        expect(await store.acquireLease('scheduler', 'b', 1_000, 10_500)).toBe(false);
        expect(await store.acquireLease('scheduler', 'b', 1_000, 10_999)).toBe(false);
        expect(await store.getLeaseOwner('scheduler', 10_999)).toBe('a');
        expect(await store.acquireLease('scheduler', 'b', 1_000, 11_000)).toBe(true);
        expect(await store.getLeaseOwner('scheduler', 11_000)).toBe('b');
        expect(await store.acquireLease('scheduler', 'a', 1_000, 11_500)).toBe(false);
      });

      it('tells when the holder last renewed a lease and when it lapses, while it is held', async () => {
        await store.acquireLease('scheduler', 'a', 1_000, 10_000);
        expect(await store.acquireLease('scheduler', 'a', 1_000, 10_400)).toBe(true);
        expect(await store.getLease('scheduler', 10_500)).toEqual({ owner: 'a', renewedMs: 10_400, expiresMs: 11_400 });
        expect(await store.getLease('scheduler', 11_400)).toBeUndefined();
        expect(await store.getLease('unknown', 10_500)).toBeUndefined();
      });

      it('lets the same owner renew, extending the expiry', async () => {
        await store.acquireLease('scheduler', 'a', 1_000, 10_000);
        expect(await store.acquireLease('scheduler', 'a', 1_000, 10_800)).toBe(true);
        expect(await store.acquireLease('scheduler', 'b', 1_000, 11_500)).toBe(false);
        expect(await store.getLeaseOwner('scheduler', 11_799)).toBe('a');
        expect(await store.acquireLease('scheduler', 'b', 1_000, 11_800)).toBe(true);
      });

      it('releases only for the owner', async () => {
        await store.acquireLease('scheduler', 'a', 1_000, 10_000);
        expect(await store.releaseLease('scheduler', 'b')).toBe(false);
        expect(await store.getLeaseOwner('scheduler', 10_000)).toBe('a');
        expect(await store.acquireLease('scheduler', 'b', 1_000, 10_001)).toBe(false);
        expect(await store.releaseLease('scheduler', 'a')).toBe(true);
        expect(await store.getLeaseOwner('scheduler', 10_002)).toBeUndefined();
        expect(await store.acquireLease('scheduler', 'b', 1_000, 10_002)).toBe(true);
        expect(await store.releaseLease('scheduler', 'a')).toBe(false);
        expect(await store.releaseLease('never-taken', 'a')).toBe(false);
      });

      it('keeps leases of different names apart', async () => {
        expect(await store.acquireLease('one', 'a', 1_000, 0)).toBe(true);
        expect(await store.acquireLease('two', 'b', 1_000, 0)).toBe(true);
        expect(await store.getLeaseOwner('one', 1)).toBe('a');
        expect(await store.getLeaseOwner('two', 1)).toBe('b');
      });

      it('grants a contended lease to exactly one of many concurrent owners', async () => {
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) => store.acquireLease('contended', `owner_${i}`, 1_000, 0)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.getLeaseOwner('contended', 1)).toBe(`owner_${results.indexOf(true)}`);
      });
    });

    describe('pause flags', () => {
      it('starts unpaused and persists pause and unpause per DAG', async () => {
        expect(await store.isDagPaused('etl')).toBe(false);
        await store.setDagPaused('etl', true);
        await store.setDagPaused('etl', true);
        expect(await store.isDagPaused('etl')).toBe(true);
        expect(await store.isDagPaused('ml')).toBe(false);
        await store.setDagPaused('etl', false);
        expect(await store.isDagPaused('etl')).toBe(false);
        await store.setDagPaused('never-paused', false);
        expect(await store.isDagPaused('never-paused')).toBe(false);
      });

      it('stores a DAG seen for the first time paused when asked, and never re-pauses it once known', async () => {
        const added = await store.registerDags([
          { dagId: 'fresh', pausedOnCreation: true },
          { dagId: 'eager', pausedOnCreation: false },
        ]);
        expect(added).toEqual(['fresh', 'eager']);
        expect(await store.isDagPaused('fresh')).toBe(true);
        expect(await store.isDagPaused('eager')).toBe(false);
        await store.setDagPaused('fresh', false);
        expect(await store.registerDags([{ dagId: 'fresh', pausedOnCreation: true }])).toEqual([]);
        expect(await store.isDagPaused('fresh')).toBe(false);
      });

      it('keeps an explicit pause or unpause made before a scheduler first saw the DAG', async () => {
        await store.setDagPaused('unpaused_first', false);
        await store.setDagPaused('paused_first', true);
        expect(
          await store.registerDags([
            { dagId: 'unpaused_first', pausedOnCreation: true },
            { dagId: 'paused_first', pausedOnCreation: false },
          ]),
        ).toEqual([]);
        expect(await store.isDagPaused('unpaused_first')).toBe(false);
        expect(await store.isDagPaused('paused_first')).toBe(true);
      });

      it('does not pause a DAG that already has runs (history from before DAGs were recorded)', async () => {
        await store.createRun(runRecord({ runId: 'old__etl', dagId: 'etl' }));
        expect(await store.registerDags([{ dagId: 'etl', pausedOnCreation: true }])).toEqual(['etl']);
        expect(await store.isDagPaused('etl')).toBe(false);
        expect(await store.registerDags([])).toEqual([]);
      });
    });

    describe('values round-trip', () => {
      it.each(Object.entries(ROUND_TRIP_VALUES))(
        'keeps %s values in run conf, outputs and events',
        async (_, value) => {
          const conf = { value };
          await store.createRun(runRecord({ runId: 'values', conf }));
          await store.applyTransition('values', { outputs: [{ taskId: 'out', mapIndex: -1, value }] });
          await store.appendEvent('values', 'value', value, 1);
          expect((await store.getRun('values'))?.conf).toEqual(conf);
          expect(
            (await store.getOutputs('values', [{ taskId: 'out', mapIndex: -1 }])).get(outputKey('out', -1)),
          ).toEqual(value);
          expect((await store.readEvents('values'))[0]?.payload).toEqual(value);
        },
      );

      it('keeps top-level scalars, null and arrays as outputs', async () => {
        await store.createRun(runRecord({ runId: 'scalars' }));
        const values: unknown[] = [0, -7.5, 'text', '', true, false, null, [], [1, 'two', null]];
        await store.applyTransition('scalars', {
          outputs: values.map((value, mapIndex) => ({ taskId: 'v', mapIndex, value })),
        });
        const outputs = await store.getOutputs(
          'scalars',
          values.map((_, mapIndex) => ({ taskId: 'v', mapIndex })),
        );
        expect(values.map((_, mapIndex) => outputs.get(outputKey('v', mapIndex)))).toEqual(values);
        expect(outputs.size).toBe(values.length);
      });

      it('keeps task errors and optional instance fields', async () => {
        await store.createRun(runRecord({ runId: 'errors' }));
        const record = instanceRecord('errors', 'ünïcode-task.v2', 'failed', {
          mapIndex: 3,
          tryNumber: 4,
          reason: 'attempt 4 of 4 failed — giving up',
          queuedMs: 1,
          startMs: 2,
          endMs: 3,
          nextTryAtMs: 4,
          worker: 'host-1:pid-42',
          error: { message: 'line 1\nline 2 ✗', name: 'TypeError', code: 'E_TYPE', retryable: false, stack: 'at x' },
        });
        await store.applyTransition('errors', { instances: [{ record, expectState: 'absent' }] });
        expect(await store.getTaskInstance('errors', 'ünïcode-task.v2', 3)).toEqual(record);
      });

      it('hands back any JSON value as JSON would', async () => {
        await store.createRun(runRecord({ runId: 'json' }));
        let n = 0;
        await fc.assert(
          fc.asyncProperty(fc.jsonValue(), async (value) => {
            const mapIndex = n++;
            await store.applyTransition('json', { outputs: [{ taskId: 'j', mapIndex, value }] });
            const read = await store.getOutputs('json', [{ taskId: 'j', mapIndex }]);
            expect(read.get(outputKey('j', mapIndex))).toEqual(JSON.parse(JSON.stringify(value)));
          }),
          { numRuns: 60 },
        );
      });
    });
  });
}
