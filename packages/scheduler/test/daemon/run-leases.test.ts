// Run leases: one driver per run, renewed while it drives, released so another may adopt at once.
import { describe, expect, it } from 'vitest';
import { RunLeases, runLease } from '../../src/daemon/run-leases.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import { START } from './helpers.js';

describe('RunLeases', () => {
  it('gives a run one driver until its lease lapses, renews and releases', async () => {
    const store = new MemoryStateStore();
    const a = new RunLeases({ store, schedulerId: 'a', ttlMs: 1_000 });
    const b = new RunLeases({ store, schedulerId: 'b', ttlMs: 1_000 });
    expect(await a.acquire('r1', START)).toBe(true);
    expect(await b.acquire('r1', START + 500)).toBe(false);
    await a.renew(['r1'], START + 900);
    expect(await b.acquire('r1', START + 1_500)).toBe(false);
    expect(await b.ownerOf('r1', START + 1_500)).toBe('a');
    await a.release(['r1']);
    expect(await b.acquire('r1', START + 1_600)).toBe(true);
    expect(await store.getLeaseOwner(runLease('r1'), START + 1_600)).toBe('b');
  });
});

describe('RunLeases after a run ends', () => {
  it('releases the lease of a run it no longer drives at the next renewal, before the lease would lapse', async () => {
    const store = new MemoryStateStore();
    const a = new RunLeases({ store, schedulerId: 'a', ttlMs: 60_000 });
    expect(await a.acquire('ended', START)).toBe(true);
    expect(await a.acquire('driven', START)).toBe(true);
    await a.renew(['driven'], START + 1_000);
    expect(await store.getLeaseOwner(runLease('ended'), START + 1_000)).toBeUndefined();
    expect(await store.getLeaseOwner(runLease('driven'), START + 1_000)).toBe('a');
  });
});
