// The Redis harness of a test file: a private redis-server started before the file's tests and
// stopped after them, one shared client, and a fresh key namespace whenever a test asks.
import { RedisServer, type RedisServerOptions } from '@batuta/scheduler/redis-server';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { uniqueNamespace } from './unique-namespace.js';

/** How the harness starts its server and its client. */
export interface RedisHarnessOptions {
  /** Options of the private redis-server (e.g. `appendOnly` for restart tests). */
  server?: RedisServerOptions;
  /** Options of the shared client (e.g. the store's `redisStoreClientOptions`). */
  client?: Omit<RedisOptions, 'replyMapping'>;
}

/** What a test file gets from `useRedisServer`; every property is ready inside tests and hooks. */
export interface RedisHarness {
  /** The file's private server (kill or restart it to simulate a crash). */
  readonly server: RedisServer;
  /** `redis://127.0.0.1:<port>` of the private server. */
  readonly url: string;
  /** A client on the private server shared by the file's tests; closed after them. */
  readonly redis: Redis;
  /** A key namespace no other test uses: call it once per test. */
  namespace(label?: string): string;
}

/**
 * Registers `beforeAll`/`afterAll` hooks on the calling test file (or describe block) that start a
 * private redis-server on a free port and stop it, removing its data. Never the shared 6379.
 */
export function useRedisServer(options: RedisHarnessOptions = {}): RedisHarness {
  let server: RedisServer | undefined;
  let redis: Redis | undefined;

  beforeAll(async () => {
    server = await RedisServer.start(options.server);
    redis = new Redis(server.url, { ...options.client });
  });

  afterAll(async () => {
    // disconnect, not quit: a test may have killed the server, and quit would wait for it.
    redis?.disconnect();
    await server?.stop();
    redis = undefined;
    server = undefined;
  });

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) {
      throw new Error(`useRedisServer: the ${what} exists only inside tests and hooks (after beforeAll)`);
    }
    return value;
  };

  return {
    get server() {
      return ready(server, 'server');
    },
    get url() {
      return ready(server, 'server').url;
    },
    get redis() {
      return ready(redis, 'client');
    },
    namespace: uniqueNamespace,
  };
}
