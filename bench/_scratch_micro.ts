import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { LuaScript } from '../packages/orchestrator/src/bullmq/lua-script.js';
import { RedisServer } from '../test/support/redis-server.js';

const server = await RedisServer.start();
const r = new Redis(server.url, { maxRetriesPerRequest: null });
const script = new LuaScript(
  'x',
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XADD', KEYS[2], '*', ARGV[2], ARGV[3])
return 1`,
);
const msg = JSON.stringify({
  kind: 'finished',
  jobId: 'manual__2024-01-01T00%3A00%3A00.000Z__abcd|t1234|-1|1',
  outcome: { status: 'success' },
  startedMs: Date.now(),
  endedMs: Date.now(),
  worker: 'host:1234:bench',
});
await r.set('lock', 'tok');
async function usec(label: string, fn: () => Promise<unknown>) {
  await r.config('RESETSTAT');
  const t = performance.now();
  const ps = [];
  for (let i = 0; i < 10000; i++) ps.push(fn());
  await Promise.all(ps);
  const info = await r.info('commandstats');
  const total = info
    .split('\n')
    .filter((l) => l.startsWith('cmdstat_') && !l.startsWith('cmdstat_config'))
    .reduce((s, l) => s + Number(/usec=(\d+)/.exec(l)![1]), 0);
  console.log(label, 'redis usec/op', (total / 10000).toFixed(2), 'wall ms', (performance.now() - t).toFixed(0));
}
await usec('reportIfLocked', () => script.run(r, ['lock', 's1'], ['tok', 'm', msg]));
await usec('xadd', () => r.xadd('s2', '*', 'm', msg));
for (const [label, opts] of [
  ['plain', {}],
  ['prio', { priority: 1048575 }],
  [
    'prio+keep',
    { priority: 1048575, removeOnComplete: { age: 86400, count: 100000 }, removeOnFail: { age: 86400, count: 100000 } },
  ],
] as const) {
  const q = new Queue('q' + label, { connection: r, prefix: 'p' });
  const data = {
    dagId: 'dispatch_10000',
    runId: 'manual__2024-01-01T00:00:00.000Z__abcd',
    taskId: 't1234',
    mapIndex: -1,
    tryNumber: 1,
    resources: { cpu: 1, memoryMb: 0, gpu: 0, custom: {} },
    priorityWeight: 1,
  };
  let i = 0;
  await usec('add ' + label, () => q.add('n', data, { jobId: `j${i++}`, attempts: 1, ...opts }));
}
r.disconnect();
await server.stop();
