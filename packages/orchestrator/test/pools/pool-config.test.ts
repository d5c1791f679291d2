// The pools document: YAML files and definePools share one schema; every problem names file:line:column.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { definePools, loadPoolsFile, PoolConfigError, parsePoolsYaml } from '../../src/pools/pool-config.js';
import { slotNeed, workerNeed } from '../../src/pools/worker-pool.js';

const GOOD = `# pools of the example deployment
pools:
  cpu:
    capacity: { cpu: 4, memoryMb: 8192 }
    labels: { zone: a }
    minWorkers: 1
    maxWorkers: 4
  gpu:
    capacity: { cpu: 8, memoryMb: 32768, gpu: 1, licenses: 2 }
    maxWorkers: 2
slotPools:
  db: 3
  api: { slots: 1 }
`;

function issuesOf(text: string): string[] {
  try {
    parsePoolsYaml(text, 'pools.yaml');
  } catch (error) {
    if (error instanceof PoolConfigError) {
      return error.issues.map(
        (issue) => `${issue.location?.line}:${issue.location?.column} ${issue.code} ${issue.field}: ${issue.message}`,
      );
    }
    throw error;
  }
  return [];
}

describe('pools file', () => {
  it('reads pools with per-worker capacity, labels and worker bounds, and slot pools', () => {
    const config = parsePoolsYaml(GOOD, 'pools.yaml');
    expect(config.pools).toEqual([
      {
        name: 'cpu',
        capacity: { cpu: 4, memoryMb: 8192, gpu: 0, custom: {} },
        labels: { zone: 'a' },
        minWorkers: 1,
        maxWorkers: 4,
      },
      {
        name: 'gpu',
        capacity: { cpu: 8, memoryMb: 32768, gpu: 1, custom: { licenses: 2 } },
        labels: {},
        minWorkers: 1,
        maxWorkers: 2,
      },
    ]);
    expect(config.slotPools).toEqual([
      { name: 'db', slots: 3 },
      { name: 'api', slots: 1 },
    ]);
  });

  it.each([
    [
      'an unknown pool field',
      'pools:\n  cpu:\n    capacity: { cpu: 4 }\n    maxWorker: 3\n',
      '4:5 UNKNOWN_FIELD pools.cpu.maxWorker',
    ],
    [
      'a missing capacity',
      'pools:\n  cpu:\n    maxWorkers: 3\n',
      "2:3 MISSING_FIELD pools.cpu.capacity: 'capacity' is required",
    ],
    [
      'a negative capacity',
      'pools:\n  cpu:\n    capacity: { cpu: -1 }\n',
      '3:22 INVALID_VALUE pools.cpu.capacity.cpu: cpu must be a finite number >= 0',
    ],
    [
      'a near miss of memoryMb',
      'pools:\n  cpu:\n    capacity: { cpu: 1, memory: 512 }\n',
      "3:25 INVALID_VALUE pools.cpu.capacity.memory: unknown resource 'memory'; did you mean 'memoryMb'?",
    ],
    [
      'max below min',
      'pools:\n  cpu:\n    capacity: { cpu: 1 }\n    minWorkers: 3\n    maxWorkers: 2\n',
      '5:17 INVALID_VALUE pools.cpu.maxWorkers: maxWorkers (2) is below minWorkers (3)',
    ],
    ['a pool name with a colon', 'pools:\n  "a:b":\n    capacity: { cpu: 1 }\n', '2:3 INVALID_NAME pools["a:b"]'],
    ['no pools', 'pools: {}\n', '1:8 INVALID_VALUE pools: declare at least one pool'],
    [
      'a zero-slot pool',
      'pools:\n  cpu:\n    capacity: { cpu: 1 }\nslotPools:\n  db: 0\n',
      '5:7 INVALID_VALUE slotPools.db',
    ],
    [
      'a slot pool that is also a per-worker counter',
      'pools:\n  cpu:\n    capacity: { cpu: 1, db: 1 }\nslotPools:\n  db: 2\n',
      "5:7 INVALID_VALUE slotPools.db: slot pool 'db' is also a per-worker counter of pool 'cpu'",
    ],
    [
      'a duplicate key',
      'pools:\n  cpu:\n    capacity: { cpu: 1 }\n  cpu:\n    capacity: { cpu: 2 }\n',
      '4:3 DUPLICATE_KEY',
    ],
    [
      'an unknown top-level field',
      'pool:\n  cpu: {}\n',
      "1:1 UNKNOWN_FIELD pool: unknown field 'pool' (expected pools and slotPools)",
    ],
  ])('reports %s with its line and column', (_name, text, expected) => {
    expect(issuesOf(text)).toContainEqual(expect.stringContaining(expected));
  });

  it('prints every issue as file:line:col: CODE field: message', () => {
    expect(() => parsePoolsYaml('pools:\n  cpu:\n    capacity: { cpu: x }\n', 'conf/pools.yaml')).toThrow(
      /^conf\/pools\.yaml:3:22: INVALID_TYPE pools\.cpu\.capacity\.cpu: cpu must be a number/,
    );
  });

  it('loads a file from disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'batuta-pools-'));
    const file = join(dir, 'pools.yaml');
    writeFileSync(file, `\uFEFF${GOOD}`);
    expect((await loadPoolsFile(file)).pools.map((pool) => pool.name)).toEqual(['cpu', 'gpu']);
    await expect(loadPoolsFile(join(dir, 'missing.yaml'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});

describe('definePools', () => {
  it('declares pools in code with the same defaults as the file', () => {
    const config = definePools({ pools: { cpu: { capacity: { cpu: 2 } } }, slotPools: { db: { slots: 2 } } });
    expect(config.pools[0]).toEqual({
      name: 'cpu',
      capacity: { cpu: 2, memoryMb: 0, gpu: 0, custom: {} },
      labels: {},
      minWorkers: 1,
      maxWorkers: 1,
    });
    expect(config.slotPools).toEqual([{ name: 'db', slots: 2 }]);
  });

  it('throws the same issues as the file, without locations', () => {
    expect(() => definePools({ pools: { cpu: { capacity: { cpu: 1 }, minWorkers: 2, maxWorkers: 1 } } })).toThrow(
      'INVALID_VALUE pools.cpu.maxWorkers: maxWorkers (1) is below minWorkers (2)',
    );
  });
});

describe('slot counters', () => {
  const need = { cpu: 1, memoryMb: 0, gpu: 0, custom: { db: 1, licenses: 2 } };
  it('splits a need into what a worker offers and what slot pools cap', () => {
    expect(workerNeed(need, new Set(['db']))).toEqual({ cpu: 1, memoryMb: 0, gpu: 0, custom: { licenses: 2 } });
    expect(slotNeed(need, new Set(['db']))).toEqual({ db: 1 });
    expect(slotNeed(need, new Set())).toBeUndefined();
  });
});
