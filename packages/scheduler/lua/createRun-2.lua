--[[
  Creates a DAG run if no run has its id, and indexes it; idempotent.

  Input:
    KEYS[1] run record hash       batuta:<ns>:run:<runId>:record
    KEYS[2] index of all runs     batuta:<ns>:runs

    ARGV[1] key prefix            batuta:<ns>:
    ARGV[2] run id
    ARGV[3] index score           -logicalDateMs, as text (ascending score = newest first)
    ARGV[4] dag id as JSON        (decoded here, so every script derives index keys the same way)
    ARGV[5] state as JSON
    ARGV[6...] field, value pairs of the record (each value is the field's JSON)

  A created run is announced on <prefix>changes: {"runId","dagId","created":true,"runState"}.

  Output:
    {1}                  created
    {0, {field, value…}} a run with this id exists; its record, unchanged
]]
--- @include "includes/indexRun"

local rcall = redis.call
local recordKey = KEYS[1]

if rcall('EXISTS', recordKey) == 1 then
  return {0, rcall('HGETALL', recordKey)}
end

local prefix = ARGV[1]
local runId = ARGV[2]
local score = ARGV[3]
local dagId = cjson.decode(ARGV[4])
local state = cjson.decode(ARGV[5])

-- Records have a dozen fields at most, far below unpack's limit.
rcall('HSET', recordKey, unpack(ARGV, 6))
indexNewRun(prefix, KEYS[2], runId, score, dagId, state)
rcall('PUBLISH', prefix .. 'changes',
  '{"runId":' .. cjson.encode(runId) .. ',"dagId":' .. ARGV[4] .. ',"created":true,"runState":' .. ARGV[5] .. '}')
return {1}
