--[[
  Lists runs, newest logical date first, equal dates in ascending run id (byte) order, with their
  records, in one atomic read: a listed run's record is the one that matched the filter.

  Input:
    KEYS[1] index of all runs     batuta:<ns>:runs

    ARGV[1] key prefix            batuta:<ns>:
    ARGV[2] at most this many runs; -1 for all
    ARGV[3] '1' to list one DAG's runs, '0' for every DAG
    ARGV[4] the dag id as JSON (when ARGV[3] is '1')
    ARGV[5] '' for the first page, or the cursor's score (-logicalDateMs) to list only the runs after it
    ARGV[6] the cursor's run id (when ARGV[5] is not '')
    ARGV[7...] states as JSON to keep; none for every state

  Output:
    { {field, value…}, … } one record per run, in order
]]
--- @include "includes/runIndexKeys"

local rcall = redis.call
local prefix = ARGV[1]
local limit = tonumber(ARGV[2])
local dagId = ARGV[3] == '1' and cjson.decode(ARGV[4]) or nil
local afterScore = ARGV[5] ~= '' and tonumber(ARGV[5]) or nil
local afterRunId = ARGV[6]
local FIRST_STATE = 7

-- Each index scores a run -logicalDateMs, so an ascending range is newest first and Redis orders
-- equal scores by member bytes, i.e. by run id.
local sources = {}
if #ARGV < FIRST_STATE then
  sources[1] = dagId and runsByDagKey(prefix, dagId) or KEYS[1]
else
  for i = FIRST_STATE, #ARGV do
    local state = cjson.decode(ARGV[i])
    if dagId then
      sources[#sources + 1] = runsByDagAndStateKey(prefix, state, dagId)
    else
      sources[#sources + 1] = runsByStateKey(prefix, state)
    end
  end
end

-- Byte order, as Redis orders members (Lua's own string comparison follows the server's locale).
local function bytesBefore(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- The first `limit` entries of one index as a flat {member, score, …} list: from the start, or after
-- the cursor. After a cursor, the runs that share its score (one logical date: few) are read whole and
-- the ones with a greater id kept; the rest come from the scores beyond it. The cursor's run need not
-- be in the index any more.
local function page(source)
  if not afterScore then
    return rcall('ZRANGE', source, 0, limit < 0 and -1 or limit - 1, 'WITHSCORES')
  end
  local flat = {}
  local tied = rcall('ZRANGEBYSCORE', source, ARGV[5], ARGV[5], 'WITHSCORES')
  for i = 1, #tied, 2 do
    if (limit < 0 or #flat < 2 * limit) and bytesBefore(afterRunId, tied[i]) then
      flat[#flat + 1] = tied[i]
      flat[#flat + 1] = tied[i + 1]
    end
  end
  local rest
  if limit < 0 then
    rest = rcall('ZRANGEBYSCORE', source, '(' .. ARGV[5], '+inf', 'WITHSCORES')
  elseif #flat < 2 * limit then
    rest = rcall('ZRANGEBYSCORE', source, '(' .. ARGV[5], '+inf', 'WITHSCORES', 'LIMIT', 0, limit - #flat / 2)
  else
    rest = {}
  end
  for i = 1, #rest do flat[#flat + 1] = rest[i] end
  return flat
end

local runIds
if #sources == 1 then
  local flat = page(sources[1])
  runIds = {}
  for i = 1, #flat, 2 do runIds[#runIds + 1] = flat[i] end
else
  -- States are disjoint: merge the first `limit` runs of each state's index.
  local entries = {}
  for _, source in ipairs(sources) do
    local flat = page(source)
    for i = 1, #flat, 2 do
      entries[#entries + 1] = {flat[i], tonumber(flat[i + 1])}
    end
  end
  table.sort(entries, function(a, b)
    if a[2] ~= b[2] then return a[2] < b[2] end
    return bytesBefore(a[1], b[1])
  end)
  runIds = {}
  local count = #entries
  if limit >= 0 and limit < count then count = limit end
  for i = 1, count do runIds[i] = entries[i][1] end
end

local records = {}
for i, runId in ipairs(runIds) do
  records[i] = rcall('HGETALL', prefix .. 'run:' .. runId .. ':record')
end
return records
