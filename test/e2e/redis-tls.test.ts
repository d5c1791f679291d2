// Every Redis connection Batuta opens speaks TLS when told to: a real redis-server listening with TLS
// (certificates made by openssl for this test) that demands a client certificate.
import { openRedis } from '@batuta/ml-tasks';
import { ResourceWorker } from '@batuta/orchestrator';
import { isBatutaError, RedisStateStore, redisTlsOptions } from '@batuta/scheduler';
import { opensslAvailable, uniqueNamespace, useTlsRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';

describe.skipIf(!opensslAvailable())('Redis over TLS', () => {
  const tls = useTlsRedisServer();

  const settings = () => ({
    ca: tls.certificates.caFile,
    cert: tls.certificates.clientCertFile,
    key: tls.certificates.clientKeyFile,
  });

  it('the scheduler store connects with the CA and client certificate', async () => {
    const store = await RedisStateStore.connect({
      url: tls.server.tlsUrl,
      namespace: uniqueNamespace('tls'),
      redisOptions: redisTlsOptions(settings()),
    });
    try {
      expect(await store.redis.ping()).toBe('PONG');
    } finally {
      await store.close();
    }
  });

  it('an orchestrator worker starts and closes over TLS', async () => {
    const worker = new ResourceWorker({
      redisUrl: tls.server.tlsUrl,
      redisOptions: redisTlsOptions(settings()),
      namespace: uniqueNamespace('tls'),
      pool: 'default',
      capacity: { cpu: 1, memoryMb: 128, gpu: 0, custom: {} },
      invoke: async () => undefined,
      idleBlockSeconds: 1,
    });
    await worker.start();
    await worker.close({ drain: false });
  });

  it('the ML operators connect with BATUTA_REDIS_TLS_* from the environment', async () => {
    const redis = await tls.withEnvironment(() => openRedis(tls.server.tlsUrl));
    try {
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('a missing certificate file is a clear REDIS_TLS_FILE error', () => {
    let failure: unknown;
    try {
      redisTlsOptions({ ca: `${tls.certificates.dir}/no-such-ca.crt` });
    } catch (error) {
      failure = error;
    }
    expect(isBatutaError(failure, 'REDIS_TLS_FILE')).toBe(true);
    expect(() => redisTlsOptions({ cert: tls.certificates.clientCertFile })).toThrow(/needs its key/);
    expect(redisTlsOptions({})).toEqual({});
  });
});
