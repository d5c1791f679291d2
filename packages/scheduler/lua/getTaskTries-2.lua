--[[
  Reads one task instance and the kept tries of it (ADR 019) in one atomic read, so the current try and
  the history come from the same moment: a try that ended in between is in one of them, never neither.

  Input:
    KEYS[1] task instances hash   batuta:<ns>:run:<runId>:ti    field <taskId>#<mapIndex>
    KEYS[2] try history hash      batuta:<ns>:run:<runId>:tries field <taskId>#<mapIndex>#<tryNumber>

    ARGV[1] instance field        <taskId>#<mapIndex>
    ARGV[2] how many tries back   the history's bound (TASK_TRY_HISTORY_LIMIT)

  Output:
    {instance JSON or false, try JSON…} the kept tries oldest first; a try number the history lacks
    (never ended, or ended before the history existed) is left out
]]
local rcall = redis.call
local field = ARGV[1]
local instance = rcall('HGET', KEYS[1], field)
local reply = {instance}
if not instance then return reply end
-- Tries keep counting through clears, so the instance's try number is the highest the history holds.
local tryNumber = tonumber(cjson.decode(instance).tryNumber) or 0
local limit = tonumber(ARGV[2])
local first = math.max(1, tryNumber - limit + 1)
if tryNumber < first then return reply end
local fields = {}
for n = first, tryNumber do fields[#fields + 1] = field .. '#' .. n end
local found = rcall('HMGET', KEYS[2], unpack(fields))
for i = 1, #found do
  if found[i] then reply[#reply + 1] = found[i] end
end
return reply
