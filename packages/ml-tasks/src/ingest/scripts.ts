// The atomic transitions of a model's prediction sets, one Lua script each, named
// `<transition>-<number of keys>` as BullMQ names its commands. Each script touches only the keys
// it declares; the TypeScript side never does read-modify-write across round trips. They live here
// as strings (not .lua files) so the compiled package needs no asset copying.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MlTasksError } from '../errors.js';

/** A Lua script, called by SHA with a fallback to EVAL when the server has not seen it yet. */
export interface LuaScript {
  name: string;
  source: string;
  sha: string;
}

function script(name: string, source: string): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Marks a fully written version complete, records it among the complete versions (once), points
 * `current` at it, and applies retention: complete versions beyond the newest `keep` are dropped
 * from the set and returned, for the caller to delete their keys. The version being committed is
 * never dropped. KEYS: meta, current, versions, seq, pending. ARGV: version, completedAtMs, keep.
 * Returns [previous current or '', evicted versions…].
 */
export const COMMIT_VERSION_5 = script(
  'commitVersion-5',
  `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return redis.error_reply('NO_VERSION_META version ' .. ARGV[1] .. ' has no metadata') end
if status ~= 'complete' then
  redis.call('HSET', KEYS[1], 'status', 'complete', 'completedAt', ARGV[2])
end
if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), ARGV[1])
end
local previous = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
local result = { previous or '' }
local keep = tonumber(ARGV[3])
if keep > 0 then
  for _, version in ipairs(redis.call('ZREVRANGE', KEYS[3], keep, -1)) do
    if version ~= ARGV[1] then
      redis.call('ZREM', KEYS[3], version)
      table.insert(result, version)
    end
  end
end
return result
`,
);

/**
 * Points `current` back at the complete version committed just before it.
 * KEYS: current, versions. Returns [from, to].
 */
export const ROLLBACK_VERSION_2 = script(
  'rollbackVersion-2',
  `
local current = redis.call('GET', KEYS[1])
if not current then return redis.error_reply('NO_CURRENT_VERSION') end
local score = redis.call('ZSCORE', KEYS[2], current)
if not score then return redis.error_reply('NO_CURRENT_VERSION current version ' .. current .. ' is not complete') end
local previous = redis.call('ZREVRANGEBYSCORE', KEYS[2], '(' .. score, '-inf', 'LIMIT', 0, 1)
if #previous == 0 then return redis.error_reply('NO_PREVIOUS_VERSION') end
redis.call('SET', KEYS[1], previous[1])
return { current, previous[1] }
`,
);

/**
 * Points `current` at a given complete version (deploying and rolling back are one operation).
 * KEYS: current, versions. ARGV: version. Returns the previous current or ''.
 */
export const ACTIVATE_VERSION_2 = script(
  'activateVersion-2',
  `
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return redis.error_reply('NOT_COMPLETE version ' .. ARGV[1] .. ' is not a complete version')
end
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1])
return previous or ''
`,
);

/** Runs a script by SHA, loading it on the first NOSCRIPT. */
export async function runScript(
  redis: Redis,
  lua: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(lua.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!String((error as Error).message).startsWith('NOSCRIPT')) throw scriptError(lua, error);
  }
  try {
    return await redis.eval(lua.source, keys.length, ...keys, ...args);
  } catch (error) {
    throw scriptError(lua, error);
  }
}

function scriptError(lua: LuaScript, error: unknown): unknown {
  // Redis prefixes a script's error_reply with 'ERR ' when it carries no error code of its own.
  const message = String((error as Error).message ?? error).replace(/^ERR /, '');
  if (message.startsWith('NO_PREVIOUS_VERSION')) {
    return new MlTasksError('NO_PREVIOUS_VERSION', 'there is no earlier complete version to roll back to');
  }
  if (message.startsWith('NO_CURRENT_VERSION')) {
    return new MlTasksError(
      'NO_CURRENT_VERSION',
      `no current version: ${message.replace('NO_CURRENT_VERSION', '').trim() || 'nothing was ingested yet'}`,
    );
  }
  if (message.startsWith('NOT_COMPLETE') || message.startsWith('NO_VERSION_META')) {
    return new MlTasksError('VERSION_CONFLICT', `${lua.name}: ${message}`);
  }
  return error;
}
