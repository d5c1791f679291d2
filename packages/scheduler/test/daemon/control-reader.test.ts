// Control requests: a cancel request reaches the coordinator once; other requests are ignored.
import { describe, expect, it } from 'vitest';
import { CONTROL_STREAM, ControlReader } from '../../src/daemon/control-reader.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import { recordingLog, START } from './helpers.js';

describe('ControlReader', () => {
  it('cancels each requested run once, and logs only the runs it drove', async () => {
    const store = new MemoryStateStore();
    const cancelled: Array<[string, string]> = [];
    const coordinator = {
      async cancelRun(runId: string, reason = 'cancelled by user'): Promise<boolean> {
        cancelled.push([runId, reason]);
        return runId === 'mine';
      },
    };
    const { events, log } = recordingLog();
    const reader = new ControlReader({ store, coordinator, log });
    await store.appendEvent(CONTROL_STREAM, 'cancel', { runId: 'mine', reason: 'enough' }, START);
    await store.appendEvent(CONTROL_STREAM, 'cancel', { runId: 'theirs' }, START);
    await store.appendEvent(CONTROL_STREAM, 'pause', { runId: 'mine' }, START);
    await store.appendEvent(CONTROL_STREAM, 'cancel', null, START);
    await reader.read();
    await reader.read();
    expect(cancelled).toEqual([
      ['mine', 'enough'],
      ['theirs', 'cancelled by user'],
    ]);
    expect(events).toEqual([{ event: 'run_cancelled', runId: 'mine' }]);
  });
});
