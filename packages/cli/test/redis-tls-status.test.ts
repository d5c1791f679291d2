// `batuta status` against a real redis-server that speaks only TLS and demands a client certificate,
// configured through BATUTA_REDIS_TLS_* (certificates made by openssl for this test).
import { main } from '@batuta/cli';
import {
  generateTestCertificates,
  opensslAvailable,
  RedisServer,
  type TestCertificates,
  uniqueNamespace,
} from '@batuta/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

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

  it('batuta status reaches a TLS Redis configured through the environment', async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...parts) => void printed.push(parts.join(' ')));
    const error = vi.spyOn(console, 'error').mockImplementation((...parts) => void printed.push(parts.join(' ')));
    try {
      const code = await withTlsEnvironment(() =>
        main(['status', '--redis', server.tlsUrl, '--dags', certificates.dir, '--namespace', uniqueNamespace('tls')]),
      );
      expect(printed.join('\n')).toContain(`at ${server.tlsUrl}`);
      expect(code).toBe(0);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });
});
