// Airflow-style slot pools across all workers: a task declaring `db: 1` (where `db` is a slot pool) holds
// one of the pool's slots while it runs, whatever worker runs it. Each slot pool is a sorted set of
// holders scored by lease expiry plus a hash of how many slots each holds; acquiring every slot a task
// needs is one Lua script (all or nothing), so two workers can never both take the last slot. Leases
// expire, so a worker killed while holding slots gives them back after one lease.
import type { Redis } from 'ioredis';
import type { SlotPool } from '../pools/worker-pool.js';
import { slotPoolKeys } from './keys.js';
import { LuaScript } from './lua-script.js';

// KEYS: (holders zset, amounts hash) per slot pool. ARGV[1] holder, ARGV[2] lease ms, then per pool:
// the amount wanted and the pool's slots. Expired holders are dropped first. Returns 1 when taken.
const acquireSlots = new LuaScript(
  'acquireSlots',
  `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local holder = ARGV[1]
local pools = #KEYS / 2
for i = 1, pools do
  local holders, amounts = KEYS[2 * i - 1], KEYS[2 * i]
  local expired = redis.call('ZRANGEBYSCORE', holders, '-inf', now)
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', holders, '-inf', now)
    redis.call('HDEL', amounts, unpack(expired))
  end
  if redis.call('HEXISTS', amounts, holder) == 0 then
    local used = 0
    for _, value in ipairs(redis.call('HVALS', amounts)) do used = used + tonumber(value) end
    if used + tonumber(ARGV[1 + 2 * i]) > tonumber(ARGV[2 + 2 * i]) then return 0 end
  end
end
local expires = now + tonumber(ARGV[2])
for i = 1, pools do
  redis.call('ZADD', KEYS[2 * i - 1], expires, holder)
  redis.call('HSET', KEYS[2 * i], holder, ARGV[1 + 2 * i])
end
return 1`,
);

// KEYS: (holders, amounts) per slot pool. ARGV[1] holder.
const releaseSlots = new LuaScript(
  'releaseSlots',
  `for i = 1, #KEYS / 2 do
  redis.call('ZREM', KEYS[2 * i - 1], ARGV[1])
  redis.call('HDEL', KEYS[2 * i], ARGV[1])
end
return 1`,
);

// KEYS: (holders, amounts) per slot pool. ARGV[1] holder, ARGV[2] lease ms. Renews only a live holding.
const renewSlots = new LuaScript(
  'renewSlots',
  `local time = redis.call('TIME')
local expires = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + tonumber(ARGV[2])
local renewed = 0
for i = 1, #KEYS / 2 do
  if redis.call('HEXISTS', KEYS[2 * i], ARGV[1]) == 1 then
    redis.call('ZADD', KEYS[2 * i - 1], 'XX', expires, ARGV[1])
    renewed = renewed + 1
  end
end
return renewed`,
);

/** The slot pools of one namespace, as seen by a worker. */
export class SlotPools {
  private readonly limits: Map<string, number>;

  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    slotPools: readonly SlotPool[],
    private readonly leaseMs: number,
  ) {
    this.limits = new Map(slotPools.map((pool) => [pool.name, pool.slots]));
  }

  /** The slot pool names this worker knows. */
  names(): ReadonlySet<string> {
    return new Set(this.limits.keys());
  }

  /** Takes every slot in `need` for `holder`, or none; true when taken. */
  async acquire(holder: string, need: Readonly<Record<string, number>>): Promise<boolean> {
    const names = Object.keys(need);
    const args: Array<string | number> = [holder, this.leaseMs];
    for (const name of names) args.push(need[name]!, this.limits.get(name) ?? 0);
    return (await acquireSlots.run(this.redis, this.keysOf(names), args)) === 1;
  }

  /** Gives back every slot `holder` holds in `names`. */
  async release(holder: string, names: readonly string[]): Promise<void> {
    await releaseSlots.run(this.redis, this.keysOf(names), [holder]);
  }

  /** Extends `holder`'s lease on its slots in `names`. */
  async renew(holder: string, names: readonly string[]): Promise<void> {
    await renewSlots.run(this.redis, this.keysOf(names), [holder, this.leaseMs]);
  }

  /** Slots of `name` held now (leases not yet pruned count). */
  async inUse(name: string): Promise<number> {
    const values = await this.redis.hvals(slotPoolKeys(this.namespace, name).amounts);
    return values.reduce((sum, value) => sum + Number(value), 0);
  }

  private keysOf(names: readonly string[]): string[] {
    return names.flatMap((name) => {
      const keys = slotPoolKeys(this.namespace, name);
      return [keys.holders, keys.amounts];
    });
  }
}
