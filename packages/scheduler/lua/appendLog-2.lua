-- Appends a batch of lines to one attempt's log stream, within the attempt's and the run's caps.
-- KEYS[1] the run's log meta hash, KEYS[2] the attempt's stream.
-- ARGV[1] attempt id (taskId#mapIndex#try), ARGV[2] max lines per attempt, ARGV[3] max lines per run,
-- ARGV[4] time to live in ms (0: none), ARGV[5] '1' when this is the attempt's last batch,
-- then one triple per line: atMs, stream code (o, e, l), text.
-- Lines past a cap are counted in the meta hash (`<attempt>:d`), not stored. Returns the lines stored.
local meta, stream = KEYS[1], KEYS[2]
local id = ARGV[1]
local maxAttempt = tonumber(ARGV[2])
local maxRun = tonumber(ARGV[3])
local ttlMs = tonumber(ARGV[4])
local count = (#ARGV - 5) / 3
local stored = tonumber(redis.call('HGET', meta, id .. ':n') or '0')
local total = tonumber(redis.call('HGET', meta, 'total') or '0')
local room = math.min(maxAttempt - stored, maxRun - total)
if room < 0 then room = 0 end
local accepted = math.min(count, room)
for i = 0, accepted - 1 do
  local at = 6 + i * 3
  redis.call('XADD', stream, '*', 't', ARGV[at], 's', ARGV[at + 1], 'm', ARGV[at + 2])
end
if accepted > 0 then
  redis.call('HINCRBY', meta, id .. ':n', accepted)
  redis.call('HINCRBY', meta, 'total', accepted)
end
if count > accepted then
  redis.call('HINCRBY', meta, id .. ':d', count - accepted)
end
if ARGV[5] == '1' then
  redis.call('HSET', meta, id .. ':e', '1')
elseif accepted == 0 and count == 0 then
  -- an empty batch still registers the attempt, so `tries` lists an attempt that printed nothing
  redis.call('HINCRBY', meta, id .. ':n', 0)
end
if ttlMs > 0 then
  redis.call('PEXPIRE', meta, ttlMs)
  if redis.call('EXISTS', stream) == 1 then redis.call('PEXPIRE', stream, ttlMs) end
end
return accepted
