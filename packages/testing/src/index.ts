// @batuta/testing — test support shared by every package's tests, the end-to-end tests and nothing
// else (private, never published). RedisServer itself lives in @batuta/scheduler/redis-server, since
// the published CLI starts one at run time; tests import it from here (docs/adr/009-test-support.md).
export { freePort, RedisServer, type RedisServerOptions } from '@batuta/scheduler/redis-server';
export { type RedisHarness, type RedisHarnessOptions, useRedisServer } from './redis-harness.js';
export { generateTestCertificates, opensslAvailable, type TestCertificates } from './test-certificates.js';
export { type TlsRedisHarness, useTlsRedisServer } from './tls-redis-harness.js';
export { uniqueNamespace } from './unique-namespace.js';
