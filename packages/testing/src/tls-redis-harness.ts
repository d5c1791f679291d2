// A test file's private redis-server that speaks only TLS and demands a client certificate, with
// certificates made by openssl for the file; started before its tests, stopped and removed after them.
import { RedisServer } from '@batuta/scheduler/redis-server';
import { afterAll, beforeAll } from 'vitest';
import { generateTestCertificates, type TestCertificates } from './test-certificates.js';

/** What a test file gets from `useTlsRedisServer`; ready inside tests and hooks. */
export interface TlsRedisHarness {
  readonly server: RedisServer;
  readonly certificates: TestCertificates;
  /** BATUTA_REDIS_TLS_* naming the client certificate, as an operator would set them. */
  environment(): Record<string, string>;
  /** Runs `body` with those variables set in this process, and removes them after it. */
  withEnvironment<T>(body: () => Promise<T>): Promise<T>;
}

/** Registers the hooks that start the TLS server before the file's tests and stop it after them. */
export function useTlsRedisServer(): TlsRedisHarness {
  let server: RedisServer | undefined;
  let certificates: TestCertificates | undefined;
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
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useTlsRedisServer: the ${what} exists only inside tests and hooks`);
    return value;
  };
  return {
    get server() {
      return ready(server, 'server');
    },
    get certificates() {
      return ready(certificates, 'certificates');
    },
    environment() {
      const files = ready(certificates, 'certificates');
      return {
        BATUTA_REDIS_TLS_CA: files.caFile,
        BATUTA_REDIS_TLS_CERT: files.clientCertFile,
        BATUTA_REDIS_TLS_KEY: files.clientKeyFile,
        BATUTA_REDIS_TLS_SERVERNAME: 'localhost',
      };
    },
    async withEnvironment(body) {
      const names = this.environment();
      Object.assign(process.env, names);
      try {
        return await body();
      } finally {
        for (const name of Object.keys(names)) delete process.env[name];
      }
    },
  };
}
