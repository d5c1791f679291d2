--[[
  Applies one transition to a run: every guard is checked first, then every write is made, so a
  transition is applied whole or (when a guard fails) not at all. Nothing below can fail halfway:
  the caller validated and encoded every value before calling.

  Input:
    KEYS[1] run record hash       batuta:<ns>:run:<runId>:record
    KEYS[2] task instances hash   batuta:<ns>:run:<runId>:ti    field <taskId>#<mapIndex>
    KEYS[3] task outputs hash     batuta:<ns>:run:<runId>:out   field <taskId>#<mapIndex>
    KEYS[4] index of all runs     batuta:<ns>:runs

    ARGV[1]  key prefix           batuta:<ns>:
    ARGV[2]  run id
    ARGV[3]  expected run state as JSON, or '' for no run guard (the run must still exist)
    ARGV[4]  new run state as JSON, '-' when the patch removes it, '' when the patch leaves it
    ARGV[5]  new index score (-logicalDateMs), or '' when the patch leaves logicalDateMs
    ARGV[6]  number of instance guards     G
    ARGV[7]  number of instance writes     W
    ARGV[8]  number of output sets         S
    ARGV[9]  number of output deletes      D
    ARGV[10] number of run fields set      P
    ARGV[11] number of run fields removed  R
    ARGV[12] number of events appended     E
    ARGV[13...] then, in this order:
      G pairs  field, guard  where guard is '-' (the instance must be absent) or the prefix
               '{"state":<JSON state>' that the stored instance JSON must start with
      W pairs  field, instance JSON (JSON with "state" as its first property)
      S pairs  field, output JSON
      D        fields
      P pairs  run field, JSON value
      R        run fields
      E quads  stream name, type, payload JSON, atMs JSON  (appended to <prefix>stream:<name>, in order)
      notice   the change notice as a JSON object without its dagId, or '' for none; published on
               <prefix>changes with the run's dagId put first

  Output:
    1 applied, 0 a guard failed or the run does not exist (nothing written)
]]
--- @include "includes/indexRun"

-- XADD with an automatic id is not deterministic: Redis 6.2 replicates such a script by its effects
-- only when asked (7.0 always does, and keeps the function as a no-op).
if redis.replicate_commands then redis.replicate_commands() end

local rcall = redis.call
local recordKey, instancesKey, outputsKey = KEYS[1], KEYS[2], KEYS[3]

-- Redis passes at most a few thousand values through unpack; write in chunks below that.
local CHUNK = 1000

local guards = tonumber(ARGV[6])
local writes = tonumber(ARGV[7])
local outputSets = tonumber(ARGV[8])
local outputDeletes = tonumber(ARGV[9])
local patchSets = tonumber(ARGV[10])
local patchDeletes = tonumber(ARGV[11])
local events = tonumber(ARGV[12])

-- Guards: the run, then every instance, all against the state before this transition.
local expectedRunState = ARGV[3]
if expectedRunState == '' then
  if rcall('EXISTS', recordKey) == 0 then return 0 end
elseif rcall('HGET', recordKey, 'state') ~= expectedRunState then
  return 0
end

local index = 13
if guards > 0 then
  local guardEnd = index + 2 * guards - 1
  local chunkStart = index
  while chunkStart <= guardEnd do
    local chunkEnd = math.min(chunkStart + 2 * CHUNK - 1, guardEnd)
    local fields = {}
    for i = chunkStart, chunkEnd, 2 do fields[#fields + 1] = ARGV[i] end
    local current = rcall('HMGET', instancesKey, unpack(fields))
    local n = 0
    for i = chunkStart, chunkEnd, 2 do
      n = n + 1
      local guard = ARGV[i + 1]
      local stored = current[n]
      if guard == '-' then
        if stored then return 0 end
      elseif not stored or string.sub(stored, 1, #guard) ~= guard then
        -- The guard ends with the state's closing quote, so a prefix match is an exact state match.
        return 0
      end
    end
    chunkStart = chunkEnd + 1
  end
  index = guardEnd + 1
end

-- Every guard holds: write.
local function callInChunks(command, key, first, count, width)
  local last = first + count * width - 1
  local chunkStart = first
  while chunkStart <= last do
    local chunkEnd = math.min(chunkStart + width * CHUNK - 1, last)
    rcall(command, key, unpack(ARGV, chunkStart, chunkEnd))
    chunkStart = chunkEnd + 1
  end
  return last + 1
end

index = callInChunks('HSET', instancesKey, index, writes, 2)
index = callInChunks('HSET', outputsKey, index, outputSets, 2)
index = callInChunks('HDEL', outputsKey, index, outputDeletes, 1)

local newState = ARGV[4]
local newScore = ARGV[5]
if newState ~= '' or newScore ~= '' then
  -- Move the run between the state indexes and re-score it, reading what the patch replaces.
  local prefix = ARGV[1]
  local runId = ARGV[2]
  local old = rcall('HMGET', recordKey, 'state', 'dagId')
  local oldState = old[1] and cjson.decode(old[1])
  local dagId = cjson.decode(old[2])
  local finalState = oldState
  if newState == '-' then finalState = nil elseif newState ~= '' then finalState = cjson.decode(newState) end
  reindexRun(prefix, KEYS[4], runId, dagId, oldState, finalState, newScore ~= '' and newScore or nil)
end

index = callInChunks('HSET', recordKey, index, patchSets, 2)
index = callInChunks('HDEL', recordKey, index, patchDeletes, 1)

-- Stream keys derive from the prefix, as the index keys do (see Redis Cluster in docs/redis-keys.md).
for i = index, index + 4 * events - 1, 4 do
  rcall('XADD', ARGV[1] .. 'stream:' .. ARGV[i], '*', 'type', ARGV[i + 1], 'payload', ARGV[i + 2], 'atMs', ARGV[i + 3])
end

local notice = ARGV[index + 4 * events]
if notice and notice ~= '' then
  local dagIdJson = rcall('HGET', recordKey, 'dagId')
  rcall('PUBLISH', ARGV[1] .. 'changes', '{"dagId":' .. dagIdJson .. ',' .. string.sub(notice, 2))
end
return 1
