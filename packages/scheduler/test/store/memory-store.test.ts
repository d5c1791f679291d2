import { describe, expect, it } from 'vitest';
import { toStoredJson } from '../../src/store/json-value.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import { stateStoreContract } from '../contracts/state-store.contract.js';

stateStoreContract('memory', async () => new MemoryStateStore());

describe('MemoryStateStore', () => {
  it('refuses calls after close with STORE_CLOSED', async () => {
    const store = new MemoryStateStore();
    await store.close();
    await expect(store.getRun('r')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });

  it('refuses a lease with a non-positive ttl', async () => {
    const store = new MemoryStateStore();
    await expect(store.acquireLease('l', 'a', 0, 0)).rejects.toMatchObject({ code: 'STORE_BAD_LEASE' });
  });

  it('refuses an instance write that names another run', async () => {
    const store = new MemoryStateStore();
    await store.createRun({
      runId: 'r1',
      dagId: 'd',
      kind: 'manual',
      state: 'queued',
      logicalDateMs: 0,
      conf: {},
      createdMs: 0,
    });
    await expect(
      store.applyTransition('r1', {
        instances: [{ record: { runId: 'r2', taskId: 't', mapIndex: -1, state: 'queued', tryNumber: 0 } }],
      }),
    ).rejects.toMatchObject({ code: 'STORE_BAD_WRITE' });
    expect(await store.getTaskInstances('r1')).toEqual([]);
  });
});

describe('toStoredJson', () => {
  it.each([
    [{ a: { b: [1, () => 2] } }, '$.a.b[1] is a function'],
    [{ 'odd key': Number.POSITIVE_INFINITY }, '$["odd key"] is Infinity'],
    [{ when: new Date(0) }, '$.when is an instance of Date'],
    [{ error: new TypeError('x') }, '$.error is an instance of TypeError'],
    [undefined, '$ is undefined'],
    [Symbol('s'), '$ is a symbol'],
  ])('names the offending path of %o', (value, fragment) => {
    expect(() => toStoredJson(value, 'output of task t#-1')).toThrow(fragment);
  });

  it('says whose value it was', () => {
    expect(() => toStoredJson({ f: () => 1 }, "output of task 'predict#-1'")).toThrow(
      /^output of task 'predict#-1' is not JSON-serializable/,
    );
  });

  it('accepts shared (non-cyclic) references and objects without a prototype', () => {
    const shared = { n: 1 };
    const bare = Object.assign(Object.create(null) as object, { k: 'v' });
    expect(JSON.parse(toStoredJson({ a: shared, b: shared, bare }, 'value'))).toEqual({
      a: { n: 1 },
      b: { n: 1 },
      bare: { k: 'v' },
    });
  });
});
