// Cadence and FolderReloader: work done every so often inside passes that come far more often.
import { describe, expect, it } from 'vitest';
import { Cadence } from '../../src/daemon/cadence.js';
import { FolderReloader } from '../../src/daemon/folder-reloader.js';
import { START } from './helpers.js';

describe('Cadence', () => {
  it('is due at once, then again only once the period has passed', () => {
    const cadence = new Cadence(1_000);
    expect([START, START + 999, START + 1_000, START + 1_500, START + 2_000].map((t) => cadence.due(t))).toEqual([
      true,
      false,
      true,
      false,
      true,
    ]);
  });
});

describe('FolderReloader', () => {
  it('reloads at the first pass and then every reloadMs, and does nothing without a reload', async () => {
    let reloads = 0;
    const reloader = new FolderReloader({ reload: async () => void reloads++, everyMs: 2_000 });
    for (let t = 0; t <= 5_000; t += 250) await reloader.reloadIfDue(START + t);
    expect(reloads).toBe(3);
    await new FolderReloader({ reload: undefined, everyMs: 0 }).reloadIfDue(START);
  });
});
