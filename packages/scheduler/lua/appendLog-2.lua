-- Appends a batch of lines to one attempt's log stream as one entry, within the attempt's and the run's
-- caps. KEYS[1] the run's log meta hash, KEYS[2] the attempt's stream.
-- ARGV[1] attempt id (taskId#mapIndex#try), ARGV[2] max lines per attempt, ARGV[3] max lines per run,
-- ARGV[4] time to live in ms (0: none), ARGV[5] '1' when this is the attempt's last batch,
-- ARGV[6] the number of lines, ARGV[7] their texts joined by newlines, ARGV[8] their stream codes (one
-- character each: o, e, l), ARGV[9] their times: the first atMs, then each line's difference from the
-- line before, comma-separated. Stored as one entry with fields n, m, s, t.
-- Lines past a cap are counted in the meta hash (`<attempt>:d`), not stored. Returns the lines stored.
local meta, stream = KEYS[1], KEYS[2]
local id = ARGV[1]
local maxAttempt = tonumber(ARGV[2])
local maxRun = tonumber(ARGV[3])
local ttlMs = tonumber(ARGV[4])
local count = tonumber(ARGV[6])
local texts, codes, times = ARGV[7], ARGV[8], ARGV[9]

-- The first k items of a `sep`-separated list.
local function firstItems(list, k, sep)
  local from = 1
  for i = 1, k do
    local at = string.find(list, sep, from, true)
    if not at then return list end
    if i == k then return string.sub(list, 1, at - 1) end
    from = at + 1
  end
  return list
end
local stored = tonumber(redis.call('HGET', meta, id .. ':n') or '0')
local total = tonumber(redis.call('HGET', meta, 'total') or '0')
local room = math.min(maxAttempt - stored, maxRun - total)
if room < 0 then room = 0 end
local accepted = math.min(count, room)
if accepted > 0 and accepted < count then
  -- Only at a cap: keep the first lines of the batch.
  texts = firstItems(texts, accepted, '\n')
  codes = string.sub(codes, 1, accepted)
  times = firstItems(times, accepted, ',')
end
if accepted > 0 then
  redis.call('XADD', stream, '*', 'n', accepted, 'm', texts, 's', codes, 't', times)
  redis.call('HINCRBY', meta, id .. ':n', accepted)
  redis.call('HINCRBY', meta, 'total', accepted)
else
  -- Registers the attempt even when nothing is stored, so `tries` lists it.
  redis.call('HINCRBY', meta, id .. ':n', 0)
end
if count > accepted then
  redis.call('HINCRBY', meta, id .. ':d', count - accepted)
end
if ARGV[5] == '1' then
  redis.call('HSET', meta, id .. ':e', '1')
end
if ttlMs > 0 then
  redis.call('PEXPIRE', meta, ttlMs)
  if redis.call('EXISTS', stream) == 1 then redis.call('PEXPIRE', stream, ttlMs) end
end
return accepted
