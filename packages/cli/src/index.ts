// @batuta/cli — the `batuta` command. Its library surface is `main` (what bin/batuta.js runs); the
// private redis-server launcher the demo uses lives in @batuta/scheduler/redis-server.
export { main } from './main.js';
