// Every LogStore adapter against the one contract, plus what only one adapter does: Redis keys expire
// with the retention, files are one per attempt.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useRedisServer } from '@batuta/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FileLogStore } from '../../src/logs/file-log-store.js';
import { MemoryLogStore } from '../../src/logs/memory-log-store.js';
import { RedisLogStore } from '../../src/logs/redis-log-store.js';
import { logStoreContract } from '../contracts/log-store.contract.js';

const redis = useRedisServer();
const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

logStoreContract('memory', async (caps) => new MemoryLogStore(caps ? { caps } : {}));
logStoreContract(
  'redis',
  async (caps) => new RedisLogStore({ url: redis.url, namespace: redis.namespace('logs'), ...(caps ? { caps } : {}) }),
);
logStoreContract('file', async (caps) => {
  const folder = await mkdtemp(join(tmpdir(), 'batuta-logs-'));
  folders.push(folder);
  return new FileLogStore({ folder, ...(caps ? { caps } : {}) });
});

const attempt = { runId: 'r1', taskId: 't', mapIndex: -1, tryNumber: 1 };

describe('RedisLogStore', () => {
  it('gives the run meta and the attempt stream the retention as time to live', async () => {
    const namespace = redis.namespace('ttl');
    const store = new RedisLogStore({ url: redis.url, namespace, ttlMs: 3_600_000 });
    await store.append(attempt, [{ atMs: 1, stream: 'stdout', text: 'hello' }]);
    const meta = await redis.redis.pttl(store.metaKey('r1'));
    const stream = await redis.redis.pttl(store.streamKey('r1', 't#-1#1'));
    expect(meta).toBeGreaterThan(3_500_000);
    expect(stream).toBeGreaterThan(3_500_000);
    await store.close();
  });

  it('keeps logs without a retention for ever, under batuta:<namespace>:log:', async () => {
    const namespace = redis.namespace('keep');
    const store = new RedisLogStore({ url: redis.url, namespace });
    await store.append(attempt, [{ atMs: 1, stream: 'stdout', text: 'hello' }]);
    expect(await redis.redis.pttl(store.metaKey('r1'))).toBe(-1);
    expect((await redis.redis.keys(`batuta:${namespace}:*`)).sort()).toEqual([
      `batuta:${namespace}:log:r1:meta`,
      `batuta:${namespace}:log:r1:t#-1#1`,
    ]);
    await store.close();
  });

  it('refuses a cursor it did not hand out', async () => {
    const store = new RedisLogStore({ url: redis.url, namespace: redis.namespace('cursor') });
    await expect(store.read(attempt, { after: 'nonsense' })).rejects.toMatchObject({ code: 'LOG_BAD_CURSOR' });
    await store.close();
  });
});

describe('FileLogStore', () => {
  it('writes one JSON-lines file per attempt under its folder', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'batuta-logs-'));
    folders.push(folder);
    const store = new FileLogStore({ folder });
    await store.append({ ...attempt, runId: 'manual__a:b' }, [{ atMs: 5, stream: 'stderr', text: 'oops' }], {
      end: true,
    });
    const file = join(folder, 'manual__a%3Ab', 't', '-1', '1.log');
    expect(store.fileOf({ ...attempt, runId: 'manual__a:b' })).toBe(file);
    expect(await readFile(file, 'utf8')).toBe('{"t":5,"s":"stderr","m":"oops"}\n{"end":true}\n');
    await store.close();
  });
});
