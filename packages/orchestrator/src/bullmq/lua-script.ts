// A Lua script called by its SHA1 (loaded once per Redis server), re-sent in full only when the server
// does not know it (first use, or after a restart flushed the script cache).
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** One named script; `run` is atomic on the server, as every Redis script is. */
export class LuaScript {
  readonly name: string;
  private readonly lua: string;
  private readonly sha: string;

  constructor(name: string, lua: string) {
    this.name = name;
    this.lua = lua;
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  /** Runs the script with `keys` and `args`; resolves with its reply. */
  async run(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
