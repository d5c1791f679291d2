// The shared Redis harness itself: a private server per file (or describe block), ready inside tests
// only, a fresh namespace per call, and the server gone (data directory included) after its block.
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useRedisServer } from '../src/index.js';

const harness = useRedisServer();

let readBeforeStart = '';
try {
  readBeforeStart = harness.url;
} catch (error) {
  readBeforeStart = (error as Error).message;
}

describe('useRedisServer', () => {
  it('gives the file a private server on a free port, never the shared 6379', async () => {
    expect(harness.url).toBe(`redis://127.0.0.1:${harness.server.port}`);
    expect(harness.server.port).not.toBe(6379);
    expect(await harness.redis.ping()).toBe('PONG');
  });

  it('refuses to hand out the server before its beforeAll ran', () => {
    expect(readBeforeStart).toContain('exists only inside tests and hooks');
  });

  it('hands out a namespace no other call got, valid as a store namespace', () => {
    const namespaces = new Set(Array.from({ length: 100 }, () => harness.namespace('ns')));
    expect(namespaces.size).toBe(100);
    for (const namespace of namespaces) expect(namespace).toMatch(/^ns-\d+-\d+$/);
  });
});

const stopped = { url: '', dir: '' };

describe('a describe block with a server of its own', () => {
  const inner = useRedisServer();

  it('runs beside the file server', async () => {
    stopped.url = inner.url;
    stopped.dir = inner.server.dir;
    expect(inner.url).not.toBe(harness.url);
    expect(existsSync(stopped.dir)).toBe(true);
    expect(await inner.redis.ping()).toBe('PONG');
  });
});

describe('after that block', () => {
  it('finds its server stopped and its data directory removed', async () => {
    const probe = new Redis(stopped.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    await expect(probe.connect()).rejects.toThrow();
    probe.disconnect();
    expect(existsSync(stopped.dir)).toBe(false);
  });
});
