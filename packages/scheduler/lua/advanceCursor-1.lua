--[[
  Moves a persisted cursor forward: stores the event id unless the stored one is later, so two
  schedulers advancing the same cursor at once can never move it back.

  Input:
    KEYS[1] cursors hash          batuta:<ns>:cursors
    ARGV[1] cursor name
    ARGV[2] event id              <ms>-<seq> (or <ms>)

  Output:
    1 moved, 0 the stored cursor is already at or past the id
]]
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)-?(%d*)$')
  return tonumber(ms), tonumber(seq ~= '' and seq or '0')
end

local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local currentMs, currentSeq = parts(current)
  local newMs, newSeq = parts(ARGV[2])
  if newMs < currentMs or (newMs == currentMs and newSeq <= currentSeq) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
