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
 * `current` at it unless told not to (a candidate is committed inactive, for a rollout to route to by
 * version) and records the commit time as its activation when it does, and applies retention: complete
 * versions beyond the newest `keep` are dropped from the set (and from the activations) and returned, for
 * the caller to delete their keys. Never dropped: the version being committed, `current`, and every
 * version the model's stored rollout can still route to (its baseline always; its candidates unless it
 * was aborted: a promoted rollout's abort rolls back to the baseline). The rollout is read here, in the
 * same script, so a rollout started meanwhile cannot lose its versions; a rollout state that does not
 * parse keeps everything. KEYS: meta, current, versions, seq, pending, activations, rollout.
 * ARGV: version, completedAtMs, keep, activate ('1' or '0'). Returns [previous current or '', evicted…].
 */
export const COMMIT_VERSION_7 = script(
  'commitVersion-7',
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
if ARGV[4] == '1' then
  redis.call('SET', KEYS[2], ARGV[1])
  redis.call('HSET', KEYS[6], ARGV[1], ARGV[2])
end
redis.call('ZREM', KEYS[5], ARGV[1])
local result = { previous or '' }
local keep = tonumber(ARGV[3])
if keep <= 0 then return result end
local protected = { [ARGV[1]] = true }
local current = redis.call('GET', KEYS[2])
if current then protected[current] = true end
local state = redis.call('HGET', KEYS[7], 'state')
if state then
  local ok, rollout = pcall(cjson.decode, state)
  if not ok or type(rollout) ~= 'table' or type(rollout.spec) ~= 'table' then return result end
  local spec = rollout.spec
  if type(spec.baseline) == 'string' then protected[spec.baseline] = true end
  if rollout.status ~= 'aborted' then
    if type(spec.candidate) == 'string' then protected[spec.candidate] = true end
    if type(spec.candidates) == 'table' then
      for _, candidate in ipairs(spec.candidates) do protected[candidate] = true end
    end
  end
end
for _, version in ipairs(redis.call('ZREVRANGE', KEYS[3], keep, -1)) do
  if not protected[version] then
    redis.call('ZREM', KEYS[3], version)
    redis.call('HDEL', KEYS[6], version)
    table.insert(result, version)
  end
end
return result
`,
);

/**
 * Points `current` back at the newest complete version committed before it that is not marked bad,
 * and marks the version it leaves bad (the operator just said it is), so a later rollback never
 * lands on it again. KEYS: current, versions, bad, activations. ARGV: the reason recorded for the version
 * left, nowMs (recorded as the activation of the version landed on). Returns [from, to, skipped bad versions…].
 */
export const ROLLBACK_VERSION_4 = script(
  'rollbackVersion-4',
  `
local current = redis.call('GET', KEYS[1])
if not current then return redis.error_reply('NO_CURRENT_VERSION') end
local score = redis.call('ZSCORE', KEYS[2], current)
if not score then return redis.error_reply('NO_CURRENT_VERSION current version ' .. current .. ' is not complete') end
local skipped = {}
for _, version in ipairs(redis.call('ZREVRANGEBYSCORE', KEYS[2], '(' .. score, '-inf')) do
  if redis.call('HEXISTS', KEYS[3], version) == 0 then
    redis.call('SET', KEYS[1], version)
    redis.call('HSET', KEYS[3], current, ARGV[1])
    redis.call('HSET', KEYS[4], version, ARGV[2])
    local result = { current, version }
    for _, bad in ipairs(skipped) do table.insert(result, bad) end
    return result
  end
  table.insert(skipped, version)
end
return redis.error_reply('NO_PREVIOUS_VERSION ' .. table.concat(skipped, ', '))
`,
);

/**
 * Points `current` at a given complete version (deploying and rolling back are one operation) and
 * records when. A version marked bad is refused unless forced; forcing it clears the mark (the operator
 * vouches for it). With ARGV[4…] given, only switches when `current` is one of them (an abort puts the
 * baseline back only over its own candidate) and otherwise changes and checks nothing.
 * KEYS: current, versions, bad, activations. ARGV: version, force ('1' or '0'), nowMs (recorded as its
 * activation), then the versions `current` may be switched from. Returns [previous current or '',
 * 1 when switched else 0].
 */
export const ACTIVATE_VERSION_4 = script(
  'activateVersion-4',
  `
local previous = redis.call('GET', KEYS[1])
if #ARGV > 3 then
  local from = false
  for index = 4, #ARGV do
    if previous == ARGV[index] then from = true end
  end
  if not from then return { previous or '', 0 } end
end
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return redis.error_reply('NOT_COMPLETE version ' .. ARGV[1] .. ' is not a complete version')
end
local bad = redis.call('HGET', KEYS[3], ARGV[1])
if bad then
  if ARGV[2] ~= '1' then
    return redis.error_reply('VERSION_MARKED_BAD version ' .. ARGV[1] .. ' is marked bad (' .. bad .. ')')
  end
  redis.call('HDEL', KEYS[3], ARGV[1])
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
return { previous or '', 1 }
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
    const skipped = message.replace('NO_PREVIOUS_VERSION', '').trim();
    return new MlTasksError(
      'NO_PREVIOUS_VERSION',
      `there is no earlier complete version to roll back to${skipped ? ` that is not marked bad (skipped ${skipped}); activate one with force` : ''}`,
    );
  }
  if (message.startsWith('VERSION_MARKED_BAD')) {
    return new MlTasksError(
      'VERSION_MARKED_BAD',
      `${message.replace('VERSION_MARKED_BAD', '').trim()}; activate it with force to serve it anyway`,
    );
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
