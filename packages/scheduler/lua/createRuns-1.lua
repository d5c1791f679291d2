--[[
  Creates many DAG runs in one call: each one if no run has its id, indexed as createRun indexes it.
  Each run is judged on its own (idempotent per run); what one call creates is atomic.

  Input:
    KEYS[1] index of all runs     batuta:<ns>:runs

    ARGV[1] key prefix            batuta:<ns>:
    then, per run, five arguments:
      run id, index score (-logicalDateMs), dag id as JSON, state as JSON,
      the record's fields as one text: field \1 JSON value \1 field \1 JSON value …
      (JSON text never holds a raw \1: JSON.stringify escapes every control character)

  Each created run is announced on <prefix>changes: {"runId","dagId","created":true,"runState"}.

  Output: one entry per run, in order
    1                    created
    {field, value…}      a run with this id exists; its record, unchanged
]]
--- @include "includes/indexRun"

local rcall = redis.call
local prefix = ARGV[1]
local out = {}
local i = 2
while i <= #ARGV do
  local runId = ARGV[i]
  local score = ARGV[i + 1]
  local dagId = cjson.decode(ARGV[i + 2])
  local state = cjson.decode(ARGV[i + 3])
  local packed = ARGV[i + 4]
  local recordKey = prefix .. 'run:' .. runId .. ':record'
  if rcall('EXISTS', recordKey) == 1 then
    out[#out + 1] = rcall('HGETALL', recordKey)
  else
    local fields = {}
    local from = 1
    while true do
      local at = string.find(packed, '\1', from, true)
      if not at then
        fields[#fields + 1] = string.sub(packed, from)
        break
      end
      fields[#fields + 1] = string.sub(packed, from, at - 1)
      from = at + 1
    end
    rcall('HSET', recordKey, unpack(fields))
    indexNewRun(prefix, KEYS[1], runId, score, dagId, state)
    rcall('PUBLISH', prefix .. 'changes',
      '{"runId":' .. cjson.encode(runId) .. ',"dagId":' .. ARGV[i + 2] .. ',"created":true,"runState":' .. ARGV[i + 3] .. '}')
    out[#out + 1] = 1
  end
  i = i + 5
end
return out
