--[[
  Applies one transition to a run: every guard is checked first, then every write is made, so a
  transition is applied whole or (when a guard fails) not at all. Nothing below can fail halfway:
  the caller validated and encoded every value before calling.

  Input:
    KEYS[1] run record hash       batuta:<ns>:run:<runId>:record
    KEYS[2] task instances hash   batuta:<ns>:run:<runId>:ti    field <taskId>#<mapIndex>
    KEYS[3] task outputs hash     batuta:<ns>:run:<runId>:out   field <taskId>#<mapIndex>
    KEYS[4] index of all runs     batuta:<ns>:runs
    KEYS[5] task cells hash       batuta:<ns>:run:<runId>:cells field <taskId>#<mapIndex>
    KEYS[6] packed cells          batuta:<ns>:run:<runId>:grid  (built by getRunCells-0.lua)
    KEYS[7] try history hash      batuta:<ns>:run:<runId>:tries field <taskId>#<mapIndex>#<tryNumber>

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
    ARGV[13] number of ended tries         T
    ARGV[14...] then, in this order:
      G pairs  field, guard  where guard is '-' (the instance must be absent) or the prefix
               '{"state":<JSON state>' that the stored instance JSON must start with
      W pairs  field, instance JSON (JSON with "state" as its first property)
      W        the cell of each written instance, in the same order: '<state>,<tryNumber>'
      S pairs  field, output JSON
      D        fields
      P pairs  run field, JSON value
      R        run fields
      E quads  stream name, type, payload JSON, atMs JSON  (appended to <prefix>stream:<name>, in order)
      T triples  try field, try JSON, the field of the try that falls out of the history ('' for none)
      notice   the change notice as a JSON object without its dagId, or '' for none; published on
               <prefix>changes with the run's dagId put first

  Output:
    1 applied, 0 a guard failed or the run does not exist (nothing written)

  A try's history entry is written here, with the instance write that ends the try, so no crash can
  keep one without the other (ADR 019). HSETNX: a try ends once; a later mark of the same try leaves
  the entry as the try ended. The history keeps the newest 100 tries of an instance.

  The cells hash is the instances hash reduced to what a grid shows (state and try), written here with
  the instances so the two never disagree. A run whose instances were written before the cells existed
  (an older Batuta) gets its cells from its instances on its first instance write here.
]]
--- @include "includes/indexRun"

-- XADD with an automatic id is not deterministic: Redis 6.2 replicates such a script by its effects
-- only when asked (7.0 always does, and keeps the function as a no-op).
if redis.replicate_commands then redis.replicate_commands() end

local rcall = redis.call
local recordKey, instancesKey, outputsKey, cellsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[5]

-- Redis passes at most a few thousand values through unpack; write in chunks below that.
local CHUNK = 1000

local guards = tonumber(ARGV[6])
local writes = tonumber(ARGV[7])
local outputSets = tonumber(ARGV[8])
local outputDeletes = tonumber(ARGV[9])
local patchSets = tonumber(ARGV[10])
local patchDeletes = tonumber(ARGV[11])
local events = tonumber(ARGV[12])
local endedTries = tonumber(ARGV[13])

-- Guards: the run, then every instance, all against the state before this transition.
local expectedRunState = ARGV[3]
if expectedRunState == '' then
  if rcall('EXISTS', recordKey) == 0 then return 0 end
elseif rcall('HGET', recordKey, 'state') ~= expectedRunState then
  return 0
end

local index = 14
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

if writes > 0 and rcall('EXISTS', cellsKey) == 0 and rcall('EXISTS', instancesKey) == 1 then
  -- Instances from before the cells: derive their cells once, so the hash covers every instance.
  -- Everything is decoded before the first write, so a decoding error cannot leave half a hash.
  local stored = rcall('HGETALL', instancesKey)
  local derived = {}
  for i = 1, #stored, 2 do
    local record = cjson.decode(stored[i + 1])
    derived[#derived + 1] = stored[i]
    derived[#derived + 1] = tostring(record.state) .. ',' .. tostring(record.tryNumber or 0)
  end
  for first = 1, #derived, 2 * CHUNK do
    rcall('HSET', cellsKey, unpack(derived, first, math.min(first + 2 * CHUNK - 1, #derived)))
  end
end

if writes > 0 then
  -- The packed cells a grid read built (getRunCells-0.lua) are out of date now.
  rcall('DEL', KEYS[6])
end

local instancesStart = index
index = callInChunks('HSET', instancesKey, index, writes, 2)
-- The cells of the instances just written: fields from the instance pairs, values from the cell block.
local cellChunkStart = 0
while cellChunkStart < writes do
  local cellChunkEnd = math.min(cellChunkStart + CHUNK, writes) - 1
  local cells = {}
  for k = cellChunkStart, cellChunkEnd do
    cells[#cells + 1] = ARGV[instancesStart + 2 * k]
    cells[#cells + 1] = ARGV[index + k]
  end
  rcall('HSET', cellsKey, unpack(cells))
  cellChunkStart = cellChunkEnd + 1
end
index = index + writes
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

index = index + 4 * events
for i = index, index + 3 * endedTries - 1, 3 do
  rcall('HSETNX', KEYS[7], ARGV[i], ARGV[i + 1])
  if ARGV[i + 2] ~= '' then rcall('HDEL', KEYS[7], ARGV[i + 2]) end
end
index = index + 3 * endedTries

local notice = ARGV[index]
if notice and notice ~= '' then
  local dagIdJson = rcall('HGET', recordKey, 'dagId')
  rcall('PUBLISH', ARGV[1] .. 'changes', '{"dagId":' .. dagIdJson .. ',' .. string.sub(notice, 2))
end
return 1
