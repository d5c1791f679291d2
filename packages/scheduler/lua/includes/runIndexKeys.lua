--[[
  The names of the run indexes, derived in one place so the scripts that write an index and the
  script that reads it cannot disagree. Each is a sorted set of run ids scored -logicalDateMs
  (an ascending range is newest first); the index of every run, <prefix>runs, is a declared KEY.

    <prefix>runs:state:<state>                the runs in one state
    <prefix>runs:dag:<dagId>                  one DAG's runs
    <prefix>runs:dag-state:<state>:<dagId>    one DAG's runs in one state
]]
local function runsByStateKey(prefix, state)
  return prefix .. 'runs:state:' .. state
end

local function runsByDagKey(prefix, dagId)
  return prefix .. 'runs:dag:' .. dagId
end

local function runsByDagAndStateKey(prefix, state, dagId)
  return prefix .. 'runs:dag-state:' .. state .. ':' .. dagId
end
