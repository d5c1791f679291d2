// The peer directory on a memory store: who is alive (announced, lease held), how the DAGs split among
// the live schedulers, and that schedulers long gone are forgotten instead of asked about forever.
import { describe, expect, it } from 'vitest';
import { PeerDirectory, SCHEDULERS_STREAM, schedulerLease } from '../../src/daemon/peer-directory.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import { START } from './helpers.js';

const TTL = 30_000;

function directory(store: MemoryStateStore, schedulerId: string): PeerDirectory {
  return new PeerDirectory({ store, schedulerId, leaseTtlMs: TTL, shareGraceMs: 500 });
}

async function join(peers: PeerDirectory, nowMs: number): Promise<void> {
  await peers.announce(nowMs);
  await peers.heartbeat(nowMs);
}

describe('PeerDirectory', () => {
  it('sees itself alone before any look, and every announced scheduler whose lease is held after one', async () => {
    const store = new MemoryStateStore();
    const [a, b] = [directory(store, 'a'), directory(store, 'b')];
    expect(a.liveSchedulers()).toEqual(['a']);
    expect(a.isMine('anything')).toBe(true);
    await join(b, START);
    await join(a, START);
    await b.refresh(START);
    expect(a.liveSchedulers()).toEqual(['a', 'b']);
    expect(b.liveSchedulers()).toEqual(['a', 'b']);
    expect(a.shares()).toEqual({ schedulerId: 'a', live: ['a', 'b'], graceMs: 500 });
  });

  it('splits the DAGs so that each falls in exactly one live share', async () => {
    const store = new MemoryStateStore();
    const peers = ['a', 'b', 'c'].map((id) => directory(store, id));
    for (const p of peers) await join(p, START);
    for (const p of peers) await p.refresh(START);
    const dagIds = Array.from({ length: 90 }, (_, i) => `dag_${i}`);
    for (const dagId of dagIds) expect(peers.filter((p) => p.isMine(dagId))).toHaveLength(1);
    for (const p of peers) expect(dagIds.filter((dagId) => p.isMine(dagId)).length).toBeGreaterThan(10);
  });

  it('drops a scheduler that left at once, and one that died once its lease lapsed', async () => {
    const store = new MemoryStateStore();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => directory(store, id)) as [
      PeerDirectory,
      PeerDirectory,
      PeerDirectory,
    ];
    for (const p of [a, b, c]) await join(p, START);
    await b.leave([], START);
    await a.refresh(START + 1);
    expect(a.liveSchedulers()).toEqual(['a', 'c']);
    await a.heartbeat(START + TTL - 1); // c, killed, renews nothing
    expect(a.liveSchedulers()).toEqual(['a', 'c']);
    await a.heartbeat(START + TTL + 1);
    expect(a.liveSchedulers()).toEqual(['a']);
    expect(await store.getLeaseOwner(schedulerLease('a'), START + TTL + 1)).toBe('a');
  });

  it('forgets schedulers gone for ten lease lifetimes, however many have come and gone', async () => {
    const store = new MemoryStateStore();
    const a = directory(store, 'a');
    await join(a, START);
    for (let i = 0; i < 50; i++) {
      await store.appendEvent(SCHEDULERS_STREAM, 'scheduler-started', { schedulerId: `gone_${i}` }, START);
    }
    await a.heartbeat(START + 1);
    expect(a.knownCount).toBe(51);
    await a.heartbeat(START + 10 * TTL + 2);
    expect(a.knownCount).toBe(1);
    expect(a.liveSchedulers()).toEqual(['a']);
  });

  it('reads an announcement stream longer than one page', async () => {
    const store = new MemoryStateStore();
    for (let i = 0; i < 1_500; i++) {
      await store.appendEvent(SCHEDULERS_STREAM, 'scheduler-started', { schedulerId: `s_${i}` }, START);
    }
    const late = directory(store, 'late');
    await join(late, START);
    expect(late.knownCount).toBe(1_501);
  });

  it("hands a stopping peer's released runs to the others at their next read, and drops it from the shares", async () => {
    const store = new MemoryStateStore();
    const [a, b] = ['a', 'b'].map((id) => directory(store, id)) as [PeerDirectory, PeerDirectory];
    for (const p of [a, b]) await join(p, START);
    await a.refresh(START);
    expect(a.liveSchedulers()).toEqual(['a', 'b']);
    await b.leave(['run-1', 'run-2'], START + 1);
    await a.readAnnouncements(START + 2);
    expect(a.takeReleased()).toEqual(['run-1', 'run-2']);
    expect(a.takeReleased()).toEqual([]);
    expect(a.liveSchedulers()).toEqual(['a']);
  });
});
