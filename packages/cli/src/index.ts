// @batuta/cli — the `batuta` command. Its library surface is small: `main`, and the private
// redis-server launcher the demo, the tests and the benchmarks share.
export { freePort, RedisServer, type RedisServerOptions } from './redis-server.js';
