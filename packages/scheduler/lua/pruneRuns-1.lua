--[[
  Removes up to a batch of ended runs, each whole: its record, instances, cells (and packed cells),
  try history, outputs, run lease and every index entry. Only runs in a terminal state (success, failed) are
  candidates; a run goes when its logical date and its end (its creation when it has none) are both
  before the cutoff. Oldest logical date first, equal dates in ascending run id order (as the memory
  store orders them).

  Input:
    KEYS[1] index of all runs     batuta:<ns>:runs

    ARGV[1] key prefix            batuta:<ns>:
    ARGV[2] cutoff in ms          (as text)
    ARGV[3] exclusive min score   '(' .. -cutoff: a score above it is a logical date before the cutoff
    ARGV[4] batch size            at most this many runs
    ARGV[5] '1' dry run (remove nothing), '0' remove
    ARGV[6] DAG id as JSON, or '' for every DAG

  Output:
    one {field, value…} record per run removed (or that a dry run would remove)

  A candidate whose logical date is old but which ended recently (a backfill of old dates) is skipped
  and stays at the front of the index until it is old enough; a scan looks at most 10 × the batch per
  state, so a very large recent backfill of old dates can delay pruning until it ages out.
]]
--- @include "includes/runIndexKeys"

local rcall = redis.call
local prefix = ARGV[1]
local cutoff = tonumber(ARGV[2])
local minScore = ARGV[3]
local limit = tonumber(ARGV[4])
local dryRun = ARGV[5] == '1'
local dagId = ARGV[6] ~= '' and cjson.decode(ARGV[6]) or nil

local candidates = {}
for _, state in ipairs({'success', 'failed'}) do
  local key = dagId and runsByDagAndStateKey(prefix, state, dagId) or runsByStateKey(prefix, state)
  local found = rcall('ZREVRANGEBYSCORE', key, '+inf', minScore, 'WITHSCORES', 'LIMIT', 0, 10 * limit)
  for i = 1, #found, 2 do
    candidates[#candidates + 1] = {runId = found[i], score = tonumber(found[i + 1])}
  end
end
table.sort(candidates, function(a, b)
  if a.score ~= b.score then return a.score > b.score end
  return a.runId < b.runId
end)

local removed = {}
for _, candidate in ipairs(candidates) do
  if #removed >= limit then break end
  local runId = candidate.runId
  local recordKey = prefix .. 'run:' .. runId .. ':record'
  local times = rcall('HMGET', recordKey, 'endMs', 'createdMs')
  local endedMs = tonumber(times[1] or times[2] or '')
  if endedMs and endedMs < cutoff then
    local record = rcall('HGETALL', recordKey)
    removed[#removed + 1] = record
    if not dryRun then
      local fields = rcall('HMGET', recordKey, 'state', 'dagId')
      local state = cjson.decode(fields[1])
      local runDagId = cjson.decode(fields[2])
      rcall('DEL', recordKey, prefix .. 'run:' .. runId .. ':ti', prefix .. 'run:' .. runId .. ':out',
        prefix .. 'run:' .. runId .. ':cells', prefix .. 'run:' .. runId .. ':grid',
        prefix .. 'run:' .. runId .. ':tries', prefix .. 'lease:run:' .. runId)
      rcall('ZREM', KEYS[1], runId)
      rcall('ZREM', runsByStateKey(prefix, state), runId)
      rcall('ZREM', runsByDagKey(prefix, runDagId), runId)
      rcall('ZREM', runsByDagAndStateKey(prefix, state, runDagId), runId)
    end
  end
end
return removed
