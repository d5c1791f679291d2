// Every LogStore adapter against the one contract, plus what only one adapter does: Redis keys expire
// with the retention, files are one per attempt.
import { appendFile, mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
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

  it.each([1, 2, 3, 5, 7, 64])(
    'reads a tail back in chunks of %i bytes, joining characters split across them',
    async (tailChunkBytes) => {
      const folder = await mkdtemp(join(tmpdir(), 'batuta-logs-'));
      folders.push(folder);
      const store = new FileLogStore({ folder, tailChunkBytes });
      const texts = ['ñandú', '', '🚀🚀 €', 'plain', 'ü'.repeat(40), '{"end":true}', 'last ñ'];
      await store.append(
        attempt,
        texts.map((text, i) => ({ atMs: i, stream: 'stdout', text })),
      );
      await store.append(attempt, [], { end: true });
      for (const tail of [0, 1, 3, texts.length, 20]) {
        const page = await store.read(attempt, { tail });
        expect(page.lines.map((l) => l.text)).toEqual(texts.slice(texts.length - Math.min(tail, texts.length)));
        expect(page.ended).toBe(true);
      }
      await store.close();
    },
  );

  it('leaves a half-written last line out of a tail and follows on with it once whole', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'batuta-logs-'));
    folders.push(folder);
    const store = new FileLogStore({ folder, tailChunkBytes: 8 });
    await store.append(attempt, [
      { atMs: 1, stream: 'stdout', text: 'one' },
      { atMs: 2, stream: 'stdout', text: 'two ñ' },
    ]);
    const file = store.fileOf(attempt);
    const whole = Buffer.from('{"t":3,"s":"stderr","m":"three 🚀"}\n');
    // Cut inside the emoji: the file ends in the middle of a character and of a record.
    await appendFile(file, whole.subarray(0, whole.length - 5));
    const page = await store.read(attempt, { tail: 5 });
    expect(page.lines.map((l) => l.text)).toEqual(['one', 'two ñ']);
    await appendFile(file, whole.subarray(whole.length - 5));
    expect((await store.read(attempt, { after: page.cursor })).lines).toEqual([
      { atMs: 3, stream: 'stderr', text: 'three 🚀' },
    ]);
    // A file with no whole record yet: nothing, and follow from its start.
    await truncate(file, 10);
    expect(await store.read(attempt, { tail: 2 })).toMatchObject({ lines: [], cursor: '0' });
    await store.close();
  });

  it('follows a long log by reading only what was appended, its marks still counted once', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'batuta-logs-'));
    folders.push(folder);
    const store = new FileLogStore({ folder, caps: { maxLinesPerAttempt: 2_000 } });
    const lines = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        atMs: from + i,
        stream: 'stdout' as const,
        text: `line ${from + i} ✓`,
      }));
    await store.append(attempt, lines(0, 1_500));
    const first = await store.read(attempt, { limit: 100_000 });
    expect(first.lines).toHaveLength(1_500);
    expect(first).toMatchObject({ ended: false, droppedLines: 0 });
    const size = store.bytesRead;
    // 1,000 more offered: 500 kept, 500 dropped by the cap (a drop mark), then the end mark.
    await store.append(attempt, lines(1_500, 1_000));
    await store.append(attempt, [], { end: true });
    const grown = (await readFile(store.fileOf(attempt))).length;
    const next = await store.read(attempt, { after: first.cursor });
    expect(next.lines.map((l) => l.atMs)).toEqual(lines(1_500, 500).map((l) => l.atMs));
    expect(next).toMatchObject({ ended: true, droppedLines: 500 });
    // Only the bytes appended since the first read were read.
    expect(store.bytesRead - size).toBe(grown - Number(first.cursor));
    // Read again from the start and from the end: the marks are not counted twice.
    expect(await store.read(attempt, { limit: 1 })).toMatchObject({ ended: true, droppedLines: 500 });
    expect(await store.read(attempt, { after: next.cursor })).toMatchObject({
      lines: [],
      ended: true,
      droppedLines: 500,
    });
    // A store in another process (no memory of the file) reads the same.
    const other = new FileLogStore({ folder });
    expect(await other.read(attempt, { after: next.cursor })).toMatchObject({
      lines: [],
      ended: true,
      droppedLines: 500,
    });
    await store.close();
    await other.close();
  });

  it('reads the end of a file too large to read whole', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'batuta-logs-'));
    folders.push(folder);
    const store = new FileLogStore({ folder });
    const file = store.fileOf(attempt);
    await store.append(attempt, [{ atMs: 1, stream: 'stdout', text: 'first' }]);
    // A sparse 3 GiB hole: more than Node can read into one buffer, and no disk used.
    await truncate(file, 3 * 1024 ** 3);
    await appendFile(file, '\n{"t":2,"s":"stderr","m":"near the end"}\n{"t":3,"s":"log","m":"the end"}\n');
    const page = await store.read(attempt, { tail: 2 });
    expect(page.lines.map((l) => l.text)).toEqual(['near the end', 'the end']);
    await store.close();
  });
});
