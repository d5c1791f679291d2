// Every Redis connection Batuta opens speaks TLS when told to: a real redis-server listening with TLS
// (certificates made by openssl for this test) that demands a client certificate.
import { openRedis } from '@batuta/ml-tasks';
import { ResourceWorker } from '@batuta/orchestrator';
import { isBatutaError, RedisStateStore, redisTlsOptions } from '@batuta/scheduler';
import {
  generateTestCertificates,
  opensslAvailable,
  RedisServer,
  type TestCertificates,
  uniqueNamespace,
} from '@batuta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe.skipIf(!opensslAvailable())('Redis over TLS', () => {
  let certificates: TestCertificates;
  let server: RedisServer;

  beforeAll(async () => {
    certificates = generateTestCertificates();
    server = await RedisServer.start({
      tls: {
        certFile: certificates.serverCertFile,
        keyFile: certificates.serverKeyFile,
        caFile: certificates.caFile,
        authClients: true,
      },
    });
  });

  afterAll(async () => {
    await server?.stop();
    certificates?.remove();
  });

  const settings = () => ({
    ca: certificates.caFile,
    cert: certificates.clientCertFile,
    key: certificates.clientKeyFile,
  });

  /** Sets BATUTA_REDIS_TLS_* for the duration of `body`. */
  async function withTlsEnvironment<T>(body: () => Promise<T>): Promise<T> {
    const names = {
      BATUTA_REDIS_TLS_CA: certificates.caFile,
      BATUTA_REDIS_TLS_CERT: certificates.clientCertFile,
      BATUTA_REDIS_TLS_KEY: certificates.clientKeyFile,
      BATUTA_REDIS_TLS_SERVERNAME: 'localhost',
    };
    Object.assign(process.env, names);
    try {
      return await body();
    } finally {
      for (const name of Object.keys(names)) delete process.env[name];
    }
  }

  it('the scheduler store connects with the CA and client certificate', async () => {
    const store = await RedisStateStore.connect({
      url: server.tlsUrl,
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
      redisUrl: server.tlsUrl,
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
    const redis = await withTlsEnvironment(() => openRedis(server.tlsUrl));
    try {
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('a missing certificate file is a clear REDIS_TLS_FILE error', () => {
    let failure: unknown;
    try {
      redisTlsOptions({ ca: `${certificates.dir}/no-such-ca.crt` });
    } catch (error) {
      failure = error;
    }
    expect(isBatutaError(failure, 'REDIS_TLS_FILE')).toBe(true);
    expect(() => redisTlsOptions({ cert: certificates.clientCertFile })).toThrow(/needs its key/);
    expect(redisTlsOptions({})).toEqual({});
  });
});
