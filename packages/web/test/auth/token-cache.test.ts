// The verified-token cache of AuthStore, on a private Redis with an injected clock: a new token's first
// requests share one verification, a revocation is honoured at once by the store that revokes and within
// the cache time by every other (another server, or the CLI), and after the cache time a token is trusted
// again only while its record is unchanged.
import { useRedisServer } from '@batuta/testing';
import type { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { AuthStore } from '../../src/index.js';

const harness = useRedisServer();
const cheap = { N: 1024, r: 8, p: 1 };
const CACHE_MS = 30_000;

/** The harness's client, counting the token-record reads (each verification or check reads once). */
function countingRedis(): { redis: Redis; reads: () => number } {
  let reads = 0;
  const redis = new Proxy(harness.redis, {
    get(target, property, receiver) {
      if (property === 'hget')
        return (...args: Parameters<Redis['hget']>) => {
          reads++;
          return target.hget(...args);
        };
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { redis, reads: () => reads };
}

function stores(namespace: string) {
  let clock = Date.UTC(2026, 11, 3, 12);
  const counted = countingRedis();
  const server = new AuthStore(counted.redis, { namespace, scryptCost: cheap, cacheMs: CACHE_MS, now: () => clock });
  // Another process on the same Redis: `batuta tokens revoke` or a second server.
  const elsewhere = new AuthStore(harness.redis, { namespace, scryptCost: cheap });
  return { server, elsewhere, reads: counted.reads, advance: (ms: number) => (clock += ms) };
}

describe('the verified-token cache', () => {
  it('verifies a new token once when many requests bring it at the same time', async () => {
    const { server, elsewhere, reads } = stores(harness.namespace('herd'));
    const { token } = await elsewhere.createToken('busy client', 'viewer', { models: ['iris'] });
    const principals = await Promise.all(Array.from({ length: 50 }, () => server.verifyToken(token)));
    expect(principals.every((principal) => principal?.name.startsWith('busy client#'))).toBe(true);
    expect(reads()).toBe(1);
    await server.verifyToken(token);
    expect(reads()).toBe(1);
  });

  it('answers without a wait only what verifyToken would answer from its cache', async () => {
    const { server, elsewhere, reads, advance } = stores(harness.namespace('now'));
    const { id, token } = await elsewhere.createToken('hot path', 'viewer', { models: ['iris'] });
    // Not yet checked: no answer without a wait (the caller then takes verifyToken's path).
    expect(server.verifyTokenNow(token)).toBeUndefined();
    expect(server.verifyTokenNow('bt_not-a-token')).toBeUndefined();
    const checked = await server.verifyToken(token);
    expect(server.verifyTokenNow(token)).toEqual(checked);
    expect(reads()).toBe(1);
    // Past half the cache time it still answers, and starts the same background recheck.
    advance(CACHE_MS / 2 + 1);
    expect(server.verifyTokenNow(token)).toEqual(checked);
    await vi.waitFor(() => expect(reads()).toBe(2));
    // Past the cache time since that check: a wait is needed again.
    advance(CACHE_MS + 1);
    expect(server.verifyTokenNow(token)).toBeUndefined();
    expect(await server.verifyToken(token)).toEqual(checked);
    // A revocation by this store: no answer at once.
    await server.revokeToken(id);
    expect(server.verifyTokenNow(token)).toBeUndefined();
    expect(await server.verifyToken(token)).toBeUndefined();
  });

  it('refuses a token at once in the store that revoked it', async () => {
    const { server } = stores(harness.namespace('here'));
    const { id, token } = await server.createToken('short-lived', 'viewer');
    expect(await server.verifyToken(token)).toBeDefined();
    await server.revokeToken(id);
    expect(await server.verifyToken(token)).toBeUndefined();
  });

  it('honours a revocation made elsewhere within the cache time, and refuses the token after it', async () => {
    const { server, elsewhere, advance } = stores(harness.namespace('elsewhere'));
    const { id, token } = await elsewhere.createToken('leaked', 'operator');
    expect(await server.verifyToken(token)).toMatchObject({ role: 'operator' });
    await elsewhere.revokeToken(id);
    advance(CACHE_MS / 2 - 1);
    // Still within the documented bound, and no check has been due yet: the cached answer stands.
    expect(await server.verifyToken(token)).toBeDefined();
    advance(CACHE_MS / 2 + 1);
    expect(await server.verifyToken(token)).toBeUndefined();
    expect(await server.verifyToken(token)).toBeUndefined();
  });

  it('checks a busy token in the background from half the cache time, so a revocation lands early', async () => {
    const { server, elsewhere, advance } = stores(harness.namespace('ahead'));
    const { id, token } = await elsewhere.createToken('busy', 'viewer');
    expect(await server.verifyToken(token)).toBeDefined();
    await elsewhere.revokeToken(id);
    advance(CACHE_MS / 2 + 1);
    // This request is answered from the cache (it does not wait on Redis) and starts the check …
    expect(await server.verifyToken(token)).toBeDefined();
    // … whose answer refuses the next ones, well before the cache time has run out.
    await vi.waitFor(async () => expect(await server.verifyToken(token)).toBeUndefined(), { timeout: 5_000 });
  });

  it('trusts a token again after the cache time while its record is unchanged, without a second KDF', async () => {
    const { server, elsewhere, reads, advance } = stores(harness.namespace('again'));
    const { token } = await elsewhere.createToken('steady', 'viewer');
    expect(await server.verifyToken(token)).toBeDefined();
    advance(CACHE_MS + 1);
    const before = reads();
    expect(await server.verifyToken(token)).toBeDefined();
    expect(reads()).toBe(before + 1);
    advance(1);
    expect(await server.verifyToken(token)).toBeDefined();
    expect(reads()).toBe(before + 1);
  });

  it('refuses a remembered token whose record changed (its hash is not the one the secret was proven against)', async () => {
    const namespace = harness.namespace('changed');
    const { server, elsewhere, advance } = stores(namespace);
    const { id, token } = await elsewhere.createToken('rotated', 'viewer');
    expect(await server.verifyToken(token)).toBeDefined();
    const key = `batuta:${namespace}:auth:tokens`;
    const record = JSON.parse((await harness.redis.hget(key, id))!);
    await harness.redis.hset(key, id, JSON.stringify({ ...record, hash: 'scrypt$1024$8$1$c2FsdA$aGFzaA' }));
    advance(CACHE_MS + 1);
    expect(await server.verifyToken(token)).toBeUndefined();
  });
});
