// Private redis-server processes for tests and benchmarks live in @batuta/cli (the demo starts one too).
export { freePort, RedisServer, type RedisServerOptions } from '@batuta/cli';
